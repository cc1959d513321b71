import { createHash } from 'node:crypto';
import {
  GetSecretValueCommand,
  InvalidParameterException,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { type TokenSet, tokenSetFields, tokenSetOf } from '../oauth/TokenSet.ts';
import type { StoredTokens, TokenStore } from '../oauth/TokenStore.ts';

/** Fields of the secret that the tokens own; every other field (clientId, tenantId…) is kept as is. */
const TOKEN_FIELDS = new Set(['accessToken', 'refreshToken', 'expiresAt', 'scope', 'token']);

/**
 * A connection's rotating tokens in its Secrets Manager secret. A read is GetSecretValue of
 * AWSCURRENT (never a cache: the tokens move every half hour). A write is two calls that make a
 * compare-and-swap: PutSecretValue of a new version labelled AWSPENDING (its ClientRequestToken
 * derived from the new refresh token, so a retried put is the same version), then
 * UpdateSecretVersionStage moving AWSCURRENT to it FROM the version the tokens were refreshed from
 * (RemoveFromVersionId): Secrets Manager refuses the move when AWSCURRENT is no longer there, so a
 * writer whose lease lapsed cannot overwrite newer tokens. Moving AWSCURRENT leaves AWSPREVIOUS on
 * the version it left: the previous tokens stay readable.
 */
export class SecretsManagerTokenStore implements TokenStore {
  private readonly client: SecretsManagerClient;
  private readonly secretId: string;

  public constructor(client: SecretsManagerClient, secretId: string) {
    this.client = client;
    this.secretId = secretId;
  }

  public async read(): Promise<StoredTokens> {
    const out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    const parsed = JSON.parse(out.SecretString ?? '{}') as Record<string, unknown>;
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') all[k] = v;
    const tokens = tokenSetOf(all);
    if (!tokens || !out.VersionId) {
      throw new Error(
        `the secret ${this.secretId} holds no refreshToken: connect the account with \`writeback connect\``,
      );
    }
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(all)) if (!TOKEN_FIELDS.has(k)) fields[k] = v;
    return { tokens, version: out.VersionId, fields };
  }

  public async replace(basedOn: StoredTokens, next: TokenSet): Promise<boolean> {
    const versionId = versionIdFor(next);
    await this.client.send(
      new PutSecretValueCommand({
        SecretId: this.secretId,
        SecretString: JSON.stringify(tokenSetFields(next, basedOn.fields)),
        ClientRequestToken: versionId,
        VersionStages: ['AWSPENDING'],
      }),
    );
    try {
      await this.client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: this.secretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: versionId,
          RemoveFromVersionId: basedOn.version,
        }),
      );
      return true;
    } catch (err) {
      // "Version stage AWSCURRENT not found in version <ours>": another writer stored newer tokens.
      if (err instanceof InvalidParameterException) return false;
      throw err;
    }
  }
}

/** A version id (Secrets Manager takes 32–64 characters) that is the same for the same token set. */
function versionIdFor(tokens: TokenSet): string {
  const h = createHash('sha256')
    .update(tokens.refreshToken)
    .update('\0')
    .update(tokens.accessToken)
    .digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerTokenStore } from '../shared/aws/SecretsManagerTokenStore.ts';
import type { Connector } from '../shared/connectors/Connector.ts';
import { type ConnectionCredentials, credentialsFromSecret } from '../shared/connectors/createConnector.ts';
import { describeError, WritebackError } from '../shared/errors.ts';
import type { TokenRotationPorts } from '../shared/oauth/TokenRotationPorts.ts';
import { DynamoRefreshLease } from '../shared/state/DynamoRefreshLease.ts';
import { RenewableConnection } from '../shared/write/RenewableConnection.ts';

/**
 * How long a container uses a secret it read before reading it again (Powertools Parameters'
 * `maxAge`): a rotated secret reaches every container within this, without a refused call. A
 * refused call re-reads at once (`forceFetch`, see RenewableConnection).
 */
export const SECRET_MAX_AGE_SECONDS = 300;

/** Reads a secret's fields; `fresh` skips the cache. */
export type SecretReader = (
  secretId: string,
  opts?: { readonly fresh?: boolean },
) => Promise<Record<string, string>>;

/**
 * A reader of Secrets Manager secrets through Powertools Parameters (cached per container for
 * SECRET_MAX_AGE_SECONDS). A secret is RDS-style JSON ({host, port, username, password, dbname}),
 * {url}, {token}, or a plain string (`{ value }`). A secret that cannot be read is
 * WB_SECRET_UNREADABLE, naming the secret and the reason, never its content.
 */
export function secretReader(provider?: SecretsProvider): SecretReader {
  let secrets = provider;
  return async (secretId, opts = {}) => {
    secrets ??= new SecretsProvider({ awsSdkV3Client: secretsManagerClient() });
    let value: string | Uint8Array | undefined;
    try {
      value = await secrets.get(secretId, {
        maxAge: SECRET_MAX_AGE_SECONDS,
        ...(opts.fresh ? { forceFetch: true } : {}),
      });
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause ?? err;
      throw new WritebackError(
        'WB_SECRET_UNREADABLE',
        `the secret ${secretId} could not be read: ${describeError(cause).message}`,
        { cause: err },
      );
    }
    const text = typeof value === 'string' ? value : value ? new TextDecoder().decode(value) : '';
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null) return parsed as Record<string, string>;
    } catch {
      // Not JSON: a plain-text secret.
    }
    return { value: text };
  };
}

let client: SecretsManagerClient | undefined;

/** The container's one Secrets Manager client (the reader's and the token store's). */
function secretsManagerClient(): SecretsManagerClient {
  client ??= new SecretsManagerClient({});
  return client;
}

/**
 * Where an OAuth 2.0 connection's rotating tokens go (its secret: read past the cache, written as
 * a new version before use) and the lease that lets one writer of the connection refresh them at a
 * time (one item of the state table). Connectors that hold no refresh token ignore them.
 */
export function tokenRotation(opts: {
  readonly secretId: string;
  readonly ddb: DynamoDBClient;
  readonly stateTable: string;
  readonly connection: string;
}): TokenRotationPorts {
  return {
    store: new SecretsManagerTokenStore(secretsManagerClient(), opts.secretId),
    lease: new DynamoRefreshLease(opts.ddb, opts.stateTable, opts.connection),
  };
}

/**
 * A sync's connector from a connection secret, rebuilt when the secret changes: read with the
 * cache's time to live before each batch, and at once when the target refuses the credentials.
 * `name` is what the operator is told to update (the config's secret name, else the ARN).
 */
export function connectionFromSecret(opts: {
  readonly name: string;
  readonly secretId: string;
  readonly read: SecretReader;
  readonly build: (creds: ConnectionCredentials) => Connector;
  readonly initial?: { readonly creds: ConnectionCredentials; readonly connector: Connector };
}): RenewableConnection {
  return new RenewableConnection({
    name: opts.name,
    read: async ({ fresh }) => credentialsFromSecret(await opts.read(opts.secretId, { fresh })),
    build: opts.build,
    ...(opts.initial ? { initial: opts.initial } : {}),
  });
}

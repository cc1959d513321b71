import {
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSecretsManager } from '../../../local/aws/LocalSecretsManager.ts';
import {
  startXeroFake,
  XERO_FAKE_PKCE_CLIENT_ID,
  type XeroFake,
} from '../../../local/fakes/xero/XeroFake.ts';
import { SecretsManagerTokenStore } from '../../../shared/aws/SecretsManagerTokenStore.ts';
import { isAuthRefusal, needsReconnect } from '../../../shared/connectors/authErrors.ts';
import { credentialsFromSecret } from '../../../shared/connectors/ConnectionCredentials.ts';
import { createConnector } from '../../../shared/connectors/createConnector.ts';
import { DynamoRefreshLease } from '../../../shared/state/DynamoRefreshLease.ts';
import { type EmulatorFixture, startEmulatorFixture } from '../../helpers/emulatorFixture.ts';
import { connectXeroFake, xeroContactsConfig } from '../../helpers/xeroConnect.ts';

const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'not-a-secret' };
const TTL_SECONDS = 2;

const config = xeroContactsConfig;
const sync = config.syncs[0]!;

/**
 * The rotation protocol on its real adapters: tokens in a Secrets Manager secret (the local one,
 * through the SDK), the refresh lease on the state table (a DynamoDB emulator), Xero's rotating
 * refresh tokens at the fake. Several connectors, each its own "container", write at once across
 * access-token expiries of two seconds.
 */
describe('Rotating Xero tokens on Secrets Manager and a DynamoDB lease', () => {
  let fake: XeroFake;
  let sm: LocalSecretsManager;
  let client: SecretsManagerClient;
  let fx: EmulatorFixture;
  let secretId = 'writeback/xero';
  let n = 0;

  /** `writeback connect` in short: an authorization code exchanged, the secret written. */
  const connect = (name: string): Promise<string> => connectXeroFake(fake, client, name);

  /** One writer container: its own connector, reading the secret as it stands, sharing store and lease. */
  async function container() {
    const read = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    const creds = credentialsFromSecret(JSON.parse(read.SecretString!) as Record<string, string>);
    return createConnector(sync, config.connections.xero!, creds, {
      pace: false,
      tokenRotation: {
        store: new SecretsManagerTokenStore(client, secretId),
        lease: new DynamoRefreshLease(fx.aws.ddb, fx.resources.stateTable, `xero-${secretId}`),
        refreshMarginMs: 500,
      },
    });
  }

  beforeAll(async () => {
    [fake, fx] = await Promise.all([
      startXeroFake({ rateLimit: false, tokenTtlSeconds: TTL_SECONDS }),
      startEmulatorFixture(),
    ]);
    sm = new LocalSecretsManager({ region: 'eu-west-1', accountId: '111122223333' });
    client = new SecretsManagerClient({ endpoint: await sm.start(), region: 'eu-west-1', credentials });
  });
  afterAll(async () => {
    client?.destroy();
    await Promise.all([fake?.stop(), sm?.stop(), fx?.stop()]);
  });

  it('refreshes exactly once per expiry with four writers at once, each new token set stored before use', async () => {
    // Prepare
    secretId = await connect('writeback/xero-a');
    const writers = await Promise.all([container(), container(), container(), container()]);
    const before = fake.oauthStats();
    const started = Date.now();
    // Act: every writer writes one contact after another until three token lifetimes have been
    // renewed (the fake counts the refreshes), or 20 s have passed (then the assertions say why)
    const renewed = () => fake.oauthStats().refreshes - before.refreshes >= 3;
    const results = await Promise.all(
      writers.map(async (w) => {
        const out = [];
        while (!renewed() && Date.now() - started < 20_000) {
          n++;
          out.push(
            ...(await w.upsertBatch('Contacts', [
              {
                key: `k${n}`,
                externalId: `c${n}`,
                idempotencyKey: `contacts:k${n}`,
                payload: { Name: `C ${n}` },
              },
            ])),
          );
        }
        return out;
      }),
    );
    const elapsed = Date.now() - started;
    // Assess
    const stats = fake.oauthStats();
    const refreshes = stats.refreshes - before.refreshes;
    const failed = results.flat().filter((r) => !r.ok);
    expect(failed).toEqual([]);
    expect(stats.invalidGrants).toBe(before.invalidGrants);
    expect(stats.graceRetries).toBe(before.graceRetries);
    // One refresh per token lifetime: renewed 0.5 s before its 2 s are up, so every 1.5 s or more.
    expect(refreshes).toBeGreaterThanOrEqual(3);
    expect(refreshes).toBeLessThanOrEqual(Math.ceil(elapsed / 1_500));
    const at = stats.refreshLog.slice(-refreshes).map((r) => r.at);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(1_400);
    // Each refresh used the refresh token the previous one issued: one generation after another.
    expect(stats.refreshLog.slice(-refreshes).map((r) => r.generation)).toEqual(
      Array.from({ length: refreshes }, (_, i) => i),
    );
    const versions = await client.send(
      new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true }),
    );
    expect(versions.Versions!.filter((v) => v.VersionStages?.includes('AWSCURRENT'))).toHaveLength(1);
    expect(versions.Versions!.filter((v) => v.VersionStages?.includes('AWSPREVIOUS'))).toHaveLength(1);
    expect(versions.Versions!.length).toBe(refreshes + 1);
  }, 30_000);

  it('keeps the previous token set as AWSPREVIOUS and the other fields of the secret', async () => {
    const current = JSON.parse(
      (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString!,
    ) as Record<string, string>;
    const previous = JSON.parse(
      (await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSPREVIOUS' })))
        .SecretString!,
    ) as Record<string, string>;
    expect(current.refreshToken).not.toBe(previous.refreshToken);
    expect(current).toMatchObject({
      clientId: XERO_FAKE_PKCE_CLIENT_ID,
      tenantId: fake.tenantId,
      baseUrl: fake.url,
    });
    expect(Date.parse(current.expiresAt!)).toBeGreaterThan(Date.parse(previous.expiresAt!));
  });

  it('refuses to replace tokens from a version that is no longer current (compare and swap)', async () => {
    // Prepare
    const store = new SecretsManagerTokenStore(client, secretId);
    const stale = await store.read();
    const next = { accessToken: 'a2', refreshToken: 'r2', expiresAt: Date.now() + 60_000 };
    // Act
    const first = await store.replace(stale, next);
    const second = await store.replace(stale, { ...next, accessToken: 'a3', refreshToken: 'r3' });
    // Assess
    expect(first).toBe(true);
    expect(second).toBe(false);
    expect((await store.read()).tokens.refreshToken).toBe('r2');
  });

  it('gives the refresh lease to one holder at a time, to another once it expires, released only by its holder', async () => {
    let now = 1_000;
    const lease = new DynamoRefreshLease(fx.aws.ddb, fx.resources.stateTable, 'lease-test', () => now);
    expect(await lease.acquire('a', 1_000)).toBe(true);
    expect(await lease.acquire('b', 1_000)).toBe(false);
    await lease.release('b');
    expect(await lease.acquire('b', 1_000)).toBe(false);
    now += 1_001;
    expect(await lease.acquire('b', 1_000)).toBe(true);
    await lease.release('a');
    expect(await lease.acquire('a', 1_000)).toBe(false);
    await lease.release('b');
    expect(await lease.acquire('a', 1_000)).toBe(true);
  });

  it('reports a revoked connection as XERO_INVALID_GRANT, an auth refusal that asks for a reconnect', async () => {
    // Prepare
    secretId = await connect('writeback/xero-b');
    const writer = await container();
    fake.revokeOAuth();
    // Act
    const [result] = await writer.upsertBatch('Contacts', [
      { key: 'r1', externalId: 'r1', idempotencyKey: 'contacts:r1', payload: { Name: 'R' } },
    ]);
    // Assess
    expect(result!.ok).toBe(false);
    const error = !result!.ok ? result!.error : undefined;
    expect(error?.code).toBe('XERO_INVALID_GRANT');
    expect(isAuthRefusal(error)).toBe(true);
    expect(needsReconnect(error)).toBe(true);
    expect(error?.message).toMatch(/writeback connect xero/);
  });
});

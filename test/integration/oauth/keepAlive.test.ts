import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishMetrics } from '../../../functions/runMetrics.ts';
import { connectionFromSecret } from '../../../functions/secrets.ts';
import { createWriteHandler, type KeepAliveEvent } from '../../../functions/write.ts';
import { LocalSecretsManager } from '../../../local/aws/LocalSecretsManager.ts';
import { startXeroFake, type XeroFake } from '../../../local/fakes/xero/XeroFake.ts';
import { SecretsManagerTokenStore } from '../../../shared/aws/SecretsManagerTokenStore.ts';
import { credentialsFromSecret } from '../../../shared/connectors/ConnectionCredentials.ts';
import { createConnector } from '../../../shared/connectors/createConnector.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE, WRITE_METRICS } from '../../../shared/contracts/metricNames.ts';
import { DynamoRefreshLease } from '../../../shared/state/DynamoRefreshLease.ts';
import { SqsDeadLetterSink } from '../../../shared/write/DeadLetterSink.ts';
import { captureEmf, emfMetrics } from '../../helpers/emf.ts';
import { type EmulatorFixture, startEmulatorFixture } from '../../helpers/emulatorFixture.ts';
import { connectXeroFake, xeroContactsConfig } from '../../helpers/xeroConnect.ts';

const DAY = 86_400_000;
const config = xeroContactsConfig;
const sync = config.syncs[0]!;
const context = {
  functionName: 'Writeback-SyncContactsWriteFunction',
  awsRequestId: 'keep-alive',
  getRemainingTimeInMillis: () => 60_000,
} as Context;
const event: KeepAliveEvent = { keepAlive: { sync: 'contacts', connection: 'xero' } };

/**
 * The weekly keep-alive of a Xero connection (functions/write.ts, shared/write/keepConnectionAlive.ts)
 * against the Xero fake, whose refresh tokens expire after 60 days unused, on a simulated clock:
 * tokens in a (local) Secrets Manager secret, the refresh lease in the state table, the write
 * handler invoked with the schedule's event.
 */
describe('Keep-alive of a connection on rotating Xero tokens', () => {
  let fake: XeroFake;
  let sm: LocalSecretsManager;
  let client: SecretsManagerClient;
  let fx: EmulatorFixture;
  let clock = Date.parse('2026-01-01T00:00:00Z');

  /** `writeback connect` in short: an authorization code exchanged, the secret written. */
  const connect = (): Promise<string> =>
    connectXeroFake(
      fake,
      client,
      `writeback/xero-${randomUUID().slice(0, 8)}`,
      'offline_access accounting.contacts',
    );

  /** A write function's container for the secret, as functions/awsDeps.ts builds it. */
  async function writeFunction(secretId: string) {
    const read = async (id: string) =>
      JSON.parse((await client.send(new GetSecretValueCommand({ SecretId: id }))).SecretString!) as Record<
        string,
        string
      >;
    const build = (creds: ReturnType<typeof credentialsFromSecret>) =>
      createConnector(sync, config.connections.xero!, creds, {
        pace: false,
        tokenRotation: {
          store: new SecretsManagerTokenStore(client, secretId),
          lease: new DynamoRefreshLease(fx.aws.ddb, fx.resources.stateTable, `xero-${secretId}`),
          // The fake's clock runs ahead of this process's: every token counts as due for renewal.
          refreshMarginMs: 2 * 3_600_000,
        },
      });
    const creds = credentialsFromSecret(await read(secretId));
    const connector = build(creds);
    const credentials = connectionFromSecret({
      name: secretId,
      secretId,
      read,
      build,
      initial: { creds, connector },
    });
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
    const handler = createWriteHandler(
      async () => ({
        config,
        logger: new Logger({ logLevel: 'SILENT' }),
        syncForSource: () => sync.name,
        depsFor: () => ({
          links: fx.links,
          connector,
          credentials,
          deadLetters: new SqsDeadLetterSink(fx.aws.sqs, 'http://unused'),
          delay: async () => undefined,
          now: () => clock,
          newToken: randomUUID,
        }),
      }),
      { metrics },
    ).use(publishMetrics(metrics));
    return { connector, invoke: () => handler(event, context) };
  }

  beforeAll(async () => {
    [fake, fx] = await Promise.all([
      startXeroFake({ rateLimit: false, tokenTtlSeconds: 3600, now: () => clock }),
      startEmulatorFixture(),
    ]);
    sm = new LocalSecretsManager({ region: 'eu-west-1', accountId: '111122223333' });
    client = new SecretsManagerClient({
      endpoint: await sm.start(),
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'not-a-secret' },
    });
  });
  afterAll(async () => {
    client?.destroy();
    await Promise.all([fake?.stop(), sm?.stop(), fx?.stop()]);
  });

  it('keeps a connection alive through 70 days without a write: weekly, each rotating the refresh token', async () => {
    // Prepare
    const secretId = await connect();
    const fn = await writeFunction(secretId);
    const before = fake.oauthStats();
    const firstToken = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
    // Act: the schedule fires every 7 days
    const outcomes = [];
    for (let week = 1; week <= 10; week++) {
      clock += 7 * DAY;
      outcomes.push(await fn.invoke());
    }
    // Assess: each renewed the tokens, none refused; and a record is written on day 70
    expect(outcomes).toEqual(Array.from({ length: 10 }, () => ({ outcome: 'kept' })));
    expect(fake.oauthStats().refreshes - before.refreshes).toBe(10);
    expect(fake.oauthStats().invalidGrants).toBe(before.invalidGrants);
    expect((await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString).not.toBe(
      firstToken,
    );
    const [written] = await fn.connector.upsertBatch('Contacts', [
      { key: 'k1', externalId: 'c1', idempotencyKey: 'contacts:k1', payload: { Name: 'Day 70' } },
    ]);
    expect(written).toMatchObject({ ok: true });
  });

  it('without it, the connection is dead after 60 days unused (what the keep-alive prevents)', async () => {
    // Prepare
    const secretId = await connect();
    const fn = await writeFunction(secretId);
    clock += 61 * DAY;
    // Act
    const [result] = await fn.connector
      .upsertBatch('Contacts', [
        { key: 'k2', externalId: 'c2', idempotencyKey: 'contacts:k2', payload: { Name: 'Day 61' } },
      ])
      .catch((err: { code: string }) => [{ ok: false, error: { code: err.code } }]);
    // Assess
    expect(result).toMatchObject({ ok: false, error: { code: 'XERO_INVALID_GRANT' } });
  });

  it("a revoked connection opens the sync's auth outage and publishes AuthFailures, before any record waits", async () => {
    // Prepare
    const secretId = await connect();
    const fn = await writeFunction(secretId);
    fake.revokeOAuth();
    clock += 7 * DAY;
    // Act
    let outcome: unknown;
    const emf = await captureEmf(async () => {
      outcome = await fn.invoke();
    });
    // Assess
    expect(outcome).toMatchObject({ outcome: 'refused', code: 'XERO_INVALID_GRANT' });
    expect((await fx.links.health.readGate(sync.name)).auth).toMatchObject({
      code: 'XERO_INVALID_GRANT',
      connection: 'xero',
      secret: secretId,
    });
    expect(Object.fromEntries(emfMetrics(emf).map((m) => [m.name, m.value]))).toEqual({
      [WRITE_METRICS.authFailures]: 1,
    });
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { ListSecretVersionIdsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectionFromSecret, secretReader } from '../../functions/secrets.ts';
import { LocalSecretsManager } from '../../local/aws/LocalSecretsManager.ts';
import {
  startXeroFake,
  XERO_FAKE_CLIENT_ID,
  XERO_FAKE_CLIENT_SECRET,
  type XeroFake,
} from '../../local/fakes/xero/XeroFake.ts';
import { LocalStack } from '../../local/LocalStack.ts';
import { SecretsManagerTokenStore } from '../../shared/aws/SecretsManagerTokenStore.ts';
import { loadConfigFile } from '../../shared/config/loadConfig.ts';
import type { WritebackConfig } from '../../shared/config/schema.ts';
import { createConnector } from '../../shared/connectors/createConnector.ts';
import { syncStatus } from '../../shared/ops/status.ts';
import { DynamoRefreshLease } from '../../shared/state/DynamoRefreshLease.ts';
import type { RenewableConnection } from '../../shared/write/RenewableConnection.ts';
import { localOpsContext } from '../helpers/localOpsContext.ts';
import { browseWhenPrinted, startCli, writeConnectConfig } from './connectHelpers.ts';

const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'not-a-secret' };
/** Access tokens live 3 s at the fake; writers renew them 1 s before: one refresh every 2 s. */
const TTL_SECONDS = 3;
const MARGIN_MS = 1_000;
/** Writer "containers": each its own secret cache, connector and token, as Lambda gives each its own. */
const CONTAINERS = 4;
const ROWS = 240;
const MINUTE = 60_000;

/**
 * Issue 16's done-when, end to end: `writeback connect xero --stack` run as a process against the
 * Xero fake (the test plays the browser), then a sync on the credentials it stored, through the
 * real write handler, with four writer containers sharing the secret (LocalSecretsManager, read
 * through Powertools as on AWS) and the refresh lease (DynamoDB), across several access-token
 * expiries. Then the user revokes the app: the sync pauses with what to do, nothing is
 * dead-lettered, and after `writeback connect` again the backlog drains.
 */
describe('writeback connect xero, then a sync across token expiries with concurrent writers', () => {
  let dir: string;
  let fake: XeroFake;
  let sm: LocalSecretsManager;
  let endpoint: string;
  let client: SecretsManagerClient;
  let stack: LocalStack;
  let config: WritebackConfig;
  let configPath: string;
  let offset = 0;
  let containers: RenewableConnection[] = [];
  let turn = 0;

  /** `writeback connect xero --stack writeback` as a user runs it, the test playing the browser. */
  async function connectAsUser(): Promise<{ code: number; output: string }> {
    const cli = startCli(
      [
        '-c',
        configPath,
        '--stack',
        'writeback',
        '--region',
        'eu-west-1',
        'connect',
        'xero',
        '--client-id',
        XERO_FAKE_CLIENT_ID,
      ],
      {
        WRITEBACK_CLIENT_SECRET: XERO_FAKE_CLIENT_SECRET,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      },
    );
    const { page } = await browseWhenPrinted(cli);
    expect(page.status).toBe(200);
    return { code: await cli.exit, output: cli.output() };
  }

  /** A writer container as functions/awsDeps.ts builds one: the secret read through Powertools, token rotation wired. */
  function container(): RenewableConnection {
    const sync = config.syncs.find((s) => s.name === 'customers')!;
    const connection = config.connections.xero!;
    const read = secretReader(new SecretsProvider({ awsSdkV3Client: client }));
    return connectionFromSecret({
      name: 'writeback/xero',
      secretId: 'writeback/xero',
      read,
      build: (creds) =>
        createConnector(sync, connection, creds, {
          // The fake's limits are off: our pacing would only turn the refused retries into 429s of our own.
          pace: false,
          tokenRotation: {
            store: new SecretsManagerTokenStore(client, 'writeback/xero'),
            lease: new DynamoRefreshLease(stack.aws.ddb, stack.resources.stateTable, 'xero'),
            refreshMarginMs: MARGIN_MS,
          },
        }),
    });
  }

  async function secretVersions(): Promise<number> {
    const out = await client.send(
      new ListSecretVersionIdsCommand({ SecretId: 'writeback/xero', IncludeDeprecated: true }),
    );
    return out.Versions!.length;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wb-connect-sync-'));
    fake = await startXeroFake({ rateLimit: false, tokenTtlSeconds: TTL_SECONDS });
    sm = new LocalSecretsManager({ region: 'eu-west-1', accountId: '111122223333' });
    endpoint = await sm.start();
    client = new SecretsManagerClient({ endpoint, region: 'eu-west-1', credentials });
    configPath = writeConnectConfig(dir, 'sync', {
      xeroUrl: fake.url,
      invoices: false,
      batchSize: 5,
      concurrency: CONTAINERS,
      // The writer's own budget is 3 deliveries: a refused record is parked on its third.
      maxReceiveCount: 5,
    });
    config = await loadConfigFile(configPath);
    stack = await LocalStack.start({
      config,
      now: () => Date.now() + offset,
      // Each invocation runs in the next container, round robin.
      writeOptions: () => ({
        credentials: containers[turn++ % containers.length]!,
        authBackoffSeconds: 1,
        backoff: () => 0,
      }),
    });
    await stack.dwh`create schema src`;
    await stack.dwh`create table src.customers (id int primary key, name text, email text, updated_at timestamptz not null)`;
    await stack.dwh`create index on src.customers (updated_at, id)`;
    await stack.dwh`insert into src.customers select i, 'Customer ' || i, 'c' || i || '@example.test', now() - interval '1 hour' + i * interval '1 s' from generate_series(1, ${ROWS}) i`;
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    client?.destroy();
    await Promise.all([fake?.stop(), sm?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects, then writes every record across several expiries: one refresh per expiry, no invalid_grant, none failed', async () => {
    // Prepare: the user connects the account
    const connected = await connectAsUser();
    expect(connected.output).toMatch(/Connected xero to /);
    expect(connected.code).toBe(0);
    containers = Array.from({ length: CONTAINERS }, container);
    // Every write answers 0.6 s late (checked on arrival): the run spans several 3 s tokens.
    fake.delayNext(10_000, 600, { match: { method: 'POST', path: '/api.xro/2.0/' }, applyFirst: true });
    const before = fake.oauthStats();
    // Act
    const started = Date.now();
    stack.startWriters();
    const run = await stack.runExtract('customers');
    await stack.drain(120_000);
    const seconds = (Date.now() - started) / 1000;
    // Assess: every record written once, none failed or refused
    expect(run.counts.enqueued).toBe(ROWS);
    expect(fake.contacts()).toHaveLength(ROWS);
    expect(stack.stats('customers').write).toMatchObject({ failed: 0, dead: 0, authRefused: 0 });
    expect(await stack.queueDepth('customers')).toEqual({ visible: 0, inFlight: 0, dlq: 0 });
    // … across several expiries, each refreshed exactly once, by one writer, with the token the last one issued
    const stats = fake.oauthStats();
    const refreshes = stats.refreshes - before.refreshes;
    const log = stats.refreshLog.slice(-refreshes);
    expect(seconds).toBeGreaterThan(6);
    expect(refreshes).toBeGreaterThanOrEqual(3);
    expect(log.map((r) => r.generation)).toEqual(log.map((_, i) => i));
    for (let i = 1; i < log.length; i++)
      expect(log[i]!.at - log[i - 1]!.at).toBeGreaterThanOrEqual(TTL_SECONDS * 1000 - MARGIN_MS - 100);
    expect(stats.invalidGrants - before.invalidGrants).toBe(0);
    expect(stats.graceRetries - before.graceRetries).toBe(0);
    // No write was sent with an expired token
    expect(
      fake.calls({ method: 'POST', path: '/api.xro/2.0/' }).filter((c) => c.status === 401),
    ).toHaveLength(0);
    // Each refreshed set was stored (one secret version each) before it was used
    expect(await secretVersions()).toBe(1 + refreshes);
    console.log(
      `connect then sync: ${ROWS} records in ${seconds.toFixed(1)} s by ${CONTAINERS} writers, ${refreshes} refreshes (one per ${TTL_SECONDS} s token), 0 invalid_grant, 0 failed`,
    );
  }, 180_000);

  it('pauses on a revoked app with what to do, dead-letters nothing, and drains after writeback connect again', async () => {
    // Prepare: the user disconnects the app in Xero; new rows arrive
    fake.clearFaults();
    fake.revokeOAuth();
    await stack.dwh`insert into src.customers select i, 'Customer ' || i, 'c' || i || '@example.test', now() - interval '30 minutes' + i * interval '1 s' from generate_series(${ROWS + 1}::int, ${ROWS + 20}::int) i`;
    // Act
    await stack.runExtract('customers');
    await vi.waitFor(
      async () => {
        const links = await stack.links.batchGet(
          'customers',
          Array.from({ length: 20 }, (_, i) => String(ROWS + 1 + i)),
          {
            consistent: true,
          },
        );
        expect([...links.values()].filter((l) => l.status === 'retrying' && l.attempts >= 3)).toHaveLength(
          20,
        );
      },
      { timeout: 60_000, interval: 200 },
    );
    await stack.drain(60_000);
    await stack.runExtract('customers');
    // Assess: refused as XERO_INVALID_GRANT, nothing dead-lettered, the status says run writeback connect
    expect(stack.stats('customers').write).toMatchObject({ failed: 0, dead: 0 });
    expect(stack.stats('customers').write.authRefused).toBeGreaterThanOrEqual(20);
    expect((await stack.queueDepth('customers')).dlq).toBe(0);
    const ops = localOpsContext(stack, config);
    try {
      const [status] = await syncStatus(ops, { fast: true, lag: false });
      expect(status!.lastRun?.message).toMatch(
        /paused, bookmark kept: credentials refused by xero \(XERO_INVALID_GRANT\) since .*: run `writeback connect xero`$/,
      );
    } finally {
      await ops.close();
    }
    // Act: the user connects again; half an hour on, the pause ends and the parked keys are re-driven
    const again = await connectAsUser();
    expect(again.code).toBe(0);
    offset = 31 * MINUTE;
    await stack.runExtract('customers');
    await stack.drain(120_000);
    // Assess
    expect(fake.contacts()).toHaveLength(ROWS + 20);
    expect(stack.stats('customers').write).toMatchObject({ failed: 0, dead: 0 });
    expect(await stack.queueDepth('customers')).toEqual({ visible: 0, inFlight: 0, dlq: 0 });
  }, 180_000);
});

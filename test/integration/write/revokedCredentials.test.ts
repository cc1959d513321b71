import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectionFromSecret, secretReader } from '../../../functions/secrets.ts';
import { LOCAL_HUBSPOT_TOKEN, LocalStack } from '../../../local/LocalStack.ts';
import type { Row } from '../../../shared/config/schema.ts';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import { createConnector } from '../../../shared/connectors/createConnector.ts';
import { syncStatus } from '../../../shared/ops/status.ts';
import type { RenewableConnection } from '../../../shared/write/RenewableConnection.ts';
import { localOpsContext } from '../../helpers/localOpsContext.ts';

const config = validateConfig({
  connections: { crm: { type: 'hubspot', secret: 'writeback/crm' } },
  syncs: [
    {
      name: 'people',
      source: { table: 'src.people', key: 'id', cursor: 'loaded_at' },
      target: { connection: 'crm', object: 'contacts', externalId: 'dwh_customer_id' },
      map: (row: Row) => ({ email: row.email, firstname: row.name }),
      batchSize: 10,
      // The writer's own budget is 3 deliveries: a refused record is parked on its third.
      maxReceiveCount: 5,
    },
  ],
});
const sync = config.syncs[0]!;
const MINUTE = 60_000;

/**
 * Secrets Manager without a network (the SDK client answers from `secret`), read through the same
 * Powertools provider and RenewableConnection the write function uses on AWS.
 */
function secretsManager(initial: Record<string, string>) {
  const secret = { value: JSON.stringify(initial), reads: 0 };
  const client = new SecretsManagerClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' },
  });
  client.middlewareStack.add(
    () => async () => {
      secret.reads++;
      return { output: { SecretString: secret.value, $metadata: {} }, response: {} };
    },
    { step: 'initialize', name: 'fakeSecretsManager' },
  );
  return { secret, read: secretReader(new SecretsProvider({ awsSdkV3Client: client })) };
}

/**
 * A revoked HubSpot token, end to end (Postgres → extract → SQS → writer → HubSpot fake): the
 * writer re-reads the secret, still gets the revoked token, and the sync pauses with what to do;
 * no record reaches the DLQ. Once the secret holds a token the target accepts, the backlog drains.
 * The clock the handlers see is moved on to stand for the half hour a parked record waits.
 */
describe('Revoked credentials pause the sync, never the DLQ; an updated secret drains the backlog', () => {
  let stack: LocalStack;
  let offset = 0;
  const sm = secretsManager({ token: LOCAL_HUBSPOT_TOKEN });
  let connection: RenewableConnection;

  const links = async (ids: readonly number[]) =>
    stack.links.batchGet(
      sync.name,
      ids.map((i) => String(i)),
      { consistent: true },
    );
  const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  beforeAll(async () => {
    stack = await LocalStack.start({
      config,
      now: () => Date.now() + offset,
      writeOptions: () => ({ credentials: connection, authBackoffSeconds: 1, backoff: () => 0 }),
    });
    connection = connectionFromSecret({
      name: 'writeback/crm',
      secretId: 'writeback/crm',
      read: sm.read,
      build: (creds) =>
        createConnector(sync, config.connections.crm!, { ...creds, baseUrl: stack.hubspot.url }),
    });
    await stack.dwh`create schema src`;
    await stack.dwh`create table src.people (id int primary key, name text, email text, loaded_at timestamptz not null)`;
    await stack.dwh`create index on src.people (loaded_at, id)`;
    await stack.dwh`insert into src.people select i, 'person ' || i, 'p' || i || '@example.test', now() - interval '1 hour' + i * interval '1 s' from generate_series(1, 20) i`;
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('refuses, re-reads, parks every record (DLQ empty) and pauses the sync with the status line', async () => {
    // Prepare: the token in the secret is revoked at the vendor
    stack.hubspot.setToken('pat-rotated');
    stack.startWriters();
    // Act
    const first = await stack.runExtract(sync.name);
    await vi.waitFor(
      async () => {
        const all = [...(await links(ids(1, 20))).values()];
        expect(all.filter((l) => l.status === 'retrying' && l.attempts >= 3)).toHaveLength(20);
      },
      { timeout: 60_000, interval: 200 },
    );
    await stack.drain(60_000);
    await stack.dwh`insert into src.people select i, 'person ' || i, 'p' || i || '@example.test', now() from generate_series(21, 25) i`;
    const paused = await stack.runExtract(sync.name);
    // Assess: every record refused after a re-read of the secret, none dead-lettered or written
    expect(first.counts.enqueued).toBe(20);
    expect(await stack.queueDepth(sync.name)).toEqual({ visible: 0, inFlight: 0, dlq: 0 });
    expect(stack.stats(sync.name).write).toMatchObject({ failed: 0, dead: 0, created: 0 });
    expect(stack.stats(sync.name).write.authRefused).toBeGreaterThanOrEqual(60);
    expect(sm.secret.reads).toBeGreaterThanOrEqual(2);
    expect((await links([1])).get('1')?.lastError).toMatchObject({
      code: 'HUBSPOT_UNAUTHORIZED',
      httpStatus: 401,
    });
    expect(stack.hubspot.records('contacts')).toHaveLength(0);
    // … and the sync paused: nothing new enqueued, the reason and what to do in the run and status
    const line =
      /^paused, bookmark kept: credentials refused by crm \(HUBSPOT_UNAUTHORIZED\) since \d{4}-\d\d-\d\dT[\d:.]+Z: update the secret writeback\/crm$/;
    expect(paused.counts.enqueued).toBe(0);
    expect(paused.message).toMatch(line);
    const ops = localOpsContext(stack, config);
    try {
      const [status] = await syncStatus(ops, { fast: true, lag: false });
      expect(status!.lastRun?.message).toMatch(line);
      expect(status!.links).toMatchObject({ retrying: 20, failed: 0, dead: 0 });
    } finally {
      await ops.close();
    }
  });

  it('drains the backlog once the secret holds a token the target accepts', async () => {
    // Prepare: the operator updates the secret
    sm.secret.value = JSON.stringify({ token: 'pat-rotated' });
    const readsBefore = sm.secret.reads;
    // Act: half an hour later (the pause ends, parked records count as stuck) the next run re-drives
    // the parked keys and sends the new rows; the writers re-read the secret on the first refusal
    offset = 31 * MINUTE;
    const resumed = await stack.runExtract(sync.name);
    await stack.drain(60_000);
    const after = await stack.runExtract(sync.name);
    // Assess
    expect(resumed.message ?? '').not.toMatch(/paused/);
    expect(resumed.counts).toMatchObject({ redriven: 20, enqueued: 5 });
    // Within the cache's time to live: the refused call made the writer read the secret again
    expect(sm.secret.reads).toBeGreaterThan(readsBefore);
    expect(stack.hubspot.records('contacts')).toHaveLength(25);
    const all = [...(await links(ids(1, 25))).values()];
    expect(all.filter((l) => l.status === 'ok')).toHaveLength(25);
    expect(await stack.queueDepth(sync.name)).toEqual({ visible: 0, inFlight: 0, dlq: 0 });
    expect((await stack.links.health.read(sync.name, Date.now() + offset, MINUTE)).auth).toBeUndefined();
    expect(after.message).toBeUndefined();
  });
});

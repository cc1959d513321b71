import { Logger } from '@aws-lambda-powertools/logger';
import { LOCAL_HUBSPOT_TOKEN, LocalStack } from '../../local/LocalStack.ts';
import type { Row, SyncConfig } from '../../shared/config/schema.ts';
import { ConfigSchema } from '../../shared/config/schema.ts';
import { HubSpotConnector } from '../../shared/connectors/hubspot/HubSpotConnector.ts';
import { SqsEnqueuer } from '../../shared/queue/SqsEnqueuer.ts';
import { checkTargetHealth } from '../../shared/write/checkTargetHealth.ts';
import type { WriteFaults } from '../../shared/write/processWriteBatch.ts';
import { redriveFailed } from '../../shared/write/redriveFailed.ts';
import { toWriteMessage } from '../../shared/write/toWriteMessage.ts';
import { MemoryTarget } from '../helpers/MemoryTarget.ts';
import { crashFaults, faultyHubSpot, memoryFault } from './chaosFaults.ts';
import { type ChaosReport, checkInvariant, type TargetView } from './checkInvariant.ts';
import { Prng } from './Prng.ts';

/** The chaos storms last seconds: target health is judged over a window of the same scale. */
const HEALTH = { windowMs: 3000, minCalls: 3 } as const;

export interface ChaosOptions {
  readonly seed: number;
  /** Source rows; each is written to three targets. @default 200 */
  readonly records?: number;
  /** Rounds of extract + concurrent source updates + injected deliveries under faults. @default 3 */
  readonly rounds?: number;
  /** Progress lines (the CLI prints them; the test stays quiet). */
  readonly log?: (line: string) => void;
}

/** Syncs of the scenario: one per recovery path of the write protocol. */
const SYNCS = {
  hubspot: 'chaos-hubspot',
  idempotency: 'chaos-idempotency',
  lookup: 'chaos-lookup',
} as const;
/** Longer than a HubSpot call with its in-connector retries (timeout 0.8 s, two retries of ≤ 1 s waits). */
const LEASE_MS = 8000;
const HUBSPOT_TIMEOUT_MS = 800;
const VERSION_SQL = '(extract(epoch from updated_at) * 1000000)::bigint::text';

/**
 * Warehouse rows mixed into the traffic that a run must carry or set aside without stopping:
 * names at AWS's limits (300 KB: a claim check; emoji outside the BMP; U+FFFE/U+FFFF and control
 * characters that SQS refuses raw) and names that make map() throw (the record goes to the DLQ
 * with WB_MAP_FAILED, the rows after it flow).
 */
const ODD_NAMES = [
  (id: number, gen: number) => `${'x'.repeat(300_000)}-${id}-${gen}`,
  (id: number, gen: number) => `emoji 😀🇳🇱 ${id}-${gen}`,
  (id: number, gen: number) => `nonchar \uFFFE\uFFFF ctl \u0001\u0008\u001f ${id}-${gen}`,
  (id: number, gen: number) => `${MAP_REFUSES}${id}-${gen}`,
] as const;
export const MAP_REFUSES = 'THROW:';

/** A map() that throws on poison rows, as a user's map() does on data it cannot handle. */
function refusingPoison(map: (row: Row) => Record<string, unknown>): (row: Row) => Record<string, unknown> {
  return (row) => {
    if (String(row.name).startsWith(MAP_REFUSES)) throw new Error(`map() cannot handle ${String(row.name)}`);
    return map(row);
  };
}

interface SourceVersion {
  readonly row: Row;
  readonly version: string;
}

/**
 * One chaos scenario on the local stack (embedded Postgres, dynalite, fauxqs, the HubSpot fake):
 * a source table written to three targets — HubSpot (native upsert), a target with idempotency
 * keys and one with neither (lookup before create) — while the writer crashes at each protocol
 * step, targets answer 429 (with Retry-After), 5xx, time out or lose answers to writes they
 * applied, messages are duplicated and delivered out of order, and source rows change under the
 * sync. Then the storm ends, failed records are re-driven, the queues drain, and the invariant is
 * checked: exactly one record per source key with the newest content, or the key in the DLQ with
 * its reason. The seed decides the data, the source updates and the fault plan; the interleaving
 * of concurrent writers is up to the scheduler.
 */
export async function runChaosScenario(opts: ChaosOptions): Promise<ChaosReport> {
  const records = opts.records ?? 200;
  const rounds = opts.rounds ?? 3;
  const log = opts.log ?? (() => undefined);
  const started = Date.now();
  const root = new Prng(opts.seed);
  const dataRng = root.fork(1);
  const faultRng = root.fork(2);
  const faults: Record<string, number> = {};
  const count = (name: string) => {
    faults[name] = (faults[name] ?? 0) + 1;
  };
  let calm = false;
  /** A storm: until this time every target call is refused with this status (429 with Retry-After, or 503). */
  let storm: { until: number; status: 429 | 503 } = { until: 0, status: 429 };
  const stormStatus = (): 429 | 503 | undefined =>
    !calm && Date.now() < storm.until ? storm.status : undefined;
  const crashes = new Map<string, WriteFaults>();

  const memory = {
    [SYNCS.idempotency]: new MemoryTarget({
      mode: 'idempotency',
      maxBatchSize: 10,
      fault: (call) => memoryFault(call, faultRng, calm, stormStatus(), count),
      latencyMs: () => faultRng.int(0, 8),
    }),
    [SYNCS.lookup]: new MemoryTarget({
      mode: 'lookup',
      maxBatchSize: 10,
      fault: (call) => memoryFault(call, faultRng, calm, stormStatus(), count),
      latencyMs: () => faultRng.int(0, 8),
    }),
  } as const;

  const config = ConfigSchema.parse({
    connections: { hubspot: { type: 'hubspot' }, memory: { type: 'postgres' } },
    syncs: [
      {
        name: SYNCS.hubspot,
        source: {
          table: 'chaos.people',
          key: 'id',
          cursor: 'updated_at',
          settle: 1,
          lookback: 2,
          pageSize: 100,
        },
        target: { connection: 'hubspot', object: 'contacts', externalId: 'dwh_customer_id' },
        map: refusingPoison((row: Row) => ({
          email: row.email,
          firstname: row.name,
          lastname: `score ${row.score}`,
        })),
        batchSize: 10,
        concurrency: 3,
        maxReceiveCount: 5,
      },
      ...[SYNCS.idempotency, SYNCS.lookup].map((name) => ({
        name,
        source: {
          table: 'chaos.people',
          key: 'id',
          cursor: 'updated_at',
          settle: 1,
          lookback: 2,
          pageSize: 100,
        },
        target: { connection: 'memory', object: 'people', externalId: 'ext_id' },
        map: refusingPoison((row: Row) => ({ email: row.email, name: row.name, score: row.score })),
        batchSize: 10,
        concurrency: 3,
        maxReceiveCount: 5,
      })),
    ],
  });
  const syncs = new Map(config.syncs.map((s) => [s.name, s]));

  let fakeUrl = '';
  const stack = await LocalStack.start({
    config,
    logger: new Logger({ serviceName: 'writeback-chaos', logLevel: 'SILENT' }),
    hubspot: { rateLimit: false },
    queueVisibilitySeconds: 3,
    // Scaled like the storms: a target counts as down over a 3-second window, not two minutes.
    extractHealth: HEALTH,
    writeOptions: (sync) => ({
      leaseMs: LEASE_MS,
      // Short retries (the storm is short), never shorter than the target's Retry-After.
      backoff: (n, retryAfter) => Math.max(Math.ceil(retryAfter ?? 0), Math.min(2, n)),
      faults:
        crashes.get(sync.name) ??
        crashes
          .set(
            sync.name,
            crashFaults(sync.name, faultRng, () => calm, count),
          )
          .get(sync.name)!,
    }),
    wrapConnector: (sync, connector) => {
      if (sync.name === SYNCS.hubspot) {
        const inner = new HubSpotConnector({
          token: LOCAL_HUBSPOT_TOKEN,
          baseUrl: 'http://hubspot.invalid',
          idProperty: 'dwh_customer_id',
          timeoutMs: HUBSPOT_TIMEOUT_MS,
          // The fake's port is known once the stack runs.
          fetch: (input, init) => fetch(String(input).replace('http://hubspot.invalid', fakeUrl), init),
        });
        return faultyHubSpot(
          inner,
          HUBSPOT_TIMEOUT_MS,
          () => stack,
          faultRng,
          () => calm,
          stormStatus,
          count,
        );
      }
      return memory[sync.name as keyof typeof memory] ?? connector;
    },
  });
  fakeUrl = stack.hubspot.url;

  try {
    const history = await seedSource(stack, records, dataRng);
    stack.startWriters({ waitSeconds: 1 });
    const enqueuers = new Map(
      config.syncs.map((s) => [s.name, new SqsEnqueuer(stack.aws.sqs, stack.resources.queues[s.name]!.url)]),
    );

    for (let round = 1; round <= rounds; round++) {
      // From the second round on, one storm per round: every call refused for a while. The 429
      // storm is short (Retry-After 1 s); the 503 outage outlasts some records' retries, so they
      // die, go to the DLQ, and come back through redriveFailed.
      if (round > 1) {
        const status = round % 2 === 0 ? 429 : 503;
        storm = { until: Date.now() + (status === 429 ? 1500 : 6000), status };
        count(`storm:${status}`);
      }
      const runs = await Promise.all(config.syncs.map((s) => stack.runExtract(s.name)));
      log(
        `round ${round}: extract ${runs.map((r) => `${r.sync}=${r.outcome}/${r.counts.enqueued}`).join(' ')}`,
      );
      // Source rows change while the writers work; stale and duplicate deliveries join the queue.
      for (let wave = 0; wave < 3; wave++) {
        await updateSource(stack, history, dataRng, Math.ceil(records * 0.05), count);
        await injectDeliveries(config.syncs, enqueuers, history, dataRng, Math.ceil(records * 0.02), count);
        await sleep(300);
      }
      // During an outage the extract would pause instead of filling the queue (and then the DLQ).
      if (stormStatus() === 503) {
        for (const sync of config.syncs) {
          const health = await checkTargetHealth(stack.links, sync.name, Date.now(), HEALTH);
          if (health.paused) count('extractPaused');
          log(`outage: ${sync.name} ${health.paused ? `paused (${health.reason})` : 'not paused'}`);
        }
      }
    }

    // The storm ends (once the last outage is over). Rows settle, a last extract picks up the
    // last changes, the queues drain.
    await sleep(Math.max(0, storm.until - Date.now()));
    calm = true;
    stack.hubspot.clearFaults();
    await sleep(1500);
    // As the schedule would: a run paused while the target still looked down is followed by another
    // once the writers' calls succeed again (the paused run kept its bookmark).
    for (const sync of config.syncs) {
      for (let attempt = 1; ; attempt++) {
        const run = await stack.runExtract(sync.name);
        if (!run.message?.startsWith('paused') || attempt >= 20) break;
        count('finalExtractPaused');
        await sleep(1000);
      }
    }
    await stack.drain(180_000);
    // Failed records are not forgotten: dead keys (and keys whose message was lost) are re-driven.
    for (let pass = 1; pass <= 3; pass++) {
      let redriven = 0;
      for (const sync of config.syncs) {
        const summary = await redriveFailed(
          sync,
          {
            sql: stack.dwh,
            links: stack.links,
            enqueuer: enqueuers.get(sync.name)!,
            now: Date.now,
          },
          { runId: `chaos-redrive-${pass}`, baseDelayMs: 0, stuckAfterMs: 0, health: false },
        );
        redriven += summary.redriven;
      }
      log(`redrive pass ${pass}: ${redriven} keys re-driven`);
      if (redriven === 0) break;
      await stack.drain(120_000);
    }
    await stack.stopWriters();
    for (const sync of config.syncs)
      log(`${sync.name} writer counts: ${JSON.stringify(stack.stats(sync.name).write)}`);

    const views: TargetView[] = config.syncs.map((sync) => targetView(sync, stack, memory));
    return await checkInvariant({
      seed: opts.seed,
      records,
      stack,
      syncs: [...syncs.values()],
      views,
      faults,
      startedAt: started,
    });
  } finally {
    await stack.stop();
  }
}

/** Creates and fills the source table; returns each row's versions, oldest first. */
async function seedSource(
  stack: LocalStack,
  records: number,
  rng: Prng,
): Promise<Map<number, SourceVersion[]>> {
  const sql = stack.dwh;
  await sql`create schema if not exists chaos`;
  await sql`
    create table chaos.people (
      id integer primary key,
      email text not null,
      name text not null,
      score integer not null,
      updated_at timestamptz not null
    )`;
  await sql`create index people_sync_idx on chaos.people (updated_at, id)`;
  // Every row starts an hour ago, a millisecond apart: older than any update, and settled.
  const base = Date.now() - 3_600_000;
  const rows = Array.from({ length: records }, (_, i) => {
    const id = i + 1;
    return {
      id,
      email: rng.chance(0.03) ? `bad-${id}.0` : `p${id}.0@chaos.test`,
      // The first rows start as each kind of odd warehouse row, whatever the seed.
      name: id <= ODD_NAMES.length ? ODD_NAMES[id - 1]!(id, 0) : `name-${id}-0`,
      score: rng.int(0, 1000),
      updated_at: new Date(base + id),
    };
  });
  const inserted = await sql<Row[]>`
    insert into chaos.people ${sql(rows, 'id', 'email', 'name', 'score', 'updated_at')}
    returning *, ${sql.unsafe(VERSION_SQL)} as _version`;
  const history = new Map<number, SourceVersion[]>();
  for (const r of inserted) history.set(r.id as number, [toVersion(r)]);
  return history;
}

/** Changes `n` random rows (new name and score; sometimes an email that the targets refuse, or a fix). */
async function updateSource(
  stack: LocalStack,
  history: Map<number, SourceVersion[]>,
  rng: Prng,
  n: number,
  count: (name: string) => void,
): Promise<void> {
  for (const id of rng.sample([...history.keys()], n)) {
    const versions = history.get(id)!;
    const gen = versions.length;
    const poison = rng.chance(0.1);
    const odd = rng.chance(0.15) ? ODD_NAMES[rng.int(0, ODD_NAMES.length - 1)]!(id, gen) : undefined;
    const [row] = await stack.dwh<Row[]>`
      update chaos.people
      set email = ${poison ? `bad-${id}.${gen}` : `p${id}.${gen}@chaos.test`},
          name = ${odd ?? `name-${id}-${gen}`},
          score = ${rng.int(0, 1000)},
          updated_at = clock_timestamp()
      where id = ${id}
      returning *, ${stack.dwh.unsafe(VERSION_SQL)} as _version`;
    versions.push(toVersion(row!));
    count(poison ? 'sourcePoisoned' : 'sourceUpdates');
    if (odd) count(odd.startsWith(MAP_REFUSES) ? 'sourceMapRefuses' : 'sourceOddText');
  }
}

/** Sends, straight to the queues, duplicates of current versions and older versions after newer ones. */
async function injectDeliveries(
  syncs: readonly SyncConfig[],
  enqueuers: Map<string, SqsEnqueuer>,
  history: Map<number, SourceVersion[]>,
  rng: Prng,
  n: number,
  count: (name: string) => void,
): Promise<void> {
  const at = new Date().toISOString();
  for (const sync of syncs) {
    const messages = [];
    for (const id of rng.sample([...history.keys()], n)) {
      const versions = history.get(id)!;
      const current = versions[versions.length - 1]!;
      messages.push(toWriteMessage(sync, sourceRow(id, current), 'chaos-dup', at));
      count('duplicates');
      if (versions.length > 1) {
        const older = versions[rng.int(0, versions.length - 2)]!;
        messages.push(toWriteMessage(sync, sourceRow(id, older), 'chaos-stale', at));
        count('staleDeliveries');
      }
    }
    await enqueuers.get(sync.name)!.sendAll(messages);
  }
}

function targetView(sync: SyncConfig, stack: LocalStack, memory: Record<string, MemoryTarget>): TargetView {
  if (sync.name === SYNCS.hubspot) {
    return {
      sync: sync.name,
      records: () =>
        stack.hubspot.records('contacts').map((c) => ({
          externalId: c.properties.dwh_customer_id ?? '',
          fields: {
            email: c.properties.email,
            firstname: c.properties.firstname,
            lastname: c.properties.lastname,
          },
        })),
      // HubSpot stores every property as a string.
      same: (expected, actual) =>
        Object.entries(expected).every(([k, v]) => String(v ?? '') === String(actual[k] ?? '')),
    };
  }
  const target = memory[sync.name]!;
  return {
    sync: sync.name,
    records: () => target.all().map((r) => ({ externalId: r.externalId ?? '', fields: r.fields })),
    same: (expected, actual) => Object.entries(expected).every(([k, v]) => v === actual[k]),
  };
}

function toVersion(r: Row): SourceVersion {
  const { _version, ...row } = r;
  return { row, version: String(_version) };
}

function sourceRow(id: number, v: SourceVersion) {
  return {
    row: v.row,
    key: String(id),
    version: v.version,
    position: { cursor: '', key: [String(id)] },
    pastBookmark: true,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Extract benchmark (issue 4). On an N-row source in the embedded Postgres (default 1M):
 *  (a) a no-op run after the backfill: its DynamoDB requests and SQL statements (counted on the
 *      clients and the pool), rows read, messages sent, target calls, and its time (the median of
 *      21 quiet runs) as a ratio to a bare indexed `SELECT … LIMIT 1` (the median of 20) in the same run (issue 19: at most 4 requests, 2 statements,
 *      within 10×). The child process ran the backfill first, as a warm Lambda container would have
 *      (its readers kept the column types: a cold container adds two statements);
 *  (b) the full backfill: rows/s, and its ratio to a floor measured right before and right after
 *      it (streaming the same rows out of Postgres and sending as many messages to the same SQS
 *      emulator; their mean);
 *  (c) peak RSS of a backfill of N/10 rows vs N rows, each in a fresh process with Node's default
 *      heap limit (flat = bounded);
 *  (d) a bulk load: N rows stamped within one minute (one ELT load), lookback 2 minutes, on a
 *      simulated warehouse clock: rows read and link lookups of the first run (5 minutes after the
 *      load) and of the no-op runs after it (20 and 35 minutes after), and how many rows a window
 *      measured back from the bookmark (the former design) would re-read on every run.
 * Usage: npm run bench -- extract [--rows 1000000] [--bulk-rows N]
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { startEmbeddedPostgres } from '../local/EmbeddedPostgres.ts';
import { startLocalEmulators } from '../local/LocalEmulators.ts';
import { provisionLocal } from '../local/provisionLocal.ts';
import { createAwsClients } from '../shared/aws/awsClients.ts';
import { validateConfig } from '../shared/config/validateConfig.ts';
import { runExtract } from '../shared/extract/runExtract.ts';
import { DynamoLinkStore } from '../shared/links/DynamoLinkStore.ts';
import { targetPool, warehousePool } from '../shared/postgresPools.ts';
import { SqsEnqueuer } from '../shared/queue/SqsEnqueuer.ts';
import { DynamoRunStartReader } from '../shared/state/DynamoRunStartReader.ts';
import { DynamoStateStore } from '../shared/state/DynamoStateStore.ts';
import { chunks } from '../shared/util/chunks.ts';
import { contentHash } from '../shared/util/contentHash.ts';
import { AwsMeter, ddbRequestCount, diffCounts } from './_awsMeter.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};

function benchConfig(table: string) {
  return validateConfig({
    connections: { sink: { type: 'postgres', url: 'postgres://unused' } },
    syncs: [
      {
        name: 'bench',
        source: { table, key: 'id', cursor: 'loaded_at', lookback: '2m', pageSize: 2000 },
        target: { connection: 'sink', object: 'x', externalId: 'id' },
        map: (row: Record<string, unknown>) => ({ email: row.email, name: row.name, score: row.score }),
      },
    ],
  });
}

/** Quiet runs whose median time is the no-op figure. */
const NOOP_RUNS = 21;

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A link store that counts the keys it is asked for: the extract's link lookups. */
class CountingLinkStore extends DynamoLinkStore {
  public lookups = 0;
  public override async batchGet(sync: string, keys: readonly string[]) {
    this.lookups += keys.length;
    return super.batchGet(sync, keys);
  }
}

/**
 * Child mode (bulk): runs of the bulk-load table on a simulated clock; prints rows read and link
 * lookups per run as JSON.
 */
async function bulkChild(): Promise<void> {
  const env = JSON.parse(process.env.WB_BENCH_ENV!) as { pg: string; ddb: string; sqs: string };
  const table = arg('table', '');
  const loadEnd = Date.parse(arg('load-end', ''));
  const config = benchConfig(table);
  const aws = createAwsClients({ dynamodb: env.ddb, sqs: env.sqs });
  const res = await provisionLocal(aws, `b${randomUUID().slice(0, 6)}`, config.syncs);
  const sql = warehousePool(env.pg, { max: 2 });
  const links = new CountingLinkStore(aws.ddb, res.linksTable);
  let clock = 0;
  const deps = {
    sql,
    state: new DynamoStateStore(aws.ddb, res.stateTable),
    links,
    enqueuer: new SqsEnqueuer(aws.sqs, res.queues.bench!.url),
    now: Date.now,
    health: false as const,
    sourceClock: () => new Date(clock).toISOString(),
  };
  const runs: { minutesAfterLoad: number; read: number; lookups: number; enqueued: number }[] = [];
  for (const minutes of [5, 20, 35]) {
    clock = loadEnd + minutes * 60_000;
    links.lookups = 0;
    const run = await runExtract(config.syncs[0]!, deps, {
      runId: randomUUID(),
      remainingMs: () => 3_600_000,
    });
    runs.push({
      minutesAfterLoad: minutes,
      read: run.counts.read,
      lookups: links.lookups,
      enqueued: run.counts.enqueued,
    });
  }
  // The former window: every run re-read from the bookmark's cursor minus the lookback.
  const [former] = await sql.unsafe(
    `select count(*)::int as n from ${table} where loaded_at >= (select max(loaded_at) from ${table}) - interval '2 minutes'`,
  );
  await sql.end();
  process.stdout.write(`${JSON.stringify({ runs, formerWindowRows: former!.n })}\n`);
  process.exit(0);
}

/** Child mode: one extract run of `table` against running servers; prints JSON with its figures. */
async function child(): Promise<void> {
  const env = JSON.parse(process.env.WB_BENCH_ENV!) as { pg: string; ddb: string; sqs: string };
  const table = arg('table', '');
  const config = benchConfig(table);
  const aws = createAwsClients({ dynamodb: env.ddb, sqs: env.sqs });
  const res = await provisionLocal(aws, `b${randomUUID().slice(0, 6)}`, config.syncs);
  // Every statement the pool sends, and (from the no-op run on) every AWS request: what the no-op run costs.
  let statements = 0;
  const sql = warehousePool(env.pg, { max: 2, debug: () => void statements++ });
  const meter = new AwsMeter();
  const deps = {
    sql,
    state: new DynamoStateStore(aws.ddb, res.stateTable),
    links: new DynamoLinkStore(aws.ddb, res.linksTable),
    // As the extract function has it (functions/awsDeps.ts): the state and the gate in one request.
    runStart: new DynamoRunStartReader(aws.ddb, { state: res.stateTable, links: res.linksTable }),
    enqueuer: new SqsEnqueuer(aws.sqs, res.queues.bench!.url),
    now: Date.now,
  };
  const t0 = performance.now();
  const backfill = await runExtract(config.syncs[0]!, deps, {
    runId: randomUUID(),
    remainingMs: () => 3_600_000,
  });
  const backfillMs = performance.now() - t0;
  const rss = process.resourceUsage().maxRSS * 1024;
  // A no-op run comes after the writers drained the queue. It batch-reads only the links of the
  // rows in its lookback window, so those are the links we commit, as the writer would.
  const window = await sql.unsafe(
    `select id::text as key, email, name, score, (extract(epoch from loaded_at) * 1000000)::bigint::text as version
     from ${table} where loaded_at >= (select max(loaded_at) from ${table}) - interval '2 minutes' - interval '1 second'`,
  );
  const sync = config.syncs[0]!;
  for (const r of window) {
    const hash = contentHash(sync.map(r, { sync: 'bench' }));
    const token = randomUUID();
    await deps.links.claim({
      sync: 'bench',
      key: r.key,
      version: r.version,
      hash,
      token,
      runId: 'bench',
      now: Date.now(),
      leaseMs: 60_000,
    });
    await deps.links.commit({
      sync: 'bench',
      key: r.key,
      token,
      targetId: r.key,
      hash,
      version: r.version,
      now: Date.now(),
    });
  }
  // Attached only now: asking for consumed capacity on every call would slow the backfill measured above.
  meter.attach(aws);
  const before = meter.snapshot();
  statements = 0;
  const t1 = performance.now();
  const noop = await runExtract(config.syncs[0]!, deps, {
    runId: randomUUID(),
    remainingMs: () => 3_600_000,
  });
  const noopFirstMs = performance.now() - t1;
  const noopSql = statements;
  const noopAws = diffCounts(meter.snapshot(), before);
  // The no-op time is the median of NOOP_RUNS quiet runs after the metered one, as the bare
  // SELECT's is of its 20: one run alone is at the mercy of whatever else the machine does in
  // those milliseconds. Unmetered, as the handler makes them (without ReturnConsumedCapacity).
  for (const client of [aws.ddb, aws.sqs]) client.middlewareStack.remove('wbCostMeter');
  const times: number[] = [];
  for (let i = 0; i < NOOP_RUNS; i++) {
    const t = performance.now();
    const again = await runExtract(config.syncs[0]!, deps, {
      runId: randomUUID(),
      remainingMs: () => 3_600_000,
    });
    times.push(performance.now() - t);
    if (again.quiet !== true) throw new Error('a no-op run after the first one was not quiet');
  }
  const noopMs = median(times);
  await sql.end();
  process.stdout.write(
    `${JSON.stringify({
      backfill: backfill.counts,
      backfillMs,
      rss,
      noop: noop.counts,
      noopMs,
      noopFirstMs,
      noopQuiet: noop.quiet === true,
      noopSql,
      noopDdb: ddbRequestCount(noopAws),
      noopDdbByOperation: noopAws.ddbRequests,
    })}\n`,
  );
  process.exit(0);
}

async function main(): Promise<void> {
  const rows = Number(arg('rows', '1000000'));
  const bulkRows = Number(arg('bulk-rows', String(rows)));
  const small = Math.max(1000, Math.floor(rows / 10));
  const dir = mkdtempSync(join(tmpdir(), 'wb-bench-'));
  const pg = await startEmbeddedPostgres({ dataDir: join(dir, 'pg') });
  const emulators = await startLocalEmulators();
  // Generates the source tables: the server's own session, as a loader would have.
  const sql = targetPool(pg.url(), { max: 2 });
  try {
    process.stderr.write(`generating ${rows} + ${small} source rows…\n`);
    for (const [name, n] of [
      ['bench.items_large', rows],
      ['bench.items_small', small],
    ] as const) {
      await sql`create schema if not exists bench`;
      await sql.unsafe(
        `create table ${name} (id bigint primary key, email text, name text, score int, loaded_at timestamptz not null)`,
      );
      // One row per second: the 2-minute lookback window holds ~120 rows.
      await sql.unsafe(
        `insert into ${name} select i, 'user' || i || '@example.com', 'name ' || i, i % 1000,
         timestamptz '2025-01-01' + i * interval '1 second' from generate_series(1, ${n}) i`,
      );
      await sql.unsafe(`create index on ${name} (loaded_at, id)`);
      await sql.unsafe(`analyze ${name}`);
    }

    // One ELT load: every row stamped within one minute, ending at loadEnd.
    const loadEnd = '2025-06-01T12:01:00Z';
    await sql.unsafe(
      `create table bench.items_bulk (id bigint primary key, email text, name text, score int, loaded_at timestamptz not null)`,
    );
    await sql.unsafe(
      `insert into bench.items_bulk select i, 'user' || i || '@example.com', 'name ' || i, i % 1000,
       timestamptz '${loadEnd}' - interval '1 minute' + (i % 60000) * interval '1 ms' from generate_series(1, ${bulkRows}) i`,
    );
    await sql.unsafe(`create index on bench.items_bulk (loaded_at, id)`);
    await sql.unsafe(`analyze bench.items_bulk`);

    /** The last line of a child run (a fresh process against the running servers), as JSON. */
    const childJson = <T>(args: string[]): T => {
      const out = execFileSync(
        process.execPath,
        // Node's default heap limit, as the floor's process has: a small cap (this bench had
        // 160 MB) makes the backfill spend its time collecting garbage while the floor does not.
        [fileURLToPath(import.meta.url), ...args],
        {
          env: {
            ...process.env,
            WB_BENCH_ENV: JSON.stringify({
              pg: pg.url(),
              ddb: emulators.dynamodbEndpoint,
              sqs: emulators.sqsEndpoint,
            }),
          },
          encoding: 'utf8',
          maxBuffer: 1 << 20,
        },
      );
      return JSON.parse(out.trim().split('\n').at(-1)!) as T;
    };
    const runChild = (table: string) =>
      childJson<{
        backfill: { read: number; enqueued: number };
        backfillMs: number;
        rss: number;
        noop: { read: number; enqueued: number; unchanged: number };
        noopMs: number;
        noopFirstMs: number;
        noopQuiet: boolean;
        noopSql: number;
        noopDdb: number;
        noopDdbByOperation: Record<string, number>;
      }>(['--child', '--table', table]);
    // Floor: the same rows streamed out of Postgres, and the same number of messages sent.
    const aws = createAwsClients({ dynamodb: emulators.dynamodbEndpoint, sqs: emulators.sqsEndpoint });
    let floors = 0;
    const floorRowsPerSec = async (): Promise<number> => {
      process.stderr.write('floor: stream the rows and send as many messages…\n');
      const floorRes = await provisionLocal(aws, `floor${floors++}`, benchConfig('bench.items_large').syncs);
      const t0 = performance.now();
      let streamed = 0;
      const sends: Promise<unknown>[] = [];
      const body = JSON.stringify({
        v: 1,
        sync: 'bench',
        key: '1',
        version: '1',
        hash: 'x'.repeat(32),
        payload: { email: 'user1@example.com', name: 'name 1', score: 1 },
      });
      await sql`select id, email, name, score, loaded_at::text from bench.items_large order by loaded_at, id`.cursor(
        2000,
        async (batch) => {
          streamed += batch.length;
          for (const ten of chunks(batch, 10)) {
            sends.push(
              aws.sqs.send(
                new SendMessageBatchCommand({
                  QueueUrl: floorRes.queues.bench!.url,
                  Entries: ten.map((_, j) => ({ Id: String(j), MessageBody: body })),
                }),
              ),
            );
            if (sends.length >= 8) await Promise.all(sends.splice(0));
          }
        },
      );
      await Promise.all(sends);
      return streamed / ((performance.now() - t0) / 1000);
    };
    process.stderr.write(`backfill of ${small} rows (fresh process)…\n`);
    const smallRun = runChild('bench.items_small');
    // The floor right before and right after the backfill, on the same machine under the same
    // load as near as can be: the backfill is compared with their mean.
    const floorBefore = await floorRowsPerSec();
    process.stderr.write(`backfill of ${rows} rows (fresh process)…\n`);
    const largeRun = runChild('bench.items_large');
    const floorAfter = await floorRowsPerSec();
    process.stderr.write(
      `bulk load of ${bulkRows} rows stamped within one minute: runs 5, 20 and 35 minutes after it…\n`,
    );
    const bulk = childJson<{
      runs: { minutesAfterLoad: number; read: number; lookups: number; enqueued: number }[];
      formerWindowRows: number;
    }>(['--bulk', '--table', 'bench.items_bulk', '--load-end', loadEnd]);

    // A bare indexed read of one row: the least any run has to do.
    const bare: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await sql`select * from bench.items_large where loaded_at > timestamptz '2025-01-01' + ${rows} * interval '1 second' - interval '2 minutes' order by loaded_at, id limit 1`;
      bare.push(performance.now() - t);
    }
    const bareMs = median(bare);

    const rowsPerSec = largeRun.backfill.read / (largeRun.backfillMs / 1000);
    const floorPerSec = (floorBefore + floorAfter) / 2;
    const figures = {
      bench: 'extract',
      rows,
      backfill_rows_per_s: Math.round(rowsPerSec),
      floor_rows_per_s: Math.round(floorPerSec),
      floor_rows_per_s_before_after: [Math.round(floorBefore), Math.round(floorAfter)],
      backfill_vs_floor: Number((rowsPerSec / floorPerSec).toFixed(2)),
      rows_read_per_changed_row_backfill: Number(
        (largeRun.backfill.read / largeRun.backfill.enqueued).toFixed(3),
      ),
      noop_rows_read: largeRun.noop.read,
      noop_messages: largeRun.noop.enqueued,
      noop_target_calls: 0,
      noop_ms: Number(largeRun.noopMs.toFixed(2)),
      noop_runs: NOOP_RUNS,
      noop_first_ms: Number(largeRun.noopFirstMs.toFixed(2)),
      noop_quiet: largeRun.noopQuiet,
      noop_dynamodb_requests: largeRun.noopDdb,
      noop_dynamodb_by_operation: largeRun.noopDdbByOperation,
      noop_sql_statements: largeRun.noopSql,
      bare_select_ms: Number(bareMs.toFixed(2)),
      noop_vs_bare_select: Number((largeRun.noopMs / bareMs).toFixed(1)),
      peak_rss_mb_small: Math.round(smallRun.rss / 2 ** 20),
      peak_rss_mb_large: Math.round(largeRun.rss / 2 ** 20),
      rss_large_vs_small: Number((largeRun.rss / smallRun.rss).toFixed(2)),
      small_rows: small,
      bulk_rows: bulkRows,
      bulk_first_run_rows_read: bulk.runs[0]!.read,
      bulk_first_run_link_lookups: bulk.runs[0]!.lookups,
      bulk_noop_runs_rows_read: bulk.runs.slice(1).map((r) => r.read),
      bulk_noop_runs_link_lookups: bulk.runs.slice(1).map((r) => r.lookups),
      bulk_noop_runs_messages: bulk.runs.slice(1).map((r) => r.enqueued),
      bulk_former_window_rows_per_run: bulk.formerWindowRows,
    };
    console.log(
      `backfill: ${figures.backfill_rows_per_s} rows/s vs floor ${figures.floor_rows_per_s} rows/s (ratio ${figures.backfill_vs_floor}; the floor ${figures.floor_rows_per_s_before_after.join(' right before, ')} right after the backfill)`,
    );
    console.log(
      `no-op run${figures.noop_quiet ? ' (quiet)' : ''}: ${figures.noop_dynamodb_requests} DynamoDB requests ${JSON.stringify(figures.noop_dynamodb_by_operation)}, ` +
        `${figures.noop_sql_statements} SQL statements, read ${figures.noop_rows_read} rows, ${figures.noop_messages} messages, 0 target calls, ` +
        `${figures.noop_ms} ms (median of ${figures.noop_runs}; the first, metered, ${figures.noop_first_ms} ms) = ${figures.noop_vs_bare_select}× a bare indexed SELECT … LIMIT 1 (${figures.bare_select_ms} ms, median of 20, same run)`,
    );
    console.log(
      `peak RSS: ${figures.peak_rss_mb_small} MB at ${small} rows, ${figures.peak_rss_mb_large} MB at ${rows} rows (ratio ${figures.rss_large_vs_small})`,
    );
    console.log(
      `bulk load of ${bulkRows} rows in one minute, lookback 2m: first run read ${figures.bulk_first_run_rows_read} rows, ${figures.bulk_first_run_link_lookups} link lookups; ` +
        `later no-op runs read ${figures.bulk_noop_runs_rows_read.join(', ')} rows, ${figures.bulk_noop_runs_link_lookups.join(', ')} link lookups ` +
        `(a window measured back from the bookmark would re-read ${figures.bulk_former_window_rows_per_run} rows every run)`,
    );
    console.log(JSON.stringify(figures));
  } finally {
    await sql.end();
    await emulators.stop();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--bulk')) await bulkChild();
else if (process.argv.includes('--child')) await child();
else await main();

/**
 * Verify benchmark (issue 10): a sync of N rows (default 1,000,000) whose target copy in the
 * warehouse matches, and N links in the DynamoDB emulator; one verification, timed, with its peak
 * RSS, against the 15-minute budget of one Lambda run. Prints figures and, last, one JSON line.
 * Usage: npm run bench -- verify [--rows 1000000]
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { startEmbeddedPostgres } from '../local/EmbeddedPostgres.ts';
import { startLocalEmulators } from '../local/LocalEmulators.ts';
import { provisionLocal } from '../local/provisionLocal.ts';
import { createAwsClients } from '../shared/aws/awsClients.ts';
import { validateConfig } from '../shared/config/validateConfig.ts';
import { DynamoLinkStore } from '../shared/links/DynamoLinkStore.ts';
import { warehousePool } from '../shared/postgresPools.ts';
import { DynamoStateStore } from '../shared/state/DynamoStateStore.ts';
import { contentHash } from '../shared/util/contentHash.ts';
import { verifySync } from '../shared/verify/verifySync.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const rows = Number(arg('rows', '1000000'));
const LAMBDA_BUDGET_S = 900;

const config = validateConfig({
  connections: { sink: { type: 'postgres', url: 'postgres://unused' } },
  syncs: [
    {
      name: 'bench',
      source: { table: 'bench.items', key: 'id', cursor: 'loaded_at' },
      target: { connection: 'sink', object: 'x', externalId: 'ext_id' },
      map: (row: Record<string, unknown>) => ({ email: row.email, score: row.score }),
      verify: { table: 'copy.items', externalIdColumn: 'ext_id', targetIdColumn: 'target_id' },
    },
  ],
});
const sync = config.syncs[0]!;

const dir = mkdtempSync(join(tmpdir(), 'wb-bench-verify-'));
const pg = await startEmbeddedPostgres({ dataDir: join(dir, 'pg') });
const emulators = await startLocalEmulators();
const sql = warehousePool(pg.url(), { max: 4 });
try {
  process.stderr.write(`source and target copy of ${rows} rows…\n`);
  await sql`create schema bench`;
  await sql`create table bench.items (id bigint primary key, email text, score int, loaded_at timestamptz not null)`;
  await sql.unsafe(`insert into bench.items select i, 'user' || i || '@example.com', i % 1000,
    timestamptz '2025-01-01' + i * interval '1 second' from generate_series(1, ${rows}) i`);
  await sql`create index on bench.items (loaded_at, id)`;
  await sql`create schema copy`;
  await sql.unsafe(
    `create table copy.items as select id::text as ext_id, 't' || id as target_id, email, score from bench.items`,
  );

  process.stderr.write(`${rows} links into the DynamoDB emulator…\n`);
  const aws = createAwsClients({ dynamodb: emulators.dynamodbEndpoint, sqs: emulators.sqsEndpoint });
  const res = await provisionLocal(aws, 'bench', config.syncs);
  const state = new DynamoStateStore(aws.ddb, res.stateTable);
  const t0 = performance.now();
  let next = 1;
  const writer = async () => {
    while (next <= rows) {
      const from = next;
      next += 25;
      const items = [];
      for (let i = from; i < Math.min(from + 25, rows + 1); i++) {
        const hash = contentHash({ email: `user${i}@example.com`, score: i % 1000 });
        items.push({
          PutRequest: {
            Item: {
              pk: { S: `bench#${i}` },
              sync: { S: 'bench' },
              skey: { S: String(i) },
              status: { S: 'ok' },
              targetId: { S: `t${i}` },
              hash: { S: hash },
              version: { N: String(1735689600000000 + i * 1000000) },
              attempts: { N: '0' },
              updatedAt: { S: '2025-01-01T00:00:00.000Z' },
            },
          },
        });
      }
      let request: Record<string, typeof items> | undefined = { [res.linksTable]: items };
      while (request && Object.keys(request).length > 0) {
        const out = await aws.ddb.send(new BatchWriteItemCommand({ RequestItems: request }));
        request = out.UnprocessedItems as typeof request;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, writer));
  process.stderr.write(`links seeded in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  // The source is fully synced: the bookmark sits on its last row.
  await state.acquireLease('bench', 'bench', Date.now(), 60_000);
  const [last] =
    await sql`select loaded_at::text as c, id::text as k from bench.items order by loaded_at desc, id desc limit 1`;
  await state.saveBookmark('bench', 'bench', { cursor: last!.c, key: [last!.k] }, Date.now(), 60_000);
  await state.releaseLease('bench', 'bench');

  process.stderr.write('verify…\n');
  const rssBefore = process.memoryUsage().rss;
  const t1 = performance.now();
  const report = await verifySync(sync, {
    dwh: sql,
    links: new DynamoLinkStore(aws.ddb, res.linksTable),
    state,
    now: Date.now,
  });
  const seconds = (performance.now() - t1) / 1000;
  const figures = {
    bench: 'verify',
    rows,
    seconds: Number(seconds.toFixed(1)),
    rows_per_s: Math.round(rows / seconds),
    share_of_lambda_budget: Number((seconds / LAMBDA_BUDGET_S).toFixed(3)),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    rss_before_verify_mb: Math.round(rssBefore / 2 ** 20),
    clean: report.clean,
    counts: report.counts,
  };
  console.log(
    `verify of ${rows} rows and links: ${figures.seconds} s (${figures.rows_per_s} rows/s), ` +
      `${(figures.share_of_lambda_budget * 100).toFixed(1)} % of a 15-minute Lambda run; peak RSS ${figures.peak_rss_mb} MB; clean: ${report.clean}`,
  );
  console.log(JSON.stringify(figures));
} finally {
  await sql.end();
  await emulators.stop();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}

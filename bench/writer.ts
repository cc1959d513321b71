/**
 * `npm run bench -- writer [--records N] [--batch B] [--requests R] [--per-ms W] [--concurrency C] [--no-shared-limiter]`
 *
 * Writer throughput against the HubSpot fake with a rate limit of R requests per W ms: N changed
 * records are enqueued, then the real write handler (C concurrent invocations, batches of B)
 * drains them through the shared rate limiter (DynamoRateLimiter in the link table, as on AWS
 * where writer containers share nothing else). Prints the achieved request rate as a share of
 * the allowed rate (goal ≥ 0.9), the share of calls answered 429, and target calls per changed
 * record (goal 1 / B, rounded up per batch). The last line is the JSON of the figures.
 */
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { LocalStack } from '../local/LocalStack.ts';
import { ConfigSchema } from '../shared/config/schema.ts';
import { SqsEnqueuer } from '../shared/queue/SqsEnqueuer.ts';
import type { WriteMessage } from '../shared/queue/WriteMessage.ts';
import { contentHash } from '../shared/util/contentHash.ts';
import { DynamoRateLimiter } from '../shared/write/DynamoRateLimiter.ts';
import type { SharedRateLimiter } from '../shared/write/SharedRateLimiter.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '10' },
    requests: { type: 'string', default: '100' },
    'per-ms': { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '4' },
    'no-shared-limiter': { type: 'boolean', default: false },
  },
});
const records = Number(values.records);
const batch = Number(values.batch);
const requests = Number(values.requests);
const perMs = Number(values['per-ms']);
const concurrency = Number(values.concurrency);
const sync = 'bench-contacts';

const config = ConfigSchema.parse({
  connections: { hubspot: { type: 'hubspot' } },
  syncs: [
    {
      name: sync,
      source: { table: 'bench.unused', key: 'id', cursor: 'updated_at' },
      target: { connection: 'hubspot', object: 'contacts', externalId: 'dwh_customer_id' },
      map: (row: Record<string, unknown>) => row,
      batchSize: batch,
      concurrency,
      maxReceiveCount: 20,
    },
  ],
});

let limiter: SharedRateLimiter | undefined;
const stack = await LocalStack.start({
  config,
  logger: new Logger({ serviceName: 'writeback-bench', logLevel: 'SILENT' }),
  hubspot: { rateLimit: { max: requests, intervalMs: perMs, retryAfterHeader: true } },
  writeOptions: () => (limiter ? { limiter } : {}),
});
try {
  if (!values['no-shared-limiter']) {
    limiter = new DynamoRateLimiter(stack.links.ddb, stack.links.table, 'hubspot', { requests, perMs });
  }
  const enqueuedAt = new Date().toISOString();
  const messages: WriteMessage[] = Array.from({ length: records }, (_, i) => {
    const payload = { email: `b${i}@bench.test`, firstname: `name ${i}` };
    return {
      v: 1,
      sync,
      key: String(i + 1),
      version: '1',
      hash: contentHash(payload),
      payload,
      runId: 'bench',
      enqueuedAt,
    };
  });
  await new SqsEnqueuer(stack.aws.sqs, stack.resources.queues[sync]!.url).sendAll(messages);

  const started = Date.now();
  stack.startWriters({ waitSeconds: 1 });
  await stack.drain(30 * 60_000);
  const elapsedMs = Date.now() - started;
  await stack.stopWriters();

  const calls = stack.hubspot.calls({ method: 'POST', path: 'contacts/batch/upsert' });
  const limited = calls.filter((c) => c.status === 429).length;
  const first = calls[0]?.at ?? started;
  const last = calls[calls.length - 1]?.at ?? started;
  const allowedPerSecond = (requests * 1000) / perMs;
  const achievedPerSecond = calls.length > 1 ? ((calls.length - 1) * 1000) / (last - first) : 0;
  const written = stack.hubspot.records('contacts').length;
  const figures = {
    bench: 'writer',
    records,
    written,
    batchSize: batch,
    concurrency,
    sharedLimiter: limiter !== undefined,
    allowedPerSecond,
    achievedPerSecond: round(achievedPerSecond),
    rateShare: round(achievedPerSecond / allowedPerSecond),
    targetCalls: calls.length,
    share429: round(calls.length === 0 ? 0 : limited / calls.length),
    callsPerRecord: round(calls.length / records),
    idealCallsPerRecord: round(Math.ceil(records / batch) / records),
    recordsPerSecond: round((written * 1000) / elapsedMs),
    elapsedMs,
    write: stack.stats(sync).write,
  };
  process.stdout.write(
    [
      `writer: ${written}/${records} records in ${(elapsedMs / 1000).toFixed(1)} s (${figures.recordsPerSecond}/s), batches of ${batch}, ${concurrency} writers`,
      `rate:   ${figures.achievedPerSecond} requests/s of ${allowedPerSecond} allowed = ${figures.rateShare} (goal >= 0.9)`,
      `429s:   ${limited} of ${calls.length} calls = ${figures.share429}`,
      `calls per changed record: ${figures.callsPerRecord} (goal ${figures.idealCallsPerRecord})`,
      JSON.stringify(figures),
    ].join('\n') + '\n',
  );
} finally {
  await stack.stop();
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

import { setTimeout as sleep } from 'node:timers/promises';
import type { Connector, UpsertRecord } from '../shared/connectors/Connector.ts';

/** What draining a backlog took. */
export interface DrainReport {
  /** Target id per record key: every record that landed. */
  readonly written: Map<string, string>;
  /** Records that failed permanently (should be none for a valid backlog). */
  readonly failed: Map<string, string>;
  /** upsertBatch calls made. */
  readonly batches: number;
  /** Records handed back (retryable failures) and sent again. */
  readonly requeued: number;
  readonly elapsedMs: number;
}

/**
 * Several writers drain one backlog through their own connectors, as concurrent writer
 * invocations drain one queue: each takes the next `batchSize` records, and a record that fails
 * retryably goes back to the queue (after its retryAfter, capped by `maxRequeueDelayMs`), as
 * SQS would redeliver it. Resolves when every record has landed or failed permanently.
 */
export async function drainBacklog(
  writers: readonly Connector[],
  object: string,
  backlog: readonly UpsertRecord[],
  opts: { batchSize: number; maxRequeueDelayMs?: number },
): Promise<DrainReport> {
  const started = Date.now();
  const queue = [...backlog];
  const written = new Map<string, string>();
  const failed = new Map<string, string>();
  let inFlight = 0;
  let delayed = 0;
  let batches = 0;
  let requeued = 0;
  await Promise.all(
    writers.map(async (connector) => {
      for (;;) {
        const chunk = queue.splice(0, opts.batchSize);
        if (chunk.length === 0) {
          if (inFlight === 0 && delayed === 0) return;
          await sleep(10);
          continue;
        }
        inFlight++;
        batches++;
        const results = await connector.upsertBatch(object, chunk).finally(() => {
          inFlight--;
        });
        const byKey = new Map(chunk.map((r) => [r.key, r]));
        for (const r of results) {
          if (r.ok) written.set(r.key, r.targetId);
          else if (r.error.disposition === 'permanent') failed.set(r.key, r.error.message);
          else {
            requeued++;
            delayed++;
            const wait = Math.min((r.error.retryAfterSeconds ?? 0) * 1000, opts.maxRequeueDelayMs ?? 1000);
            const record = byKey.get(r.key)!;
            void sleep(wait).then(() => {
              queue.push(record);
              delayed--;
            });
          }
        }
      }
    }),
  );
  return { written, failed, batches, requeued, elapsedMs: Date.now() - started };
}

/** The most calls that fell into any window of `intervalMs` (calls stamped when they arrived). */
export function maxInAnyWindow(stamps: readonly number[], intervalMs: number): number {
  const sorted = [...stamps].sort((a, b) => a - b);
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[lo] ?? 0) <= (sorted[hi] ?? 0) - intervalMs) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

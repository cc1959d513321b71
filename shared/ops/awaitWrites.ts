import type { LinkStatus } from '../links/Link.ts';
import type { RunWrites } from '../links/linkCensus.ts';
import type { RunRecord } from '../state/RunRecord.ts';
import type { OpsContext } from './OpsContext.ts';
import { type QueueDepth, waitForQueueDrained } from './queueDepth.ts';
import { type RunResult, runResult } from './runs.ts';

/** How long and how visibly to wait for the writers. */
export interface AwaitOptions {
  /** Give up waiting after this long. @default 600000 */
  readonly timeoutMs?: number;
  readonly onTick?: (depth: QueueDepth) => void;
}

/**
 * Waits for a run's records to be written (the sync's queue drained), then says how the run
 * ended: its result and what its records became. `drained` false: the timeout came first.
 */
export async function awaitRunWrites(
  ctx: OpsContext,
  run: RunRecord,
  opts: AwaitOptions = {},
): Promise<{ drained: boolean; writes: RunWrites; result: RunResult }> {
  const drained =
    run.counts.enqueued === 0 ||
    (await waitForQueueDrained(ctx.aws.sqs, ctx.syncResources(run.sync), {
      timeoutMs: opts.timeoutMs ?? 600_000,
      pollMs: ctx.exactQueues ? 250 : 1000,
      ...(opts.onTick ? { onTick: opts.onTick } : {}),
    }));
  const census = await ctx.links.census({
    syncs: new Set([run.sync]),
    runStarts: new Map([[run.runId, run.startedAt]]),
  });
  const writes = census.get(run.sync)?.byRun.get(run.runId) ?? {
    created: 0,
    updated: 0,
    retrying: 0,
    failed: 0,
  };
  return { drained, writes, result: runResult(run, writes) };
}

/** Waits for the queue to drain, then reads the links of some keys: how many ended in each status. */
export async function awaitKeys(
  ctx: OpsContext,
  syncName: string,
  keys: readonly string[],
  opts: AwaitOptions = {},
): Promise<{ drained: boolean; byStatus: Partial<Record<LinkStatus, number>>; notOk: string[] }> {
  const drained =
    keys.length === 0 ||
    (await waitForQueueDrained(ctx.aws.sqs, ctx.syncResources(syncName), {
      timeoutMs: opts.timeoutMs ?? 600_000,
      pollMs: ctx.exactQueues ? 250 : 1000,
      ...(opts.onTick ? { onTick: opts.onTick } : {}),
    }));
  const links = await ctx.links.batchGet(syncName, keys);
  const byStatus: Partial<Record<LinkStatus, number>> = {};
  const notOk: string[] = [];
  for (const key of keys) {
    const status = links.get(key)?.status ?? 'pending';
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    if (status !== 'ok') notOk.push(key);
  }
  return { drained, byStatus, notOk };
}

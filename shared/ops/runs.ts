import type { RunWrites } from '../links/linkCensus.ts';
import type { RunRecord } from '../state/RunRecord.ts';
import type { OpsContext } from './OpsContext.ts';

/**
 * How a run ended, extract and writes together: `failed` (the extract failed), `partial` (some of
 * its records failed permanently or died: they are in the DLQ), `writing` (some are still queued or
 * retrying), `succeeded`, or `skipped` (disabled, or another run held the lease).
 */
export type RunResult = 'succeeded' | 'partial' | 'failed' | 'writing' | 'skipped';

/** A run of the history with what its records became. */
export interface RunSummary {
  readonly run: RunRecord;
  readonly result: RunResult;
  readonly durationMs: number;
  /** Undefined when not counted (`--fast`). */
  readonly writes: RunWrites | undefined;
}

/** The outcome a run's record and its links add up to. */
export function runResult(run: RunRecord, writes: RunWrites | undefined): RunResult {
  if (run.outcome === 'failed' || run.outcome === 'skipped') return run.outcome;
  if ((writes?.failed ?? 0) > 0) return 'partial';
  if ((writes?.retrying ?? 0) > 0) return 'writing';
  if (run.outcome === 'partial') return 'partial';
  return 'succeeded';
}

/**
 * The newest runs of a sync with their extract counts (from the run history) and write counts
 * (from the links: each link remembers the run that last wrote it, so a record that a later run
 * rewrote counts for the later run, and a record redriven from the DLQ keeps its run).
 */
export async function runHistory(
  ctx: OpsContext,
  syncName: string,
  opts: { limit?: number; fast?: boolean } = {},
): Promise<RunSummary[]> {
  ctx.sync(syncName);
  const runs = await ctx.state.listRuns(syncName, opts.limit ?? 20);
  const census = opts.fast
    ? undefined
    : (
        await ctx.links.census({
          syncs: new Set([syncName]),
          runStarts: new Map(runs.map((r) => [r.runId, r.startedAt])),
        })
      ).get(syncName);
  return runs.map((run) => {
    const writes = opts.fast ? undefined : (census?.byRun.get(run.runId) ?? zeroWrites());
    return {
      run,
      result: runResult(run, writes),
      durationMs: Date.parse(run.finishedAt) - Date.parse(run.startedAt),
      writes,
    };
  });
}

function zeroWrites(): RunWrites {
  return { created: 0, updated: 0, retrying: 0, failed: 0 };
}

import type { OpsContext } from '../../shared/ops/OpsContext.ts';
import { runHistory } from '../../shared/ops/runs.ts';
import { cut, duration, position, table, when } from '../format.ts';
import { out, outJson } from '../output.ts';

/** `writeback runs <sync>`: the run history, newest first. */
export async function runsCommand(
  ctx: OpsContext,
  sync: string,
  opts: { limit?: number; fast?: boolean },
  json: boolean,
): Promise<number> {
  const runs = await runHistory(ctx, sync, {
    limit: opts.limit ?? 20,
    ...(opts.fast ? { fast: true } : {}),
  });
  if (json) {
    outJson({ sync, runs });
    return 0;
  }
  if (runs.length === 0) {
    out(`${sync}: no runs yet (writeback run ${sync} starts one)`);
    return 0;
  }
  const rows = runs.map(({ run, result, durationMs, writes }) => [
    when(run.startedAt),
    result,
    duration(durationMs),
    String(run.counts.read),
    String(run.counts.unchanged),
    String(run.counts.enqueued),
    writes ? String(writes.created) : '?',
    writes ? String(writes.updated) : '?',
    writes ? String(writes.failed) : '?',
    writes ? String(writes.retrying) : '?',
    `${position(run.bookmarkBefore)} → ${position(run.bookmarkAfter)}`,
  ]);
  for (const l of table(
    [
      'STARTED',
      'RESULT',
      'TOOK',
      'READ',
      'UNCHANGED',
      'ENQUEUED',
      'CREATED',
      'UPDATED',
      'FAILED',
      'RETRYING',
      'BOOKMARK before → after',
    ],
    rows,
  ))
    out(l);
  for (const { run } of runs) {
    if (run.message) out(`  ${when(run.startedAt)} ${run.outcome}: ${cut(run.message, 160)}`);
  }
  out("  created/updated/failed/retrying: what became of each run's records, as their links say now");
  return 0;
}

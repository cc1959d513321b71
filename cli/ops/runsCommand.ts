import { auditTrail } from '../../shared/ops/audit.ts';
import type { OpsContext } from '../../shared/ops/OpsContext.ts';
import { runHistory } from '../../shared/ops/runs.ts';
import type { OperatorAction } from '../../shared/state/OperatorAction.ts';
import { cut, duration, position, table, when } from '../format.ts';
import { out, outJson } from '../output.ts';
import { actionLines } from './auditCommand.ts';

/** Operator actions shown under the runs (`writeback audit <sync>` has them all). */
const ACTIONS_SHOWN = 5;

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
  const actions = await auditTrail(ctx, [sync], ACTIONS_SHOWN);
  if (json) {
    outJson({ sync, runs, actions });
    return 0;
  }
  if (runs.length === 0) {
    out(`${sync}: no runs yet (writeback run ${sync} starts one)`);
    printActions(sync, actions);
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
    const c = run.counts;
    if (c.echoes || c.awaitingReload || c.conflicts) {
      out(
        `  ${when(run.startedAt)} two-way: ${c.echoes ?? 0} echo(es) settled without a call, ` +
          `${c.awaitingReload ?? 0} row(s) awaiting the reload of our write, ${c.conflicts ?? 0} conflict(s)`,
      );
    }
    for (const k of run.conflicts ?? []) {
      out(
        `    conflict ${k.key}.${k.field}: ${k.source ?? 'empty'} vs ${k.target ?? 'empty'} → side ${k.winner} wins`,
      );
    }
  }
  out("  created/updated/failed/retrying: what became of each run's records, as their links say now");
  printActions(sync, actions);
  return 0;
}

/** The newest operator actions on the sync, under its runs. */
function printActions(sync: string, actions: readonly OperatorAction[]): void {
  if (actions.length === 0) return;
  out();
  out(`operator actions on ${sync}, newest first (writeback audit ${sync} lists them all):`);
  for (const l of actionLines(actions, false)) out(`  ${l}`);
}

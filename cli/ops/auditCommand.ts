import { auditTrail } from '../../shared/ops/audit.ts';
import type { OpsContext } from '../../shared/ops/OpsContext.ts';
import type { OperatorAction } from '../../shared/state/OperatorAction.ts';
import { cut, table, when } from '../format.ts';
import { EXIT, out, outJson } from '../output.ts';

/** `writeback audit [sync…]`: who changed what, newest first. */
export async function auditCommand(
  ctx: OpsContext,
  syncs: readonly string[],
  opts: { limit?: number },
  json: boolean,
): Promise<number> {
  const actions = await auditTrail(ctx, syncs, opts.limit ?? 50);
  if (json) {
    outJson({ actions });
    return EXIT.ok;
  }
  if (actions.length === 0) {
    out(`no operator actions recorded${syncs.length > 0 ? ` for ${syncs.join(', ')}` : ''}`);
    return EXIT.ok;
  }
  for (const l of actionLines(actions, true)) out(l);
  return EXIT.ok;
}

/** The actions as a table: when, (sync,) what, who, how many records, outcome, detail. */
export function actionLines(actions: readonly OperatorAction[], withSync: boolean): string[] {
  return table(
    ['AT', ...(withSync ? ['SYNC'] : []), 'ACTION', 'WHO', 'RECORDS', 'OUTCOME', 'DETAIL'],
    actions.map((a) => [
      when(a.at),
      ...(withSync ? [a.sync] : []),
      a.action,
      a.actor.kind === 'aws' ? a.actor.id : `${a.actor.id}@${a.actor.host} (local)`,
      a.records === undefined ? '-' : String(a.records),
      a.outcome,
      cut(a.outcome === 'failed' && a.message ? `${a.detail ?? ''} — ${a.message}` : (a.detail ?? ''), 160),
    ]),
  );
}

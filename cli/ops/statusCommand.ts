import type { OpsContext } from '../../shared/ops/OpsContext.ts';
import { type SyncStatus, syncStatus } from '../../shared/ops/status.ts';
import { ago, cut, duration, table } from '../format.ts';
import { out, outJson } from '../output.ts';

export interface StatusOptions {
  readonly fast?: boolean;
  readonly lag?: boolean;
}

/** `writeback status [sync…]`: one line per sync. */
export async function statusCommand(
  ctx: OpsContext,
  syncs: readonly string[],
  opts: StatusOptions,
  json: boolean,
): Promise<number> {
  const lines = await syncStatus(ctx, {
    ...(syncs.length > 0 ? { syncs } : {}),
    ...(opts.fast ? { fast: true } : {}),
    ...(opts.lag !== undefined ? { lag: opts.lag } : {}),
  });
  if (json) {
    outJson({ stack: ctx.description, syncs: lines });
    return 0;
  }
  out(`${ctx.description}`);
  const rows = lines.map((s) => [
    s.sync,
    s.enabled ? (s.running ? 'running' : 'on') : 'off',
    s.schedule,
    s.lastRun ? `${s.lastRun.result} ${ago(s.lastRun.finishedAt)}` : 'never',
    s.bookmark ? cut(s.bookmark.cursor, 32) : '(start)',
    lagText(s),
    String(s.queue.visible + s.queue.inFlight + s.queue.delayed),
    String(s.queue.dlq),
    `${s.links.ok ?? '?'}/${s.links.pending}/${s.links.retrying}/${s.links.failed}/${s.links.dead}`,
  ]);
  for (const l of table(
    [
      'SYNC',
      'STATE',
      'SCHEDULE',
      'LAST RUN',
      'BOOKMARK',
      'BEHIND',
      'QUEUE',
      'DLQ',
      'LINKS ok/pending/retrying/failed/dead',
    ],
    rows,
  ))
    out(l);
  for (const s of lines) {
    if (s.stuck) out(`  ${s.sync}: STUCK: ${cut(s.stuck, 240)}`);
    for (const a of s.lastRun?.setAside ?? [])
      out(`  ${s.sync}: ${a.count} row(s) set aside, ${a.code}: ${cut(a.message, 240)}`);
    if (s.lastRun?.message && !s.lastRun.setAside)
      out(`  ${s.sync}: last run ${s.lastRun.outcome}: ${cut(s.lastRun.message, 160)}`);
    if (s.pass)
      out(`  ${s.sync}: a pass started ${s.pass.since} continues from cursor ${cut(s.pass.at, 40)}`);
    if (s.queue.dlq > 0)
      out(`  ${s.sync}: ${s.queue.dlq} record(s) in the DLQ: writeback dlq list ${s.sync}`);
  }
  const lagErrors = new Set(lines.flatMap((s) => (s.lag && 'error' in s.lag ? [s.lag.error] : [])));
  for (const e of lagErrors) out(`  backlog unknown: ${cut(e, 200)}`);
  if (opts.fast) out('  (--fast: ok links not counted)');
  return 0;
}

function lagText(s: SyncStatus): string {
  if (!s.lag) return '-';
  if ('error' in s.lag) return '?';
  const rows = `${s.lag.rowsBehind}${s.lag.capped ? '+' : ''} rows`;
  return s.lag.lagSeconds === undefined || s.lag.rowsBehind === 0
    ? rows
    : `${rows}, ${duration(s.lag.lagSeconds * 1000)}`;
}

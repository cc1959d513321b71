import { awaitRunWrites } from '../../shared/ops/awaitWrites.ts';
import type { OpsContext } from '../../shared/ops/OpsContext.ts';
import { type PlannedRecord, planSync } from '../../shared/ops/plan.ts';
import { runNow } from '../../shared/ops/runNow.ts';
import { parseTimeout } from '../args.ts';
import { cut, duration, position, show, table } from '../format.ts';
import { EXIT, out, outJson, progress, progressDone } from '../output.ts';

export interface RunOptions {
  readonly dryRun?: boolean;
  readonly wait?: boolean;
  readonly timeout?: string;
  readonly limit?: number;
  readonly diffLimit?: number;
  readonly all?: boolean;
}

/** `writeback run <sync>`: one extract run now (lease respected); `--wait` for its writes too. */
export async function runCommand(
  ctx: OpsContext,
  sync: string,
  opts: RunOptions,
  json: boolean,
): Promise<number> {
  if (opts.dryRun) return planCommand(ctx, sync, opts, json);
  const timeoutMs = parseTimeout(opts.timeout);
  const run = await runNow(ctx, sync, {
    onProgress: (c) =>
      progress(`${sync}: read ${c.read} · unchanged ${c.unchanged} · enqueued ${c.enqueued}`),
  });
  progressDone();
  const waited =
    opts.wait && run.outcome === 'succeeded'
      ? await awaitRunWrites(ctx, run, {
          timeoutMs,
          onTick: (d) => progress(`${sync}: writing… queue ${d.visible + d.inFlight} · dlq ${d.dlq}`),
        })
      : undefined;
  progressDone();
  const failed =
    run.outcome === 'failed' ||
    run.outcome === 'skipped' ||
    (waited !== undefined && (waited.result !== 'succeeded' || !waited.drained));
  if (json) {
    outJson({ run, ...(waited ?? {}) });
    return failed ? EXIT.failed : EXIT.ok;
  }
  const c = run.counts;
  const took = duration(Date.parse(run.finishedAt) - Date.parse(run.startedAt));
  out(
    `run ${run.runId} of ${sync}: extract ${run.outcome} in ${took}: read ${c.read}, unchanged ${c.unchanged}, enqueued ${c.enqueued}` +
      (c.invalid ? `, invalid ${c.invalid}` : ''),
  );
  if (run.outcome !== 'skipped') {
    out(
      `  bookmark ${position(run.bookmarkBefore)} → ${position(run.bookmarkAfter)}${run.backlog ? ' (backlog continues)' : ''}`,
    );
  }
  if (run.message) out(`  ${run.message}`);
  if (run.outcome === 'skipped' && /disabled/.test(run.message ?? ''))
    out(`  enable it: writeback enable ${sync}`);
  if (run.outcome === 'failed') out(`  history: writeback runs ${sync}`);
  if (waited) {
    const w = waited.writes;
    out(
      `  result: ${waited.result} (created ${w.created}, updated ${w.updated}, failed ${w.failed}, retrying ${w.retrying})` +
        (waited.drained ? '' : ', timed out waiting for the queue'),
    );
    if (w.failed > 0) out(`  the failed records are in the DLQ: writeback dlq list ${sync}`);
  } else if (run.outcome === 'succeeded' && c.enqueued > 0) {
    out(`  the writers take it from here; --wait waits for them (writeback status shows the queue)`);
  }
  return failed ? EXIT.failed : EXIT.ok;
}

/** `writeback plan <sync>` / `run --dry-run`: what a run would do, without doing it. */
export async function planCommand(
  ctx: OpsContext,
  sync: string,
  opts: RunOptions,
  json: boolean,
): Promise<number> {
  const plan = await planSync(ctx, sync, {
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    ...(opts.diffLimit !== undefined ? { diffLimit: opts.diffLimit } : {}),
    onProgress: (line) => progress(`${sync}: ${line}`),
  });
  progressDone();
  if (json) {
    outJson(opts.all ? plan : { ...plan, records: plan.records.filter((r) => r.action !== 'skip') });
    return EXIT.ok;
  }
  const n = plan.counts;
  out(
    `plan for ${sync} (dry run, nothing written): ${plan.rowsRead} rows after ${position(plan.bookmark)}` +
      `${plan.more ? ' (more beyond --limit)' : ''}`,
  );
  if (plan.remapped)
    out('  the mapping changed since the last run: the next run reads every row from the start');
  out(
    `  create ${n.create} · update ${n.update} · skip ${n.skip} · invalid ${n.invalid} · delete ${n.delete}` +
      (ctx.sync(sync).deletes ? '' : ' (deletes are off for this sync)'),
  );
  // A direction of a two-way pair: both apps changed these fields; the rule picks the winner.
  for (const k of plan.conflicts ?? []) {
    out(
      `  conflict ${k.key}.${k.field}: ${show(k.source)} here vs ${show(k.target)} there → side ${k.winner} wins`,
    );
  }
  const shown = plan.records.filter((r) => opts.all || r.action !== 'skip');
  if (shown.length === 0) return EXIT.ok;
  const rows = shown.flatMap(planRows);
  out();
  for (const l of table(['KEY', 'ACTION', 'TARGET ID', 'CHANGES'], rows)) out(l);
  const undiffed = shown.filter(
    (r) => (r.action === 'create' || r.action === 'update') && !r.diff && !r.diffError,
  ).length;
  if (undiffed > 0)
    out(`  ${undiffed} record(s) not looked up in the target: --diff-limit ${undiffed + 20} shows more`);
  return EXIT.ok;
}

function planRows(r: PlannedRecord): string[][] {
  const head = [r.key, r.action, r.targetId ?? '-'];
  if (r.diffError) return [[...head, `(target lookup failed: ${cut(r.diffError, 80)})`]];
  if (!r.diff) return [[...head, r.reason ? cut(r.reason, 100) : '']];
  if (r.diff.length === 0) return [[...head, 'target already holds this content']];
  const changes = r.diff.map((d) => `${d.field}: ${cut(show(d.from), 40)} → ${cut(show(d.to), 40)}`);
  // Why it waits (its parent) matters as much as what changes.
  if (r.reason) changes.push(`(${cut(r.reason, 100)})`);
  return changes.map((c, i) => [...(i === 0 ? head : ['', '', '']), c]);
}

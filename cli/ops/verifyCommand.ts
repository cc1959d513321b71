import { loadLocalCopies } from '../../local/loadTargetCopies.ts';
import { ConfirmationRequiredError, UsageError } from '../../shared/ops/errors.ts';
import type { OpsContext } from '../../shared/ops/OpsContext.ts';
import { type HeldRepair, verifySyncs } from '../../shared/ops/verify.ts';
import { DEFAULT_REPAIR_MAX, type RepairResult } from '../../shared/verify/repairSync.ts';
import {
  FINDING_KINDS,
  type Finding,
  type VerifyAnswer,
  type VerifyReport,
} from '../../shared/verify/VerifyReport.ts';
import { cut, duration, table } from '../format.ts';
import { confirm, EXIT, out, outJson, progress, progressDone } from '../output.ts';

export interface VerifyCommandOptions {
  readonly repair?: boolean;
  readonly dryRun?: boolean;
  readonly max?: number;
  readonly yes?: boolean;
  readonly loadCopies?: boolean;
}

/** Keys shown per finding kind in the text output (`--json` has the report's findings). */
const KEYS_SHOWN = 5;
/** Keys a dry run lists in the text output (`--json` has up to 1000). */
const DRY_RUN_KEYS_SHOWN = 20;

/**
 * `writeback verify [sync…] [--repair [--dry-run] [--max n] [--yes]] [--load-copies]`: a summary
 * line per sync, the first keys of each finding kind, and what a repair sent (or, with --dry-run,
 * would send). A repair of more records than --max (default 1000) waits for a confirmation: the
 * person at the terminal, or --yes; without either it is refused (exit 2) and nothing of it is
 * sent. Exit 1 when anything but backlog was found.
 */
export async function verifyCommand(
  ctx: OpsContext,
  syncs: readonly string[],
  opts: VerifyCommandOptions,
  json: boolean,
): Promise<number> {
  if (!opts.repair) {
    const stray = [opts.dryRun && '--dry-run', opts.max !== undefined && '--max', opts.yes && '--yes'].filter(
      Boolean,
    );
    if (stray.length > 0) {
      throw new UsageError(
        `${stray.join(', ')} go${stray.length === 1 ? 'es' : ''} with --repair (verify alone changes nothing)`,
      );
    }
  }
  if (opts.dryRun && opts.yes) throw new UsageError('give either --dry-run or --yes, not both');
  const max = opts.yes ? Number.POSITIVE_INFINITY : (opts.max ?? DEFAULT_REPAIR_MAX);
  const res = await verifySyncs(ctx, syncs, {
    ...(opts.repair ? { repair: true, max } : {}),
    ...(opts.repair && opts.dryRun ? { dryRun: true } : {}),
    ...(opts.loadCopies ? { loadCopies: loadLocalCopies } : {}),
    onProgress: progress,
  });
  progressDone();
  const verifications: VerifyAnswer[] = [...res.verifications];
  const clean = verifications.every((v) => v.clean);
  const code = clean ? EXIT.ok : EXIT.failed;
  if (!json) {
    for (const c of res.copies) {
      out(
        c.skipped
          ? `copy ${c.table} (${c.sync}): ${c.from}`
          : `loaded ${c.table}: ${c.records} record(s) from ${c.from}`,
      );
    }
    for (const line of verifyLines(verifications)) out(line);
  }
  if (res.held.length > 0) {
    try {
      await confirm(heldQuestion(res.held), 'repair', false);
    } catch (err) {
      if (json && err instanceof ConfirmationRequiredError)
        outJson({ clean, copies: res.copies, syncs: verifications });
      throw err;
    }
    for (const h of res.held) {
      progress(`${h.sync}: repairing…`);
      const repair = await h.send();
      progressDone();
      const i = verifications.findIndex((v) => v.sync === h.sync);
      verifications[i] = { ...verifications[i]!, repair };
      if (!json) out(repairLine(h.sync, repair, verifications[i]!.findings));
    }
  }
  if (json) outJson({ clean, copies: res.copies, syncs: verifications });
  return code;
}

/** What to confirm: the syncs whose repair passes the cap, and how to see or avoid the question. */
function heldQuestion(held: readonly HeldRepair[]): string {
  const list = held.map((h) => `${h.records} record(s) of ${h.sync}`).join(', ');
  const most = Math.max(...held.map((h) => h.records));
  return (
    `verify --repair would re-send ${list}, more than --max ${held[0]!.max} ` +
    `(--dry-run lists them; --max ${most} or --yes sends them without asking)`
  );
}

/**
 * The summary table (one line per sync: result, sizes, counts by kind, what was compared, time),
 * then per sync with findings its first keys per kind and what to do next. Shared with the demo.
 */
export function verifyLines(verifications: readonly VerifyAnswer[]): string[] {
  const lines = table(
    ['SYNC', 'RESULT', 'SOURCE', 'TARGET', ...FINDING_KINDS.map((k) => k.toUpperCase()), 'AGAINST', 'TOOK'],
    verifications.map((v) => [
      v.sync,
      v.clean ? 'clean' : 'FINDINGS',
      String(v.sourceRows),
      String(v.targetRecords),
      ...FINDING_KINDS.map((k) => String(v.counts[k])),
      v.against,
      duration(v.durationMs),
    ]),
  );
  for (const v of verifications) {
    if (v.associations) {
      lines.push(
        `  ${v.sync} associations with ${v.associations.with}: ${v.associations.checked} checked against ${v.associations.against}`,
      );
    }
    for (const kind of FINDING_KINDS) {
      const n = v.counts[kind];
      if (n === 0) continue;
      const shown = v.findings
        .filter((f) => f.kind === kind)
        .slice(0, KEYS_SHOWN)
        .sort((a, b) => a.key.localeCompare(b.key, 'en', { numeric: true }));
      const more = n > shown.length ? `, … ${n - shown.length} more` : '';
      lines.push(`  ${v.sync} ${kind} ${n}: ${shown.map(label).join(', ')}${more}`);
    }
    if (v.repair) lines.push(repairLine(v.sync, v.repair, v.findings));
  }
  const next = nextSteps(verifications);
  if (next.length > 0) lines.push(...next);
  return lines;
}

/** What a sync's repair sent, would send (dry run), or holds over the cap. */
function repairLine(sync: string, r: RepairResult, findings: readonly Finding[]): string {
  const gone =
    r.sourceGone.length > 0 ? `; source row gone, not sent: ${cut(r.sourceGone.join(', '), 120)}` : '';
  if (r.heldOverMax !== undefined) {
    return `  ${sync} repair: ${r.requested} record(s) to re-send, more than --max ${r.heldOverMax}: nothing sent yet`;
  }
  if (r.dryRun) {
    const byKey = new Map(findings.map((f) => [f.key, f]));
    const keys = r.wouldEnqueueKeys ?? [];
    const shown = keys.slice(0, DRY_RUN_KEYS_SHOWN).map((k) => {
      const f = byKey.get(k);
      return f ? label(f) : k;
    });
    const n = r.wouldEnqueue ?? keys.length;
    const more = n > shown.length ? `, … ${n - shown.length} more (--json lists up to 1000)` : '';
    return (
      `  ${sync} repair (dry run, nothing sent): would re-send ${n} record(s) from the current source rows` +
      (shown.length > 0 ? `: ${shown.join(', ')}${more}` : '') +
      gone +
      (r.invalid.length > 0
        ? `; map() refuses ${r.invalid.length} (a repair sends them to the DLQ with the reason)`
        : '')
    );
  }
  return (
    `  ${sync} repair: enqueued ${r.enqueued} record(s) from the current source rows (run ${r.runId})` +
    gone +
    (r.invalid.length > 0 ? `; map() refuses ${r.invalid.length} (they go to the DLQ with the reason)` : '')
  );
}

/** A finding in a few words: its key, and what kind of missing or orphan it is, or the fields that drifted. */
function label(f: Finding): string {
  if (f.fields) return `${f.key} (${f.fields.join(', ')})`;
  if (f.kind === 'missing') return `${f.key} (${/no link/.test(f.reason) ? 'no link' : 'not in the target'})`;
  if (f.kind === 'orphan')
    return `${f.key} (${/link to nothing/.test(f.reason) ? 'link to nothing' : 'source row gone'})`;
  return f.key;
}

function nextSteps(verifications: readonly VerifyAnswer[]): string[] {
  const out: string[] = [];
  const repairable = (v: VerifyReport) => v.counts.missing + v.counts.drift > 0;
  const toRepair = verifications.filter((v) => repairable(v) && !v.repair).map((v) => v.sync);
  const repaired = verifications.filter((v) => v.repair && v.repair.enqueued > 0).map((v) => v.sync);
  const dry = verifications
    .filter((v) => v.repair?.dryRun && (v.repair.wouldEnqueue ?? 0) > 0)
    .map((v) => v.sync);
  if (toRepair.length > 0) {
    out.push(
      `repair: writeback verify ${toRepair.join(' ')} --repair (re-sends the missing and drifted records; deletes nothing)`,
    );
  }
  if (dry.length > 0) {
    out.push(
      `repair: writeback verify ${dry.join(' ')} --repair (without --dry-run: sends them; deletes nothing)`,
    );
  }
  if (repaired.length > 0) {
    out.push(
      'verify again once the writers have drained the queue and the copies are reloaded (--load-copies on the local stack)',
    );
  }
  if (verifications.some((v) => v.counts.orphan > 0)) {
    out.push(
      'orphans are never deleted by Writeback: delete or archive them in the target, or restore their source rows',
    );
  }
  for (const v of verifications) {
    if (v.counts.dead > 0) out.push(`dead: writeback dlq list ${v.sync} (then dlq redrive once fixed)`);
  }
  return out;
}

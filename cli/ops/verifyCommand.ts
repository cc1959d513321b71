import { loadLocalCopies } from '../../local/loadTargetCopies.ts';
import type { OpsContext } from '../../shared/ops/OpsContext.ts';
import { verifySyncs } from '../../shared/ops/verify.ts';
import {
  FINDING_KINDS,
  type Finding,
  type VerifyAnswer,
  type VerifyReport,
} from '../../shared/verify/VerifyReport.ts';
import { cut, duration, table } from '../format.ts';
import { EXIT, out, outJson, progress, progressDone } from '../output.ts';

export interface VerifyCommandOptions {
  readonly repair?: boolean;
  readonly loadCopies?: boolean;
}

/** Keys shown per finding kind in the text output (`--json` has the report's findings). */
const KEYS_SHOWN = 5;

/**
 * `writeback verify [sync…] [--repair] [--load-copies]`: a summary line per sync, the first keys of
 * each finding kind, and what a repair sent. Exit 1 when anything but backlog was found.
 */
export async function verifyCommand(
  ctx: OpsContext,
  syncs: readonly string[],
  opts: VerifyCommandOptions,
  json: boolean,
): Promise<number> {
  const res = await verifySyncs(ctx, syncs, {
    ...(opts.repair ? { repair: true } : {}),
    ...(opts.loadCopies ? { loadCopies: loadLocalCopies } : {}),
    onProgress: progress,
  });
  progressDone();
  const clean = res.verifications.every((v) => v.clean);
  if (json) {
    outJson({ clean, copies: res.copies, syncs: res.verifications });
    return clean ? EXIT.ok : EXIT.failed;
  }
  for (const c of res.copies) {
    out(
      c.skipped
        ? `copy ${c.table} (${c.sync}): ${c.from}`
        : `loaded ${c.table}: ${c.records} record(s) from ${c.from}`,
    );
  }
  for (const line of verifyLines(res.verifications)) out(line);
  return clean ? EXIT.ok : EXIT.failed;
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
    if (v.repair) {
      const r = v.repair;
      lines.push(
        `  ${v.sync} repair: enqueued ${r.enqueued} record(s) from the current source rows (run ${r.runId})` +
          (r.sourceGone.length > 0
            ? `; source row gone, not sent: ${cut(r.sourceGone.join(', '), 120)}`
            : '') +
          (r.invalid.length > 0
            ? `; map() refuses ${r.invalid.length} (they go to the DLQ with the reason)`
            : ''),
      );
    }
  }
  const next = nextSteps(verifications);
  if (next.length > 0) lines.push(...next);
  return lines;
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
  if (toRepair.length > 0) {
    out.push(
      `repair: writeback verify ${toRepair.join(' ')} --repair (re-sends the missing and drifted records; deletes nothing)`,
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

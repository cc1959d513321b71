import type { RehearsalResult } from './rehearse.ts';

/** The middle value (the upper one of an even count); 0 for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** The rehearsal's report as the CLI prints it: what ran, the figures, every problem, the verdict. */
export function formatRehearsal(result: RehearsalResult): string[] {
  const lines: string[] = [];
  const fns = result.functions;
  const inits = fns.flatMap((f) => f.initMs);
  const bundles = new Set(fns.map((f) => f.bundleKb));
  lines.push(
    `functions: ${fns.length} from their cdk.out bundles (${[...bundles].map((kb) => `${kb} KB`).join(', ')}), ` +
      `${fns.reduce((n, f) => n + f.invocations, 0)} invocations, ${inits.length} cold starts ` +
      `(median ${Math.round(median(inits))} ms, max ${Math.round(Math.max(0, ...inits))} ms), ` +
      `max memory used ${Math.max(0, ...fns.map((f) => f.maxMemoryUsedMb))} MB`,
  );
  for (const r of result.rounds) {
    lines.push(
      `  round ${r.round}: ${r.extractRuns} extract runs enqueued ${r.enqueued} records in ${r.seconds.toFixed(1)} s`,
    );
  }
  const rate = result.drainSeconds > 0 ? result.recordsWritten / result.drainSeconds : 0;
  lines.push(
    `drained: ${result.recordsWritten} records written in ${result.drainSeconds.toFixed(1)} s (${rate.toFixed(1)} records/s)`,
  );
  if (result.iam) {
    const denied = result.iam.denied.length;
    lines.push(
      `IAM: ${result.iam.calls} AWS calls by ${result.iam.principals} roles checked against the template's policies: ${denied === 0 ? 'all allowed' : `${denied} denied`}`,
    );
    for (const d of result.iam.denied) lines.push(`  denied: ${d}`);
    if (result.iam.unused.length > 0) {
      lines.push(`  granted but not used in this rehearsal (least privilege: check each is needed):`);
      for (const u of result.iam.unused) lines.push(`    ${u}`);
    }
  }
  lines.push('operator CLI against the rehearsed stack (--stack):');
  for (const c of result.checks)
    lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.ok ? '' : `: ${c.detail}`}`);
  if (result.notRehearsed.length > 0) {
    lines.push(
      `not rehearsed (no emulator enforces them; a real account does): ${result.notRehearsed.join(', ')}`,
    );
  }
  if (result.problems.length > 0) {
    lines.push(`problems (${result.problems.length}):`);
    for (const p of result.problems) lines.push(`  ${p}`);
  }
  lines.push(result.ok ? 'rehearsal passed' : 'rehearsal FAILED');
  return lines;
}

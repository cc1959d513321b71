import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRehearsal } from '../local/rehearsal/formatRehearsal.ts';
import { rehearse } from '../local/rehearsal/rehearse.ts';
import { EXIT, out, outJson } from './output.ts';

export interface RehearseCommandOptions {
  readonly context?: readonly string[];
  readonly customers: number;
  readonly workDir?: string;
  readonly secrets?: string;
}

/** `-c key=value` pairs as a context record; a pair without `=` is a usage error. */
function contextOf(pairs: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--context ${pair}: expected key=value`);
    context[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return context;
}

/** `writeback rehearse`: the deployed form of the config, synthesized and run offline (docs/deploy.md). */
export async function rehearseCommand(
  configPath: string,
  opts: RehearseCommandOptions,
  json: boolean,
): Promise<number> {
  const workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), 'writeback-rehearsal-'));
  const result = await rehearse({
    configPath,
    context: contextOf(opts.context ?? []),
    customers: opts.customers,
    workDir,
    ...(opts.secrets ? { secretsFile: opts.secrets } : {}),
    ...(json ? {} : { say: (line: string) => out(`  ${line}`) }),
  });
  if (json) outJson(result);
  else {
    for (const line of formatRehearsal(result)) out(line);
    out(`function logs: ${join(workDir, 'logs')}`);
  }
  return result.ok ? EXIT.ok : EXIT.failed;
}

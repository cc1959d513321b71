import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node cli/main.ts …` with no local stack: the options are refused before any command runs. */
const cli = (...args: string[]): Promise<CliResult> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      ['cli/main.ts', '--local-state', '.wb/no-such-stack.json', ...args],
      { timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });

describe('CLI: numeric options are parsed by commander, a bad number is a usage error naming the option', () => {
  it.each([
    [['runs', 'crm-customers', '--limit', 'abc'], "'-n, --limit <n>' argument 'abc'"],
    [['runs', 'crm-customers', '-n', '0'], "'-n, --limit <n>' argument '0'"],
    [['plan', 'crm-customers', '--limit', '1.5'], "'--limit <n>' argument '1.5'"],
    [['plan', 'crm-customers', '--diff-limit=-1'], "'--diff-limit <n>' argument '-1'"],
    [['run', 'crm-customers', '--dry-run', '--limit', '10k'], "'--limit <n>' argument '10k'"],
    [['dlq', 'list', 'crm-customers', '--limit', 'NaN'], "'--limit <n>' argument 'NaN'"],
    [['links', 'crm-customers', '--limit', ''], "'--limit <n>' argument ''"],
    [['demo', '--customers', 'lots'], "'--customers <n>' argument 'lots'"],
    [['demo-touch', '-n', 'five'], "'-n, --count <n>' argument 'five'"],
  ])('%j', async (args, named) => {
    const res = await cli(...args);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`error: option ${named} is invalid`);
    expect(res.stderr).toMatch(/expected a whole number/);
  });

  it('accepts 0 where 0 means none, and a whole number anywhere: the command itself then runs', async () => {
    // No local stack is running at that state file: exit 3 from the command, not 2 from the parser.
    const plan = await cli('plan', 'crm-customers', '--diff-limit', '0', '--limit', '50');
    expect(plan.stderr).not.toMatch(/is invalid/);
    expect(plan.code).toBe(3);
    const runs = await cli('runs', 'crm-customers', '-n', '3');
    expect(runs.stderr).not.toMatch(/is invalid/);
    expect(runs.code).toBe(3);
  });
});

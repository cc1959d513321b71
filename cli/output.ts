import { createInterface } from 'node:readline/promises';
import { WritebackError } from '../shared/errors.ts';
import { ConfirmationRequiredError } from '../shared/ops/errors.ts';

/**
 * Exit codes scripts can rely on: 0 done; 1 the operation failed or found failures (a failed or
 * skipped run, records left in the DLQ by --wait, keys a redrive could not send); 2 the command was
 * called wrongly (unknown sync or option, missing --yes); 3 configuration (invalid config file, no
 * local stack running, stack not found or not a Writeback stack).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, config: 3 } as const;

const USAGE_CODES = new Set(['WB_USAGE', 'WB_CONFIRMATION_REQUIRED']);
const CONFIG_CODES = new Set(['WB_CONFIG_INVALID', 'WB_STACK_NOT_FOUND']);

/** The exit code for an error: usage, configuration, or failure. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof WritebackError) {
    if (USAGE_CODES.has(err.code)) return EXIT.usage;
    if (CONFIG_CODES.has(err.code)) return EXIT.config;
  }
  return EXIT.failed;
}

/** Prints an error for a person (code + message, no stack for known errors) and exits. */
export function fail(err: unknown): never {
  if (err instanceof WritebackError) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
  } else if (process.argv.includes('--debug')) {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  } else {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    process.stderr.write(`error: ${message}\n(--debug prints the stack)\n`);
  }
  process.exit(exitCodeFor(err));
}

/** Writes a line to stdout. */
export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Writes a value as JSON to stdout, for scripts. */
export function outJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Progress of a long operation on stderr, rewritten in place, only on a terminal: stdout stays
 * clean for tables and JSON, and logs of scripts stay free of carriage returns.
 */
export function progress(line: string): void {
  if (!process.stderr.isTTY) return;
  process.stderr.write(`\r\x1b[2K${line}`);
}

/** Clears the progress line. */
export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
}

/**
 * Asks before a destructive step: `--yes` confirms; on a terminal the person types the word shown;
 * elsewhere (a script, CI) the command refuses with exit code 2 instead of hanging on a prompt.
 */
export async function confirm(what: string, word: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new ConfirmationRequiredError(`${what}: pass --yes to confirm (no terminal to ask on)`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${what}. Type ${word} to confirm: `);
    if (answer.trim() !== word)
      throw new ConfirmationRequiredError(`${what}: not confirmed, nothing changed`);
  } finally {
    rl.close();
  }
}

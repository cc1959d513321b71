import { createInterface } from 'node:readline/promises';
import { errorCodeInfo } from '../shared/errorCodes.ts';
import { WritebackError } from '../shared/errors.ts';
import { ConfirmationRequiredError } from '../shared/ops/errors.ts';
import { redactSecrets } from '../shared/ops/warehouseCredentials.ts';

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

/**
 * An error as a person reads it: a known one as its code and message, followed by the catalogue's
 * "what to do" (shared/errorCodes.ts) unless the message already says it; anything else as its
 * name and message, or its stack with --debug. A password in a URL or a `password=` parameter is
 * never printed: it reads `***`.
 */
export function formatError(err: unknown, debug = process.argv.includes('--debug')): string {
  return redactSecrets(describeError(err, debug));
}

function describeError(err: unknown, debug: boolean): string {
  if (err instanceof WritebackError) {
    const hint = actionHint(err);
    return `error ${err.code}: ${err.message}\n${hint ? `${hint}\n` : ''}`;
  }
  if (debug) return `${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`;
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return `error: ${message}\n(--debug prints the stack)\n`;
}

/**
 * The catalogue's action for the error's code as one line, `  → <action>`; undefined for a code
 * outside the catalogue (a connector's), or when the message already says what to do: it holds
 * the action, or one of the commands or options the action quotes (`npm start`, `--yes`).
 */
export function actionHint(err: WritebackError): string | undefined {
  const info = errorCodeInfo(err.code);
  if (!info) return undefined;
  const action = info.action.replace(/\s+/g, ' ').trim();
  const said = plain(err.message);
  if (said.includes(plain(action)) || quotedCommands(action).some((c) => said.includes(c))) return undefined;
  return `  → ${action}`;
}

/**
 * The commands (`writeback runs <sync>`, `npx cdk deploy`) and options (`--yes`) an action quotes,
 * each up to its first placeholder; config fields and other quoted words do not say what to do.
 */
function quotedCommands(action: string): string[] {
  return [...action.matchAll(/`([^`]+)`/g)]
    .map((m) => plain(m[1]!.split(/<|…/)[0]!))
    .filter((q) => q.startsWith('--') || /^(writeback|npm|npx) \S/.test(q));
}

/** Text compared without backticks, case or runs of white space. */
function plain(text: string): string {
  return text.replaceAll('`', '').replace(/\s+/g, ' ').trim().toLowerCase();
}

/** Prints an error for a person (code, message and what to do; no stack for known errors) and exits. */
export function fail(err: unknown): never {
  process.stderr.write(formatError(err));
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

/**
 * Progress of a long step that callers already throttle (a line every few seconds): the progress
 * line on a terminal, a line on stderr elsewhere (logs of a script show how far it got).
 */
export function progressLog(line: string): void {
  if (process.stderr.isTTY) progress(line);
  else process.stderr.write(`${line}\n`);
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

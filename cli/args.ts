import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../shared/config/duration.ts';
import { UsageError } from '../shared/ops/errors.ts';

/** `--timeout 10m` in milliseconds. @default 600000 */
export function parseTimeout(text: string | undefined): number {
  if (text === undefined) return 600_000;
  const seconds = parseDuration(text);
  if (seconds === undefined) throw new UsageError(`--timeout ${text}: expected a duration like 90s, 10m, 1h`);
  return seconds * 1000;
}

/**
 * commander's parser for a whole-number option above 0 (`.option('--limit <n>', '…', count, 20)`):
 * a bad value is a usage error that names the option, never NaN.
 */
export function count(text: string): number {
  return wholeNumber(text, 1);
}

/** commander's parser for a whole-number option that may be 0 (`--diff-limit 0`: none). */
export function countOrZero(text: string): number {
  return wholeNumber(text, 0);
}

function wholeNumber(text: string, min: 0 | 1): number {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new InvalidArgumentError(`expected a whole number${min === 0 ? '' : ' above 0'}.`);
  }
  return n;
}

/** `--since`: an ISO time, or a duration back from now (`2h`). */
export function parseSince(text: string | undefined, now = Date.now()): string | undefined {
  if (text === undefined) return undefined;
  const seconds = parseDuration(text);
  if (seconds !== undefined) return new Date(now - seconds * 1000).toISOString();
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`--since ${text}: expected an ISO time or a duration like 2h`);
  return new Date(t).toISOString();
}

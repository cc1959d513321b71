import { parseDuration } from '../shared/config/duration.ts';
import { UsageError } from '../shared/ops/errors.ts';

/** `--timeout 10m` in milliseconds. @default 600000 */
export function parseTimeout(text: string | undefined): number {
  if (text === undefined) return 600_000;
  const seconds = parseDuration(text);
  if (seconds === undefined) throw new UsageError(`--timeout ${text}: expected a duration like 90s, 10m, 1h`);
  return seconds * 1000;
}

/** A whole-number option value. */
export function positive(text: string, flag: string, zeroOk = false): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) {
    throw new UsageError(`${flag} ${text}: expected a whole number${zeroOk ? '' : ' above 0'}`);
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

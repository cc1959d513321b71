import { WritebackError } from '../shared/errors.ts';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2, config: 3 } as const;

/** Prints an error for a person (code + message, no stack for known errors) and exits. */
export function fail(err: unknown): never {
  if (err instanceof WritebackError) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
    process.exit(err.code === 'WB_CONFIG_INVALID' ? EXIT.config : EXIT.failed);
  }
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(EXIT.failed);
}

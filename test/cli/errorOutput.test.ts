import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatError } from '../../cli/output.ts';
import { ERROR_CODES } from '../../shared/errorCodes.ts';
import { ConfigValidationError, TargetError, WritebackError } from '../../shared/errors.ts';
import { ConfirmationRequiredError, StackNotFoundError, UsageError } from '../../shared/ops/errors.ts';

/** Runs `node cli/main.ts …` as a person would, with no local stack to find. */
const cli = (...args: string[]): Promise<{ code: number; stderr: string }> =>
  new Promise((resolve) => {
    execFile(process.execPath, ['cli/main.ts', ...args], { timeout: 60_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr });
    });
  });

describe('CLI: what a failed command prints (cli/output.ts formatError)', () => {
  it("follows a catalogued error with the catalogue's action, on one line", () => {
    // Act
    const text = formatError(new UsageError('give either --local or --stack, not both'));
    // Assess
    expect(text).toBe(
      `error WB_USAGE: give either --local or --stack, not both\n  → ${ERROR_CODES.WB_USAGE.action}\n`,
    );
  });

  it('puts the action after every line of a multi-line message', () => {
    // Act
    const text = formatError(new ConfigValidationError(['syncs[0].name: required', 'connections: required']));
    // Assess
    expect(text.split('\n')).toEqual([
      'error WB_CONFIG_INVALID: invalid writeback config:',
      '  syncs[0].name: required',
      '  connections: required',
      `  → ${ERROR_CODES.WB_CONFIG_INVALID.action}`,
      '',
    ]);
  });

  it.each([
    [
      'a command the action quotes',
      new StackNotFoundError(
        'no local stack is running here: start one with `npm start` in another terminal',
      ),
    ],
    ['an option the action quotes', new ConfirmationRequiredError('dlq purge people: pass --yes to confirm')],
    [
      'the action itself',
      new WritebackError('WB_SYNC_BUSY', `a run holds the lease. ${ERROR_CODES.WB_SYNC_BUSY.action}`),
    ],
  ])('adds nothing when the message already says what to do: %s', (_, err) => {
    // Act
    const text = formatError(err);
    // Assess
    expect(text).toBe(`error ${err.code}: ${err.message}\n`);
  });

  it('still adds the action when the message only names a config field the action quotes', () => {
    // Act: the action of WB_VERIFY_NO_TARGET quotes `verify.table`, which says nothing to do here
    const text = formatError(
      new WritebackError('WB_VERIFY_NO_TARGET', 'deals: no verify.table and no connector'),
    );
    // Assess
    expect(text).toContain(`\n  → ${ERROR_CODES.WB_VERIFY_NO_TARGET.action}\n`);
  });

  it("adds nothing for a code outside the catalogue (a connector's)", () => {
    // Act
    const text = formatError(
      new TargetError('HUBSPOT_RATE_LIMITED', 'too many requests', {
        disposition: 'retryable',
        httpStatus: 429,
      }),
    );
    // Assess
    expect(text).toBe('error HUBSPOT_RATE_LIMITED: too many requests\n');
  });

  it('prints any other error as its name and message, or its stack with --debug', () => {
    // Act
    const err = new TypeError('x is not a function');
    // Assess
    expect(formatError(err, false)).toBe(
      'error: TypeError: x is not a function\n(--debug prints the stack)\n',
    );
    expect(formatError(err, true)).toBe(`${err.stack}\n`);
  });

  it('prints the action under the error when the command fails (a process, exit code kept)', async () => {
    // Act
    const res = await cli('status', '--local', '--stack', 'Writeback');
    // Assess
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(
      `error WB_USAGE: give either --local or --stack, not both\n  → ${ERROR_CODES.WB_USAGE.action}\n`,
    );
  });
});

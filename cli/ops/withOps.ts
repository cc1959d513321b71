import { type OpsContext, openOpsContext } from '../../shared/ops/OpsContext.ts';
import { redactSecrets } from '../../shared/ops/warehouseCredentials.ts';
import { EXIT, fail } from '../output.ts';

/** The program-wide options every operator command takes. */
export interface GlobalOptions {
  readonly config: string;
  readonly localState: string;
  readonly local?: boolean;
  readonly stack?: string;
  readonly region?: string;
  readonly dwhUrl?: string;
  readonly json?: boolean;
}

/**
 * Runs an operator command: finds the stack, runs the command, closes every connection, and
 * exits with the command's code (or the error's). The command only prints and returns.
 */
export async function withOps(
  globals: GlobalOptions,
  command: (ctx: OpsContext) => Promise<number | undefined>,
): Promise<void> {
  let ctx: OpsContext | undefined;
  let code: number = EXIT.ok;
  try {
    ctx = await openOpsContext({
      configPath: globals.config,
      localStatePath: globals.localState,
      ...(globals.local ? { local: true } : {}),
      ...(globals.stack ? { stack: globals.stack } : {}),
      ...(globals.region ? { region: globals.region } : {}),
      ...(globals.dwhUrl ? { dwhUrl: globals.dwhUrl } : {}),
      onWarning: (line) => process.stderr.write(`note: ${redactSecrets(line)}\n`),
    });
    code = (await command(ctx)) ?? EXIT.ok;
  } catch (err) {
    await ctx?.close().catch(() => undefined);
    fail(err);
  }
  await ctx?.close().catch(() => undefined);
  process.exitCode = code;
  // Sockets kept alive by SDK or HTTP agents must not hold a finished command open.
  setTimeout(() => process.exit(code), 1500).unref();
}

import { loadConfigFile } from '../shared/config/loadConfig.ts';
import { EXIT } from './output.ts';

export async function runValidate(configPath: string): Promise<void> {
  const config = await loadConfigFile(configPath);
  process.stdout.write(`${configPath}: ok, ${config.syncs.length} sync(s)\n`);
  for (const s of config.syncs) {
    const src = s.source.table ?? 'query';
    process.stdout.write(
      `  ${s.name.padEnd(24)} ${src} → ${s.target.connection}/${s.target.object}  ${s.schedule}${s.enabled ? '' : '  (disabled)'}\n`,
    );
  }
}

export interface ValidateConnectionsOptions {
  readonly configPath: string;
  /** Check the secrets of this deployed stack (and take its writers' refresh lease); else the local files. */
  readonly stack?: string;
  readonly region?: string;
  readonly localStatePath: string;
  /** Where `writeback connect` wrote the local files. @default .wb/connections */
  readonly secretDir?: string;
  readonly out?: (line: string) => void;
}

/**
 * `writeback validate --connections`: each connection's credentials checked against its vendor's
 * identity endpoint, with the scopes its syncs need (cli/validateConnections.ts). Exit 1 when any
 * connection fails.
 */
export async function runValidateConnections(opts: ValidateConnectionsOptions): Promise<number> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { checkConnections, localStores, stackStores } = await import('./validateConnections.ts');
  const config = await loadConfigFile(opts.configPath);
  let checks: Awaited<ReturnType<typeof checkConnections>>;
  if (opts.stack) {
    const { openOpsContext } = await import('../shared/ops/OpsContext.ts');
    const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
    const ctx = await openOpsContext({
      configPath: opts.configPath,
      localStatePath: opts.localStatePath,
      stack: opts.stack,
      ...(opts.region ? { region: opts.region } : {}),
    });
    const client = new SecretsManagerClient(ctx.region ? { region: ctx.region } : {});
    try {
      checks = await checkConnections(
        config,
        stackStores(client, { ddb: ctx.aws.ddb, stateTable: ctx.resources.stateTable }),
      );
    } finally {
      client.destroy();
      await ctx.close();
    }
  } else checks = await checkConnections(config, localStores(opts.secretDir));
  out(`connections (${opts.stack ? `stack ${opts.stack}` : 'local files'}):`);
  for (const c of checks) {
    const mark = c.status === 'ok' ? 'OK  ' : c.status === 'failed' ? 'FAIL' : 'SKIP';
    out(`  ${mark}  ${c.connection} (${c.type}): ${c.detail}`);
  }
  return checks.some((c) => c.status === 'failed') ? EXIT.failed : EXIT.ok;
}

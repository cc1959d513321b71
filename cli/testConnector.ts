import { readFileSync } from 'node:fs';
import { startContractRun } from '../local/startContractRun.ts';
import { loadConfigFile } from '../shared/config/loadConfig.ts';
import type { ConnectionCredentials } from '../shared/connectors/ConnectionCredentials.ts';
import { credentialsFromSecret } from '../shared/connectors/ConnectionCredentials.ts';
import { runContract } from '../shared/connectors/kit/runContract.ts';
import { connectorDefinition } from '../shared/connectors/registry.ts';
import { UsageError } from '../shared/ops/errors.ts';
import { EXIT } from './output.ts';

export interface TestConnectorOptions {
  readonly configPath: string;
  /** A sandbox's base URL instead of the connector's local fake. */
  readonly against?: string;
  /** A JSON file with the sandbox's credentials (the secret's fields); @default the connection's secret */
  readonly secretFile?: string;
  readonly json?: boolean;
  /** Where lines go. @default stdout */
  readonly out?: (line: string) => void;
}

/**
 * `writeback test-connector <connection>`: the contract kit against the connection's connector,
 * on its local fake or (`--against`) a sandbox account, one pass/fail line per property. Returns
 * the exit code: 1 when any property fails.
 */
export async function runTestConnector(connectionName: string, opts: TestConnectorOptions): Promise<number> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const config = await loadConfigFile(opts.configPath);
  const connection = config.connections[connectionName];
  if (!connection) {
    throw new UsageError(
      `unknown connection '${connectionName}' (known: ${Object.keys(config.connections).join(', ')})`,
    );
  }
  const definition = connectorDefinition(connection.type)!;
  const creds = opts.against ? await sandboxCredentials(connection.secret, opts.secretFile) : undefined;
  const run = await startContractRun(definition, {
    connection,
    connectionName,
    ...(opts.against ? { against: opts.against } : {}),
    ...(creds ? { creds } : {}),
  });
  const where = opts.against ? opts.against : 'its local fake';
  if (!opts.json)
    out(`${definition.title} (${connection.type}) connection '${connectionName}' against ${where}:`);
  let failed = 0;
  let passed = 0;
  try {
    for await (const r of runContract(run)) {
      if (r.status === 'fail') failed++;
      if (r.status === 'pass') passed++;
      if (opts.json) out(JSON.stringify({ connection: connectionName, ...r }));
      else {
        const mark = r.status === 'pass' ? 'PASS' : r.status === 'fail' ? 'FAIL' : 'SKIP';
        out(`  ${mark}  ${r.name}${r.detail ? `: ${r.detail}` : ''} (${r.ms} ms)`);
      }
    }
  } finally {
    await run.close();
  }
  if (!opts.json) out(`${passed} passed, ${failed} failed`);
  return failed > 0 ? EXIT.failed : EXIT.ok;
}

async function sandboxCredentials(
  secret: string | undefined,
  file: string | undefined,
): Promise<ConnectionCredentials> {
  if (file) return credentialsFromSecret(JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>);
  if (!secret)
    throw new UsageError('--against needs credentials: --secret-file <json> or a secret on the connection');
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  try {
    const res = await client.send(new GetSecretValueCommand({ SecretId: secret }));
    const text = res.SecretString ?? '';
    try {
      return credentialsFromSecret(JSON.parse(text) as Record<string, string>);
    } catch {
      return credentialsFromSecret({ value: text });
    }
  } finally {
    client.destroy();
  }
}

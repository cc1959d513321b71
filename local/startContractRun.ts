import type { ConnectionConfig, SyncConfig } from '../shared/config/schema.ts';
import type { ConnectionCredentials } from '../shared/connectors/ConnectionCredentials.ts';
import type { ConnectorDefinition } from '../shared/connectors/ConnectorDefinition.ts';
import type { ContractTarget } from '../shared/connectors/kit/ContractTarget.ts';
import type { ContractRun } from '../shared/connectors/kit/runContract.ts';
import { ConfigValidationError } from '../shared/errors.ts';
import { localConnector } from './fakes/localConnectors.ts';

export interface ContractRunOptions {
  /** The connection as configured; @default the definition's sample connection */
  readonly connection?: ConnectionConfig;
  /** The connection's name, for messages and limiter keys. @default 'contract' */
  readonly connectionName?: string;
  /** A sandbox's base URL: no fake is started, and the properties that need faults are skipped. */
  readonly against?: string;
  /** Credentials for the sandbox (its secret's fields). */
  readonly creds?: ConnectionCredentials;
}

/**
 * A connector of this type, ready for the contract kit: against its local fake (started here,
 * stopped with `target.stop()`), or against a sandbox account at `against`.
 */
export async function startContractRun(
  definition: ConnectorDefinition,
  opts: ContractRunOptions = {},
): Promise<ContractRun & { readonly close: () => Promise<void> }> {
  const sample = definition.contract;
  if (!sample) {
    throw new ConfigValidationError([
      `connector ${definition.type}: no contract samples (its definition's \`contract\`: object, valid(), invalid(), clearable)`,
    ]);
  }
  let target: ContractTarget;
  if (opts.against) {
    target = { creds: { ...opts.creds, baseUrl: opts.against }, reset: async () => {}, stop: async () => {} };
  } else {
    const start = localConnector(definition.type)?.startFake ?? definition.fake;
    if (!start) {
      throw new ConfigValidationError([
        `connector ${definition.type}: no local fake to test against; give a sandbox with --against <url>`,
      ]);
    }
    target = await start();
  }
  const connectionName = opts.connectionName ?? 'contract';
  const connection =
    opts.connection ?? definition.connection.parse({ type: definition.type, ...sample.connection });
  const sync = {
    name: 'contract',
    target: {
      connection: connectionName,
      object: sample.object,
      ...(sample.externalId ? { externalId: sample.externalId } : {}),
      nulls: 'clear',
    },
  } as unknown as SyncConfig;
  const readFields = Object.keys(sample.valid(0));
  const connector = definition.create({
    sync,
    connectionName,
    connection,
    creds: target.creds,
    // A fake's limits are off (the kit injects its own 429s); a sandbox's are real.
    options: { readFields, ...(opts.against ? {} : { pace: false }) },
  });
  return {
    connector,
    sample,
    target,
    close: async () => {
      await connector.close();
      await target.stop();
    },
  };
}

import type { ConnectionConfig, SyncConfig } from '../config/schema.ts';
import { ConfigValidationError } from '../errors.ts';
import type { ConnectionCredentials } from './ConnectionCredentials.ts';
import type { Connector } from './Connector.ts';
import type { ConnectorOptions } from './ConnectorDefinition.ts';
import { connectorDefinition, connectorTypes } from './registry.ts';

export { type ConnectionCredentials, credentialsFromSecret } from './ConnectionCredentials.ts';
export type { ConnectorOptions } from './ConnectorDefinition.ts';

/**
 * Builds the connector a sync writes through, by its connection type's definition (built-in, or
 * the user's from `defineConfig({ connectors })`). Adding a connector type touches none of this.
 */
export function createConnector(
  sync: SyncConfig,
  connection: ConnectionConfig,
  creds: ConnectionCredentials,
  opts: ConnectorOptions = {},
): Connector {
  const definition = connectorDefinition(connection.type);
  if (!definition) {
    throw new ConfigValidationError([
      `connections[${sync.target.connection}].type: unknown connector '${connection.type}' (known: ${connectorTypes().join(', ')})`,
    ]);
  }
  return definition.create({
    sync,
    connectionName: sync.target.connection,
    connection,
    creds,
    options: opts,
  });
}

import postgres from 'postgres';
import type { ConnectionConfig, SyncConfig } from '../config/schema.ts';
import { ConfigValidationError } from '../errors.ts';
import type { Connector } from './Connector.ts';
import { HubSpotConnector } from './hubspot/HubSpotConnector.ts';
import { PostgresTableConnector } from './postgres/PostgresTableConnector.ts';

/** Resolved credentials of a connection: from Secrets Manager on AWS, from the local stack locally. */
export interface ConnectionCredentials {
  /** HubSpot private app token. */
  readonly token?: string;
  /** Postgres connection URL. */
  readonly url?: string;
  /** API base URL override (the local fakes). */
  readonly baseUrl?: string;
}

/** Builds the connector a sync writes through. Adding a connector type means one case here. */
export function createConnector(
  sync: SyncConfig,
  connection: ConnectionConfig,
  creds: ConnectionCredentials,
): Connector {
  const where = `syncs[${sync.name}].target`;
  switch (connection.type) {
    case 'postgres': {
      const url = creds.url ?? connection.url;
      if (!url)
        throw new ConfigValidationError([
          `connections[${sync.target.connection}]: no url or secret with a url`,
        ]);
      if (!sync.target.externalId) {
        throw new ConfigValidationError([
          `${where}.externalId: required for a postgres target (its unique column)`,
        ]);
      }
      const sql = postgres(url, {
        max: 4,
        idle_timeout: 20,
        max_lifetime: 60 * 30,
        onnotice: () => undefined,
      });
      return new PostgresTableConnector({ sql, externalIdColumn: sync.target.externalId });
    }
    case 'hubspot': {
      if (!creds.token)
        throw new ConfigValidationError([`connections[${sync.target.connection}]: no token in its secret`]);
      if (!sync.target.externalId) {
        throw new ConfigValidationError([
          `${where}.externalId: required for hubspot (a unique property used as idProperty)`,
        ]);
      }
      return new HubSpotConnector({
        token: creds.token,
        idProperty: sync.target.externalId,
        ...((creds.baseUrl ?? connection.baseUrl) ? { baseUrl: creds.baseUrl ?? connection.baseUrl } : {}),
      });
    }
  }
}

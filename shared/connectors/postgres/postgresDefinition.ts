import { z } from 'zod';
import { ConfigValidationError } from '../../errors.ts';
import { targetPool } from '../../postgresPools.ts';
import { defineConnector } from '../defineConnector.ts';
import { PostgresTableConnector } from './PostgresTableConnector.ts';

const PostgresConnection = z
  .object({
    type: z.literal('postgres'),
    /** Secrets Manager secret (name or ARN) with the connection URL or {host,port,username,password,dbname}. */
    secret: z.string().min(1).optional(),
    /** Connection URL for local use; never put a password here for a deployed stack. */
    url: z.string().min(1).optional(),
  })
  .strict();

/** A table in an application's Postgres database, upserted with ON CONFLICT on the external id column. */
export const postgresDefinition = defineConnector({
  type: 'postgres',
  title: 'Postgres table',
  connection: PostgresConnection,
  secretFields: ['url', 'host', 'port', 'username', 'password', 'dbname', 'sslmode', 'sslrootcert'],
  capabilities: PostgresTableConnector.CAPABILITIES,
  reach: 'database',
  create: ({ sync, connectionName, connection, creds, options }) => {
    const url = creds.url ?? connection.url;
    if (!url)
      throw new ConfigValidationError([`connections[${connectionName}]: no url or secret with a url`]);
    if (!sync.target.externalId) {
      throw new ConfigValidationError([
        `syncs[${sync.name}].target.externalId: required for a postgres target (its unique column)`,
      ]);
    }
    const sql = targetPool(url, { max: 4, ...(options.timeouts ? { timeouts: options.timeouts } : {}) });
    return new PostgresTableConnector({ sql, externalIdColumn: sync.target.externalId });
  },
  contract: {
    object: 'public.contract_target',
    externalId: 'ext_id',
    valid: (i) => ({ name: `Name ${i}`, email: `u${i}@example.com`, note: `note ${i}` }),
    invalid: (i) => ({ name: `Broken ${i}`, email: 'no-at-sign', note: 'x' }),
    clearable: 'note',
  },
});

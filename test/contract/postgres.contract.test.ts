import { PostgresTableConnector } from '../../shared/connectors/postgres/PostgresTableConnector.ts';
import { targetPool } from '../../shared/postgresPools.ts';
import { startTestPostgres } from '../helpers/localPostgres.ts';
import { describeConnectorContract } from './connectorContract.ts';

const TABLE = 'public.contract_target';

describeConnectorContract(
  'Postgres table',
  async () => {
    const pg = await startTestPostgres();
    await pg.sql.unsafe(`
    create table ${TABLE} (
      ext_id text primary key,
      name text not null,
      email text check (email like '%@%'),
      note text
    )`);
    // The impatient connector's statements give up after 200 ms (57014 query_canceled).
    const impatientSql = targetPool(pg.url, { max: 1, connection: { statement_timeout: 200 } });
    let holding: Promise<unknown> = Promise.resolve();
    return {
      connector: new PostgresTableConnector({ sql: pg.sql, externalIdColumn: 'ext_id' }),
      impatient: new PostgresTableConnector({ sql: impatientSql, externalIdColumn: 'ext_id' }),
      object: TABLE,
      valid: (i) => ({ name: `Name ${i}`, email: `u${i}@example.com`, note: `note ${i}` }),
      invalid: (i) => ({ name: `Broken ${i}`, email: 'no-at-sign', note: 'x' }),
      clearable: 'note',
      // Postgres has no 429: the 429 case is skipped.
      slowWrite: async () => {
        // Another session holds the table for 600 ms: the impatient insert waits past its statement_timeout.
        let locked!: () => void;
        const isLocked = new Promise<void>((r) => {
          locked = r;
        });
        holding = pg.sql.begin(async (tx) => {
          await tx.unsafe(`lock table ${TABLE} in access exclusive mode`);
          locked();
          await tx.unsafe('select pg_sleep(0.6)');
        });
        await isLocked;
      },
      settle: async () => {
        await holding;
      },
      count: async (ext) => {
        const [row] = await pg.sql.unsafe(`select count(*)::int as n from ${TABLE} where ext_id = $1`, [ext]);
        return row?.n as number;
      },
      read: async (ext, field) => {
        const [row] = await pg.sql.unsafe(`select * from ${TABLE} where ext_id = $1`, [ext]);
        return row?.[field];
      },
      reset: async () => {
        await pg.sql.unsafe(`truncate ${TABLE}`);
      },
      stop: async () => {
        await impatientSql.end({ timeout: 5 });
        await pg.stop();
      },
    };
  },
  { rateLimited: false },
);

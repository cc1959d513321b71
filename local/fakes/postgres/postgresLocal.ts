import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { targetPool } from '../../../shared/postgresPools.ts';
import { startEmbeddedPostgres } from '../../EmbeddedPostgres.ts';
import { loadTableCopy } from '../../loadTargetCopies.ts';
import type { LocalConnector } from '../LocalConnector.ts';

/** The table the contract kit writes to (postgresDefinition.contract.object). */
const CONTRACT_TABLE = 'public.contract_target';

/** A Postgres target locally: the billing database of the embedded Postgres, unless the connection names a URL. */
export const postgresLocal: LocalConnector = {
  type: 'postgres',
  startFake: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wb-contract-pg-'));
    const pg = await startEmbeddedPostgres({ dataDir: join(dir, 'data') });
    const sql = targetPool(pg.url(), { max: 1 });
    await sql.unsafe(`
      create table ${CONTRACT_TABLE} (
        ext_id text primary key,
        name text not null,
        email text check (email like '%@%'),
        note text
      )`);
    return {
      creds: { url: pg.url() },
      // A database has no rate limit or 5xx to inject: the kit leaves those properties out.
      reset: async () => {
        await sql.unsafe(`truncate ${CONTRACT_TABLE}`);
      },
      stop: async () => {
        await sql.end({ timeout: 5 });
        await pg.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  credentials: (connection, services) => ({
    url: typeof connection.url === 'string' ? connection.url : services.billingUrl,
  }),
  readBack: async ({ dwh, sync, connection, table, sources }) => {
    const url = sources.postgresUrl?.(connection);
    if (!url) return undefined;
    const target = targetPool(url, { max: 1 });
    try {
      const records = await loadTableCopy(dwh, target, sync.target.object, table);
      return { records, from: sync.target.object };
    } finally {
      await target.end({ timeout: 2 });
    }
  },
};

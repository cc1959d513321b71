import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sql } from 'postgres';
import { startEmbeddedPostgres } from '../../local/EmbeddedPostgres.ts';
import { targetPool } from '../../shared/postgresPools.ts';

/**
 * A throwaway embedded Postgres for one test file; `stop()` removes it. It serves TLS, and `url`
 * connects with verify-full against its CA (through the pool factory, as production does).
 */
export async function startTestPostgres(): Promise<{ sql: Sql; url: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'wb-test-pg-'));
  const pg = await startEmbeddedPostgres({ dataDir: join(dir, 'data') });
  const sql = targetPool(pg.url(), { max: 4, connection: { TimeZone: 'UTC' } });
  return {
    sql,
    url: pg.url(),
    stop: async () => {
      await sql.end({ timeout: 5 });
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

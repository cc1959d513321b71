import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { startEmbeddedPostgres } from '../../local/EmbeddedPostgres.ts';

/** A throwaway embedded Postgres for one test file; `stop()` removes it. */
export async function startTestPostgres(): Promise<{ sql: Sql; url: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'wb-test-pg-'));
  const pg = await startEmbeddedPostgres({ dataDir: join(dir, 'data') });
  const sql = postgres(pg.url(), { max: 4, onnotice: () => undefined, connection: { TimeZone: 'UTC' } });
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

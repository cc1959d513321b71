import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVERLESS_POOL, targetOptions, targetPool, warehousePool } from '../../../shared/postgresPools.ts';
import { startTestPostgres } from '../../helpers/localPostgres.ts';

describe('Postgres pools: one factory, serverless options, the warehouse session only on the warehouse', () => {
  let pg: Awaited<ReturnType<typeof startTestPostgres>>;
  beforeAll(async () => {
    pg = await startTestPostgres();
    // A DBA's defaults that a warehouse connection must not inherit and a target connection keeps.
    await pg.sql.unsafe(`alter database postgres set "TimeZone" = 'America/New_York'`);
    await pg.sql.unsafe(`alter database postgres set "DateStyle" = 'SQL, DMY'`);
    await pg.sql.unsafe(`alter database postgres set search_path = 'crm'`);
  });
  afterAll(async () => pg?.stop());

  it('gives every pool the serverless options, the caller sizing max', () => {
    expect(targetOptions()).toMatchObject({
      max: 2,
      idle_timeout: 20,
      max_lifetime: 1800,
      connect_timeout: 10,
    });
    expect(targetOptions({ max: 4 })).toMatchObject({ ...SERVERLESS_POOL, max: 4 });
    // A target's session is the server's own, but for the timeouts every pool sets.
    expect(targetOptions().connection).toEqual({ statement_timeout: 300_000, lock_timeout: 30_000 });
    const sql = warehousePool(pg.url, { max: 8 });
    try {
      expect(sql.options).toMatchObject({
        max: 8,
        idle_timeout: 20,
        max_lifetime: 1800,
        connect_timeout: 10,
      });
    } finally {
      void sql.end();
    }
  });

  it('pins the session on a warehouse connection, whatever the database defaults say', async () => {
    const sql = warehousePool(pg.url, { max: 1 });
    try {
      const [s] = await sql<{ tz: string; ds: string; sp: string; j: unknown }[]>`
        select current_setting('TimeZone') as tz, current_setting('DateStyle') as ds,
               current_setting('search_path') as sp, '{"n": 12345678901234567890}'::jsonb as j`;
      expect(s).toMatchObject({ tz: 'UTC', ds: 'ISO, YMD', sp: '"$user", public' });
      // Exact JSON: a number beyond double precision keeps its digits.
      expect(JSON.stringify(s!.j)).toContain('12345678901234567890');
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it("leaves a target connection the server's own session (no pinned search path)", async () => {
    const sql = targetPool(pg.url, { max: 1 });
    try {
      const [s] = await sql<{ tz: string; ds: string; sp: string }[]>`
        select current_setting('TimeZone') as tz, current_setting('DateStyle') as ds,
               current_setting('search_path') as sp`;
      expect(s).toMatchObject({ tz: 'America/New_York', ds: 'SQL, DMY', sp: 'crm' });
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});

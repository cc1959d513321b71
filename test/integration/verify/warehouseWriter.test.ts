import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTableCopy } from '../../../local/loadTargetCopies.ts';
import { warehousePool } from '../../../shared/postgresPools.ts';
import { verifySync } from '../../../shared/verify/verifySync.ts';
import { type ItemsPipeline, itemsConfig, startItemsPipeline } from '../../helpers/itemsPipeline.ts';

/**
 * Verification with two warehouse users (issue 15): it reads the source and the target's copy as
 * a read-only user (SELECT on their schemas, TEMP on the database for its scratch tables, no
 * CREATE anywhere) and exports to the `writeback` schema as a user that owns that schema and
 * nothing else. With the read-only user alone, the export fails with a clear error.
 */
describe('Function: verifySync with a read-only user and a writeback writer', () => {
  let p: ItemsPipeline;
  let reader: Sql;
  let writer: Sql;
  const config = itemsConfig({
    verify: { table: 'copies.items', externalIdColumn: 'item_id', loadedAtColumn: '_loaded_at' },
  });
  const sync = config.syncs[0]!;
  /** A pool on the warehouse as `user` (the embedded server trusts 127.0.0.1: no password). */
  const poolAs = (user: string): Sql => {
    const url = new URL(p.stack.pg.url('dwh'));
    url.username = user;
    return warehousePool(url.toString(), { max: 2 });
  };
  const verifyAs = (dwh: Sql, dwhWriter?: Sql) =>
    verifySync(
      sync,
      {
        dwh,
        ...(dwhWriter ? { dwhWriter } : {}),
        links: p.stack.links,
        state: p.stack.state,
        now: Date.now,
      },
      { exportLogs: true },
    );

  beforeAll(async () => {
    p = await startItemsPipeline(config);
    await p.stack
      .dwh`insert into src.items select i, 'n' || i, i, '2026-01-01'::timestamptz + i * interval '1 s' from generate_series(1, 30) i`;
    p.stack.startWriters();
    await p.stack.runExtract('items');
    await p.stack.drain();
    await loadTableCopy(p.stack.dwh, p.target, 'public.items_copy', 'copies.items');
    // The grants of docs/deploy.md ("Secrets"), as an administrator runs them.
    const admin = p.stack.dwh;
    await admin`drop schema if exists writeback cascade`;
    await admin.unsafe(`
      create role wb_reader login;
      create role wb_writer login;
      revoke all on database dwh from public;
      revoke create on schema public from public;
      grant connect, temporary on database dwh to wb_reader, wb_writer;
      grant usage on schema src, copies to wb_reader;
      grant select on all tables in schema src, copies to wb_reader;
      create schema writeback authorization wb_writer;
    `);
    reader = poolAs('wb_reader');
    writer = poolAs('wb_writer');
  });
  afterAll(async () => {
    await reader?.end();
    await writer?.end();
    await p?.stop();
  });

  it('gives the reader no write anywhere: it cannot create a table in writeback or a schema', async () => {
    await expect(reader`create table writeback.x (i int)`).rejects.toMatchObject({ code: '42501' });
    await expect(reader`create schema other`).rejects.toMatchObject({ code: '42501' });
    await expect(writer`select count(*) from src.items`).rejects.toMatchObject({ code: '42501' });
  });

  it('reads as the read-only user and exports as the writer: links, runs, operator actions land, owned by the writer', async () => {
    // Act
    const report = await verifyAs(reader, writer);
    // Assess
    expect(report).toMatchObject({ sourceRows: 30, targetRecords: 30, clean: true });
    const [links] = await p.stack.dwh<{ ok: number; total: number }[]>`
      select count(*) filter (where status = 'ok')::int as ok, count(*)::int as total
      from writeback.links where sync = 'items'`;
    expect(links).toEqual({ ok: 30, total: 30 });
    const runs = await p.stack.dwh`select outcome from writeback.runs where sync = 'items'`;
    expect(runs.map((r) => r.outcome)).toEqual(['succeeded']);
    const owners = await p.stack.dwh<{ tablename: string; tableowner: string }[]>`
      select tablename, tableowner from pg_tables where schemaname = 'writeback' order by tablename`;
    expect(owners).toEqual(
      ['links', 'operator_actions', 'runs', 'verify_findings'].map((tablename) => ({
        tablename,
        tableowner: 'wb_writer',
      })),
    );
  });

  it('exports again incrementally as the writer: a link changed behind its back is rewritten', async () => {
    // Prepare
    await p.stack
      .dwh`update writeback.links set status = 'stale', updated_at = null where sync = 'items' and key = '7'`;
    // Act
    await verifyAs(reader, writer);
    // Assess
    const [seven] = await p.stack.dwh<{ status: string }[]>`
      select status from writeback.links where sync = 'items' and key = '7'`;
    expect(seven).toEqual({ status: 'ok' });
  });

  it('fails the export with WB_VERIFY_EXPORT_DENIED when only the read-only user is given, never silently', async () => {
    // Act
    const act = verifyAs(reader);
    // Assess
    await expect(act).rejects.toMatchObject({
      code: 'WB_VERIFY_EXPORT_DENIED',
      message: expect.stringMatching(/sync items: .*read-only.*warehouse\.writerSecret/),
    });
    // The reader's session is usable again (its scratch tables are gone).
    expect(
      await verifySync(sync, { dwh: reader, links: p.stack.links, state: p.stack.state, now: Date.now }),
    ).toMatchObject({
      clean: true,
    });
  });
});

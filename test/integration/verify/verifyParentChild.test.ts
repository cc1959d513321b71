import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStack } from '../../../local/LocalStack.ts';
import { loadTableCopy } from '../../../local/loadTargetCopies.ts';
import type { Row } from '../../../shared/config/schema.ts';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import { targetPool } from '../../../shared/postgresPools.ts';
import { verifySync } from '../../../shared/verify/verifySync.ts';

/** Items reference their owner (a parent sync) and embed their parts; verify compares what was sent. */
const config = validateConfig({
  connections: { copy: { type: 'postgres' } },
  syncs: [
    {
      name: 'owners',
      source: { table: 'src.owners', key: 'id', cursor: 'loaded_at' },
      target: { connection: 'copy', object: 'public.owners_copy', externalId: 'owner_id' },
      map: (row: Row) => ({ name: row.name }),
    },
    {
      name: 'items',
      parent: { sync: 'owners', key: 'owner_id' },
      children: [
        { as: 'parts', table: 'src.parts', foreignKey: 'item_id', orderBy: 'id', cursor: 'loaded_at' },
      ],
      source: { table: 'src.items', key: 'id', cursor: 'loaded_at' },
      target: { connection: 'copy', object: 'public.items_copy', externalId: 'item_id' },
      map: (row: Row, { parent }: { parent?: { targetId: string } }) => ({
        name: row.name,
        owner: { ref: parent!.targetId },
        part_count: (row.parts as Row[]).length,
      }),
      verify: {
        table: 'copies.items',
        externalIdColumn: 'item_id',
        loadedAtColumn: '_loaded_at',
        fields: { name: 'name', 'owner.ref': 'owner_ref', part_count: 'part_count' },
      },
    },
  ],
});

describe('Verify a sync with a parent and embedded children', () => {
  let stack: LocalStack;
  let target: Sql;
  const verify = () =>
    verifySync(config.syncs[1]!, {
      dwh: stack.dwh,
      links: stack.links,
      state: stack.state,
      now: Date.now,
    });

  beforeAll(async () => {
    stack = await LocalStack.start({ config });
    await stack.dwh`create schema src`;
    await stack.dwh`create table src.owners (id int primary key, name text, loaded_at timestamptz not null)`;
    await stack.dwh`create index on src.owners (loaded_at, id)`;
    await stack.dwh`create table src.items (id int primary key, owner_id int, name text, loaded_at timestamptz not null)`;
    await stack.dwh`create index on src.items (loaded_at, id)`;
    await stack.dwh`create table src.parts (id int primary key, item_id int, loaded_at timestamptz not null)`;
    await stack.dwh`create index on src.parts (loaded_at, id)`;
    await stack.dwh`insert into src.owners select i, 'owner ' || i, '2026-01-01'::timestamptz + i * interval '1 s' from generate_series(1, 3) i`;
    await stack.dwh`insert into src.items select i, 1 + i % 3, 'item ' || i, '2026-01-01'::timestamptz + i * interval '1 s' from generate_series(1, 12) i`;
    await stack.dwh`insert into src.parts select j, 1 + j % 12, '2026-01-01'::timestamptz + j * interval '1 s' from generate_series(1, 30) j`;
    target = targetPool(stack.pg.url('billing'), { max: 2 });
    await target`create table public.owners_copy (owner_id text primary key, name text)`;
    // The target flattens the nested owner reference into a column, as an ELT load would.
    await target`create table public.items_copy (item_id text primary key, name text, owner jsonb, part_count int,
      owner_ref text generated always as (owner ->> 'ref') stored)`;
    stack.startWriters();
    await stack.runExtract('owners');
    await stack.runExtract('items');
    await stack.drain();
  });
  afterAll(async () => {
    await target?.end();
    await stack?.stop();
  });

  it("compares the parent's target id and the children as they were sent: clean", async () => {
    await loadTableCopy(stack.dwh, target, 'public.items_copy', 'copies.items');
    const report = await verify();
    expect(report.counts).toEqual({ missing: 0, drift: 0, orphan: 0, backlog: 0, dead: 0 });
    expect(report.sourceRows).toBe(12);
  });

  it('finds an item pointing at the wrong owner, or with a part missing, as drift in those fields', async () => {
    await target`update public.items_copy set owner = '{"ref": "3"}' where item_id = '1'`;
    await target`update public.items_copy set part_count = part_count - 1 where item_id = '5'`;
    await loadTableCopy(stack.dwh, target, 'public.items_copy', 'copies.items');
    const report = await verify();
    expect(report.findings.filter((f) => f.kind === 'drift').map((f) => [f.key, f.fields])).toEqual([
      ['1', ['owner.ref']],
      ['5', ['part_count']],
    ]);
  });
});

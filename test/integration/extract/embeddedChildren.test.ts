import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Row } from '../../../shared/config/schema.ts';
import {
  type ItemsPipeline,
  insertItems,
  itemsConfig,
  startItemsPipeline,
} from '../../helpers/itemsPipeline.ts';

type Part = { part_id: number; label: string; qty: number };

describe('Embedded children: items with their parts', () => {
  let p: ItemsPipeline;
  const config = itemsConfig({
    children: [
      {
        as: 'parts',
        table: 'src.item_parts',
        foreignKey: 'item_id',
        orderBy: 'part_id',
        cursor: 'loaded_at',
        where: 'not deleted',
      },
    ],
    map: (row: Row) => ({
      name: row.name,
      qty: row.qty,
      parts: JSON.stringify(
        (row.parts as Part[]).map((x) => ({ id: x.part_id, label: x.label, qty: x.qty })),
      ),
    }),
  });
  const partsInTarget = async (id: number) => {
    const [row] = await p.target<
      { parts: string }[]
    >`select parts from public.items_copy where item_id = ${String(id)}`;
    const parts = JSON.parse(row!.parts) as { id: number; label: string; qty: number }[];
    return parts.map((x) => `${x.id}:${x.label}:${x.qty}`);
  };
  const cycle = async () => {
    const run = await p.stack.runExtract('items');
    await p.stack.drain();
    return run;
  };

  beforeAll(async () => {
    p = await startItemsPipeline(config);
    await p.stack.dwh`
      create table src.item_parts (part_id int primary key, item_id int not null, label text, qty int,
        deleted boolean not null default false, loaded_at timestamptz not null)`;
    await p.stack.dwh`create index on src.item_parts (loaded_at, part_id)`;
    await insertItems(p, 20);
    await p.stack
      .dwh`insert into src.item_parts select j, 1 + (j - 1) / 3, 'part ' || j, 1, false, '2026-01-01'::timestamptz + j * interval '1 s' from generate_series(1, 60) j`;
    p.stack.startWriters();
  });
  afterAll(async () => p?.stop());

  it('writes each record with its children embedded, once', async () => {
    const run = await cycle();
    expect(run.counts).toMatchObject({ read: 20, enqueued: 20 });
    expect(await partsInTarget(2)).toEqual(['4:part 4:1', '5:part 5:1', '6:part 6:1']);
  });

  it('re-sends the whole parent, and only it, when one child changes', async () => {
    await p.stack.dwh`update src.item_parts set qty = 9, loaded_at = now() where part_id = 5`;
    const run = await cycle();
    expect(run.counts.enqueued).toBe(1);
    expect(await partsInTarget(2)).toEqual(['4:part 4:1', '5:part 5:9', '6:part 6:1']);
  });

  it('shows added and (soft-)removed children in the target', async () => {
    await p.stack.dwh`insert into src.item_parts values (100, 3, 'part 100', 2, false, now())`;
    await p.stack.dwh`update src.item_parts set deleted = true, loaded_at = now() where part_id = 7`;
    const run = await cycle();
    expect(run.counts.enqueued).toBe(1);
    expect(await partsInTarget(3)).toEqual(['8:part 8:1', '9:part 9:1', '100:part 100:2']);
  });

  it('makes no write when nothing changed', async () => {
    const run = await cycle();
    expect(run.counts.enqueued).toBe(0);
  });
});

import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStack } from '../../../local/LocalStack.ts';
import type { Row, WritebackConfig } from '../../../shared/config/schema.ts';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import { purgeDeadLetters } from '../../../shared/ops/dlq.ts';
import type { OpsContext } from '../../../shared/ops/OpsContext.ts';
import { peekDeadLetters } from '../../../shared/ops/peekDeadLetters.ts';
import { planSync } from '../../../shared/ops/plan.ts';
import { redriveDeadLetters } from '../../../shared/ops/redriveDeadLetters.ts';
import { targetPool } from '../../../shared/postgresPools.ts';
import { localOpsContext } from '../../helpers/localOpsContext.ts';

type Part = { part_id: number; label: string };

/**
 * owners → public.owners_copy; items (child of owners, with their parts embedded) →
 * public.items_copy, whose owner_ref is the owner's target id.
 */
const config = validateConfig({
  connections: { copy: { type: 'postgres' } },
  syncs: [
    {
      name: 'owners',
      source: { table: 'src.owners', key: 'id', cursor: 'loaded_at' },
      target: { connection: 'copy', object: 'public.owners_copy', externalId: 'owner_id' },
      map: (row: Row) => {
        if (row.name === null) throw new Error('an owner needs a name');
        return { name: row.name };
      },
    },
    {
      name: 'items',
      parent: { sync: 'owners', key: 'owner_id' },
      source: { table: 'src.items', key: 'id', cursor: 'loaded_at' },
      deletes: { column: 'deleted_at', maxPerRun: 10 },
      children: [
        { as: 'parts', table: 'src.parts', foreignKey: 'item_id', orderBy: 'part_id', cursor: 'loaded_at' },
      ],
      target: { connection: 'copy', object: 'public.items_copy', externalId: 'item_id' },
      map: (row: Row, { parent }: { parent?: { targetId: string } }) => {
        if (row.name === null) throw new Error('an item needs a name');
        return {
          name: row.name,
          owner_ref: parent!.targetId,
          parts: (row.parts as Part[]).map((p) => p.label).join(','),
        };
      },
      maxReceiveCount: 20,
    },
  ],
});

describe('Operating a child sync with embedded rows: dlq redrive and plan', () => {
  let stack: LocalStack;
  const opsContext = (cfg: WritebackConfig) => localOpsContext(stack, cfg);
  let target: Sql;
  let ctx: OpsContext;
  const item = async (id: number) =>
    (
      await target<{ owner_ref: string; parts: string }[]>`
        select owner_ref, parts from public.items_copy where item_id = ${String(id)}`
    )[0];
  const dlqKeys = async (sync: string) => {
    const peek = await peekDeadLetters(stack.aws.sqs, stack.resources.queues[sync]!.dlqUrl, {
      holdSeconds: 5,
      confirmEmpty: false,
    });
    await peek.release();
    return peek.letters.map((l) => l.key).sort();
  };

  beforeAll(async () => {
    stack = await LocalStack.start({ config, queueVisibilitySeconds: 2 });
    await stack.dwh`create schema src`;
    await stack.dwh`create table src.owners (id int primary key, name text, loaded_at timestamptz not null)`;
    await stack.dwh`create index on src.owners (loaded_at, id)`;
    await stack.dwh`create table src.items (id int primary key, owner_id int, name text, loaded_at timestamptz not null, deleted_at timestamptz)`;
    await stack.dwh`create index on src.items (loaded_at, id)`;
    await stack.dwh`create table src.parts (part_id int primary key, item_id int not null, label text, loaded_at timestamptz not null)`;
    await stack.dwh`create index on src.parts (loaded_at, part_id)`;
    target = targetPool(stack.pg.url('billing'), { max: 2 });
    await target`create table public.owners_copy (owner_id text primary key, name text)`;
    await target`create table public.items_copy (item_id text primary key, name text, owner_ref text not null, parts text)`;
    // Owner 3 has no name (map() refuses it); item 5 has no name; items 3, 8 and 13 belong to owner 3.
    await stack.dwh`insert into src.owners select i, case when i = 3 then null else 'owner ' || i end, '2026-01-01'::timestamptz + i * interval '1 s' from generate_series(1, 5) i`;
    await stack.dwh`insert into src.items select i, 1 + (i - 1) % 5, case when i = 5 then null else 'item ' || i end, '2026-01-01'::timestamptz + i * interval '1 s', null from generate_series(1, 15) i`;
    await stack.dwh`insert into src.parts select j, 1 + (j - 1) / 2, 'p' || j, '2026-01-01'::timestamptz + j * interval '1 s' from generate_series(1, 30) j`;
    stack.startWriters();
    ctx = opsContext(config);
    // The first runs: owner 3 and item 5 fail on map(); items 3, 8 and 13 fail as parent-failed.
    await stack.runExtract('owners');
    await stack.drain();
    await stack.runExtract('items');
    await stack.drain();
  });
  afterAll(async () => {
    await ctx?.close();
    await target?.end();
    await stack?.stop();
  });

  it('leaves the failed records in the DLQs with their reasons after the first runs', async () => {
    expect(await dlqKeys('owners')).toEqual(['3']);
    expect(await dlqKeys('items')).toEqual(['13', '3', '5', '8']);
    expect(await stack.links.get('items', '3')).toMatchObject({
      status: 'failed',
      lastError: { code: 'WB_PARENT_FAILED' },
    });
  });

  it('redrives the failed parents first, then the children, which wait for them and carry their embedded rows', async () => {
    // Arrange: fix the owner and the item in the source; no owners run happens meanwhile
    await stack.dwh`update src.owners set name = 'owner 3' where id = 3`;
    await stack.dwh`update src.items set name = 'item 5' where id = 5`;
    // Act
    const result = await redriveDeadLetters(ctx, 'items');
    await stack.drain();
    // Assess: the parent went first, every child is written with its owner's target id and its parts
    expect(result.parents).toMatchObject([{ sync: 'owners', redriven: ['3'], missingFromDlq: [] }]);
    expect(result.redriven.sort()).toEqual(['13', '3', '5', '8']);
    const owner3 = await stack.links.get('owners', '3');
    expect(owner3).toMatchObject({ status: 'ok' });
    for (const id of [3, 8, 13]) {
      expect(await stack.links.get('items', String(id))).toMatchObject({ status: 'ok' });
      expect((await item(id))!.owner_ref).toBe(owner3!.targetId);
    }
    expect((await item(5))!.parts).toBe('p9,p10');
    expect((await item(13))!.parts).toBe('p25,p26');
    expect(await dlqKeys('owners')).toEqual([]);
    expect(await dlqKeys('items')).toEqual([]);
  });

  it('plans what the next run would do: embedded rows in the diff, deletes, and what waits for or fails on its parent', async () => {
    // Arrange: a part of item 1 changes; item 2 is deleted in the source; item 16 belongs to a new
    // owner not written yet; item 17 to an owner that map() refuses (written and failed first)
    await stack.dwh`insert into src.owners values (7, null, now())`;
    await stack.runExtract('owners');
    await stack.drain();
    await stack.dwh`insert into src.owners values (6, 'owner 6', now())`;
    await stack.dwh`update src.parts set label = 'p1b' where part_id = 1`;
    await stack.dwh`update src.items set loaded_at = now() where id = 1`;
    await stack.dwh`update src.items set deleted_at = now(), loaded_at = now() where id = 2`;
    await stack.dwh`insert into src.items values (16, 6, 'item 16', now(), null), (17, 7, 'item 17', now(), null)`;
    // Act
    const plan = await planSync(ctx, 'items');
    // Assess
    const byKey = new Map(plan.records.map((r) => [r.key, r]));
    expect(byKey.get('1')).toMatchObject({
      action: 'update',
      diff: [{ field: 'parts', from: 'p1,p2', to: 'p1b,p2' }],
    });
    expect(byKey.get('2')).toMatchObject({
      action: 'delete',
      targetId: (await stack.links.get('items', '2'))!.targetId,
    });
    expect(byKey.get('16')).toMatchObject({ action: 'create' });
    expect(byKey.get('16')!.reason).toMatch(
      /^waits: parent owners\/6 has no target id yet \(never written\)/,
    );
    expect(byKey.get('16')!.diff).toContainEqual({
      field: 'owner_ref',
      from: undefined,
      to: '<target id of owners/6>',
    });
    expect(byKey.get('17')).toMatchObject({ action: 'invalid' });
    expect(byKey.get('17')!.reason).toMatch(/^WB_PARENT_FAILED: parent-failed: parent owners\/7 is failed/);
    expect(plan.counts).toMatchObject({ create: 1, update: 1, delete: 1, invalid: 1 });
    // Nothing was written: the target still has item 2, and no link for item 16
    expect(await item(2)).toBeDefined();
    expect(await stack.links.get('items', '16')).toBeUndefined();
  });

  it('plans from the first row when the mapping changed since the last run', async () => {
    // Arrange: the same config with another map() for items
    const items = config.syncs.find((x) => x.name === 'items')!;
    const changed = opsContext({
      ...config,
      syncs: config.syncs.map((x) =>
        x === items ? { ...items, map: (row: Row) => ({ name: row.name }) } : x,
      ),
    });
    try {
      // Act
      const plan = await planSync(changed, 'items', { diffLimit: 0 });
      const unchanged = await planSync(ctx, 'items', { diffLimit: 0 });
      // Assess: every item row is read again; under the unchanged config only what changed since
      const rows = await stack.dwh`select count(*)::int as n from src.items`;
      expect(plan).toMatchObject({ remapped: true, bookmark: undefined, rowsRead: rows[0]!.n });
      expect(unchanged.remapped).toBe(false);
      expect(unchanged.rowsRead).toBeLessThan(rows[0]!.n);
    } finally {
      await changed.close();
    }
  });

  it('sends a failed parent from its source row when its dead letter was purged', async () => {
    // Arrange: owner 7 (no name) failed; the next items run sends item 17 to its DLQ as
    // parent-failed; someone purges owner 7's dead letter, then fixes the owner in the source
    await stack.runExtract('owners');
    await stack.drain();
    await stack.runExtract('items');
    await stack.drain();
    expect(await stack.links.get('items', '17')).toMatchObject({ lastError: { code: 'WB_PARENT_FAILED' } });
    await purgeDeadLetters(ctx, 'owners', { keys: ['7'] });
    expect(await dlqKeys('owners')).toEqual([]);
    await stack.dwh`update src.owners set name = 'owner 7' where id = 7`;
    // Act
    const result = await redriveDeadLetters(ctx, 'items', { keys: ['17'] });
    await stack.drain();
    // Assess
    expect(result.parents).toMatchObject([
      { sync: 'owners', fromSource: ['7'], redriven: ['7'], missingFromDlq: [] },
    ]);
    const owner7 = await stack.links.get('owners', '7');
    expect(owner7).toMatchObject({ status: 'ok' });
    expect(await stack.links.get('items', '17')).toMatchObject({ status: 'ok' });
    expect((await item(17))!.owner_ref).toBe(owner7!.targetId);
  });
});

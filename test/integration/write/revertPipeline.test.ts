import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import { type ItemsPipeline, startItemsPipeline } from '../../helpers/itemsPipeline.ts';

/** The same table synced twice, without and with a lookback, each to its own copy. */
const config = validateConfig({
  connections: { copy: { type: 'postgres' } },
  syncs: [
    { lookback: '0s', name: 'items', object: 'public.items_copy' },
    { lookback: '1h', name: 'items-lookback', object: 'public.items_copy_lookback' },
  ].map(({ lookback, name, object }) => ({
    name,
    source: { table: 'src.items', key: 'id', cursor: 'loaded_at', lookback },
    target: { connection: 'copy', object, externalId: 'item_id' },
    map: (row: Record<string, unknown>) => ({ name: row.name, qty: row.qty }),
  })),
});

/**
 * The pipeline end to end (Postgres → extract → SQS → writer → Postgres target): a row goes
 * A → B → A while the B message waits in the queue (no writer running); the extract that sees A
 * again moves the link's version on, so B is stale when it is finally delivered.
 */
describe('A → B → A through the extract, with and without a lookback', () => {
  let p: ItemsPipeline;
  const copies = { items: 'public.items_copy', 'items-lookback': 'public.items_copy_lookback' } as const;

  beforeAll(async () => {
    p = await startItemsPipeline(config);
    await p.target`create table public.items_copy_lookback (item_id text primary key, name text, qty int)`;
  });
  afterAll(async () => p?.stop());

  it.each(['items', 'items-lookback'] as const)('%s: the target ends with A', async (syncName) => {
    // Prepare: row 1 written as A
    const id = syncName === 'items' ? 1 : 2;
    await p.stack.dwh`delete from src.items where id = ${id}`;
    await p.stack.dwh`insert into src.items values (${id}, 'A', 1, now())`;
    await p.stack.runExtract(syncName);
    p.stack.startWriters();
    await p.stack.drain();
    await p.stack.stopWriters();
    // Act: B is read and queued; the row reverts to A before any writer runs
    await p.stack.dwh`update src.items set name = 'B', loaded_at = now() where id = ${id}`;
    const sawB = await p.stack.runExtract(syncName);
    await p.stack.dwh`update src.items set name = 'A', loaded_at = now() where id = ${id}`;
    const sawA = await p.stack.runExtract(syncName);
    p.stack.startWriters();
    await p.stack.drain();
    await p.stack.stopWriters();
    // Assess
    expect(sawB.counts.enqueued).toBe(1);
    expect(sawA.counts.enqueued).toBe(0);
    const [row] = await p.target.unsafe<{ name: string }[]>(
      `select name from ${copies[syncName]} where item_id = $1`,
      [String(id)],
    );
    expect(row?.name).toBe('A');
    expect(p.stack.stats(syncName).write.stale).toBe(1);
  });
});

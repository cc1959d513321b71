import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import { runExtract } from '../../../shared/extract/runExtract.ts';
import { planSync } from '../../../shared/ops/plan.ts';
import {
  type ItemsPipeline,
  itemsConfig,
  itemsExtractDeps,
  startItemsPipeline,
} from '../../helpers/itemsPipeline.ts';
import { localOpsContext } from '../../helpers/localOpsContext.ts';

/** Rows are removed from src.items outright; the ELT tool logs each removed key in src.items_deleted. */
describe('Deletes from a log of deleted keys (deletes.keys): rows removed outright', () => {
  let p: ItemsPipeline;
  const config = itemsConfig({
    deletes: { keys: { table: 'src.items_deleted', cursor: 'deleted_at' }, maxPerRun: 3 },
  });
  const sync = config.syncs[0]!;
  const cycle = async () => {
    const run = await runExtract(sync, itemsExtractDeps(p), {
      runId: crypto.randomUUID(),
      remainingMs: () => 600_000,
    });
    await p.stack.drain();
    return run;
  };
  const targetIds = async () => [...(await p.targetRows()).keys()].sort((a, b) => Number(a) - Number(b));
  /** What the source system does: the row goes, its key goes to the log. */
  const removeRows = async (...ids: number[]) => {
    for (const id of ids) {
      await p.stack.dwh`delete from src.items where id = ${id}`;
      await p.stack.dwh`insert into src.items_deleted values (${id}, clock_timestamp())`;
    }
  };

  beforeAll(async () => {
    p = await startItemsPipeline(config);
    await p.stack.dwh`create table src.items_deleted (id int not null, deleted_at timestamptz not null)`;
    await p.stack.dwh`create index on src.items_deleted (deleted_at, id)`;
    await p.stack
      .dwh`insert into src.items select i, 'n' || i, i, '2026-01-01'::timestamptz + i * interval '1 s' from generate_series(1, 10) i`;
    p.stack.startWriters();
    await cycle();
  });
  afterAll(async () => p?.stop());

  it('deletes the target records of removed rows and marks their links deleted, once', async () => {
    // Act
    await removeRows(2, 3);
    const run = await cycle();
    const again = await cycle();
    // Assess
    expect(run).toMatchObject({ outcome: 'succeeded', counts: { enqueued: 2 } });
    expect(await targetIds()).toEqual(['1', '4', '5', '6', '7', '8', '9', '10']);
    expect(await p.stack.links.get('items', '2')).toMatchObject({ status: 'deleted' });
    expect(again.counts.enqueued).toBe(0);
  });

  it('leaves a logged key alone when its row is back in the source, and ignores keys it never wrote', async () => {
    // Arrange: item 4 removed and restored; item 99 never existed here
    await removeRows(4);
    await p.stack.dwh`insert into src.items values (4, 'n4', 4, '2026-01-01'::timestamptz + interval '4 s')`;
    await p.stack.dwh`insert into src.items_deleted values (99, clock_timestamp())`;
    // Act
    const run = await cycle();
    // Assess
    expect(run.counts.enqueued).toBe(0);
    expect(await targetIds()).toContain('4');
    expect(await p.stack.links.get('items', '4')).toMatchObject({ status: 'ok' });
    expect(await p.stack.links.get('items', '99')).toBeUndefined();
  });

  it('writes a removed row again when it comes back with a newer version', async () => {
    // Act
    await p.stack.dwh`insert into src.items values (2, 'back', 2, now())`;
    await cycle();
    // Assess
    expect(await p.stack.links.get('items', '2')).toMatchObject({ status: 'ok' });
    expect((await p.targetRows()).get('2')).toEqual({ name: 'back', qty: 2 });
  });

  it('plans the deletes of logged keys it wrote (writeback plan)', async () => {
    // Arrange
    await removeRows(10);
    await p.stack.dwh`insert into src.items_deleted values (98, clock_timestamp())`;
    const ctx = localOpsContext(p.stack, config);
    try {
      // Act
      const plan = await planSync(ctx, 'items', { diffLimit: 0 });
      // Assess: item 10 is planned as a delete; 98 was never written; nothing was deleted
      expect(plan.records.filter((r) => r.action === 'delete')).toEqual([
        {
          key: '10',
          action: 'delete',
          version: expect.any(String),
          reason: 'logged deleted in src.items_deleted',
          targetId: (await p.stack.links.get('items', '10'))!.targetId,
        },
      ]);
      expect(await targetIds()).toContain('10');
    } finally {
      await ctx.close();
    }
    await cycle();
    expect(await targetIds()).not.toContain('10');
  });

  it('stops the run when more keys are logged than allowed, deleting and writing nothing', async () => {
    // Arrange
    const bookmark = (await p.stack.state.get('items')).bookmark;
    await removeRows(5, 6, 7, 8);
    await p.stack.dwh`update src.items set name = 'changed', loaded_at = now() where id = 9`;
    // Act
    const run = await cycle();
    // Assess
    expect(run.outcome).toBe('failed');
    expect(run.message).toMatch(
      /WB_DELETE_GUARD: 4 keys logged deleted \(deletes.keys\) since the log's bookmark would delete records this sync wrote, more than deletes.maxPerRun 3/,
    );
    expect(await targetIds()).toEqual(['1', '2', '4', '5', '6', '7', '8', '9']);
    expect((await p.stack.state.get('items')).bookmark).toEqual(bookmark);
  });

  it('asks for exactly one of a soft-delete column or a log of deleted keys', () => {
    const both = () =>
      validateConfig({
        connections: { copy: { type: 'postgres' } },
        syncs: [
          {
            ...sync,
            deletes: { column: 'deleted_at', keys: { table: 'src.items_deleted', cursor: 'deleted_at' } },
          },
        ],
      });
    expect(both).toThrow(
      'syncs[items].deletes.column: give exactly one of column (a soft-delete column) or keys (a log of deleted keys)',
    );
  });
});

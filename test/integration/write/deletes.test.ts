import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncConfig } from '../../../shared/config/schema.ts';
import { runExtract } from '../../../shared/extract/runExtract.ts';
import {
  type ItemsPipeline,
  itemsConfig,
  itemsExtractDeps,
  startItemsPipeline,
} from '../../helpers/itemsPipeline.ts';

describe('Deletes (opt-in): soft-deleted source rows delete their target records', () => {
  let p: ItemsPipeline;
  const config = itemsConfig({ deletes: { column: 'deleted_at', maxPerRun: 3 } });
  const cycle = async (sync = config.syncs[0]!) => {
    const run = await p.stack.runExtract(sync.name);
    await p.stack.drain();
    return run;
  };
  /** One extract run with a given sync config (the handler would throw on a failed run). */
  const extractWith = (sync: SyncConfig) =>
    runExtract(sync, itemsExtractDeps(p), { runId: crypto.randomUUID(), remainingMs: () => 600_000 });
  const targetIds = async () => [...(await p.targetRows()).keys()].sort((a, b) => Number(a) - Number(b));

  beforeAll(async () => {
    p = await startItemsPipeline(config);
    await p.stack.dwh`alter table src.items add column deleted_at timestamptz`;
    await p.stack
      .dwh`insert into src.items select i, 'n' || i, i, '2026-01-01'::timestamptz + i * interval '1 s' from generate_series(1, 10) i`;
    p.stack.startWriters();
    await cycle();
  });
  afterAll(async () => p?.stop());

  it('deletes the target record of a soft-deleted row and marks its link deleted', async () => {
    await p.stack.dwh`update src.items set deleted_at = now(), loaded_at = now() where id in (2, 3)`;
    const run = await cycle();
    expect(run.outcome).toBe('succeeded');
    expect(await targetIds()).toEqual(['1', '4', '5', '6', '7', '8', '9', '10']);
    expect((await p.stack.links.get('items', '2'))!.status).toBe('deleted');
    expect(p.stack.stats('items').write.deleted).toBe(2);
  });

  it('does nothing for a row deleted before this integration ever wrote it', async () => {
    await p.stack.dwh`insert into src.items values (11, 'never written', 1, now(), now())`;
    const run = await cycle();
    expect(run.counts.enqueued).toBe(0);
    expect(await p.stack.links.get('items', '11')).toBeUndefined();
  });

  it('stops the run when more rows are marked deleted than allowed, deleting and writing nothing', async () => {
    const before = (await p.stack.state.get('items')).bookmark;
    await p.stack.dwh`update src.items set deleted_at = now(), loaded_at = now() where id in (4, 5, 6, 7)`;
    await p.stack.dwh`update src.items set name = 'changed', loaded_at = now() where id = 8`;
    const run = await extractWith(config.syncs[0]!);
    await p.stack.drain();
    expect(run.outcome).toBe('failed');
    expect(run.message).toMatch(
      /WB_DELETE_GUARD: 4 rows marked deleted \(deleted_at\) since the bookmark would delete records this sync wrote, more than deletes.maxPerRun 3/,
    );
    expect(await targetIds()).toEqual(['1', '4', '5', '6', '7', '8', '9', '10']);
    expect((await p.targetRows()).get('8')!.name).toBe('n8');
    expect((await p.stack.state.get('items')).bookmark).toEqual(before);
    // With a higher limit the same run goes through.
    const ok = await extractWith({ ...config.syncs[0]!, deletes: { column: 'deleted_at', maxPerRun: 10 } });
    await p.stack.drain();
    expect(ok.outcome).toBe('succeeded');
    expect(await targetIds()).toEqual(['1', '8', '9', '10']);
  });

  it('writes a restored row again', async () => {
    await p.stack.dwh`update src.items set deleted_at = null, loaded_at = now() where id = 2`;
    await cycle();
    expect(await targetIds()).toContain('2');
    expect((await p.stack.links.get('items', '2'))!.status).toBe('ok');
  });

  it('reads from the start again (a reset, a changed mapping) without tripping on rows already deleted', async () => {
    // Arrange: six rows are marked deleted (over the limit of 3); five records are deleted already,
    // one was never written
    await p.stack.state.resetBookmark('items', undefined);
    // Act
    const run = await cycle();
    // Assess
    expect(run.outcome).toBe('succeeded');
    expect(run.counts.enqueued).toBe(0);
    expect(await targetIds()).toEqual(['1', '2', '8', '9', '10']);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mappingFingerprint } from '../../../shared/config/mappingFingerprint.ts';
import type { Row, SyncConfig } from '../../../shared/config/schema.ts';
import { runExtract } from '../../../shared/extract/runExtract.ts';
import {
  type ItemsPipeline,
  insertItems,
  itemsConfig,
  itemsExtractDeps,
  startItemsPipeline,
} from '../../helpers/itemsPipeline.ts';

describe('A changed mapping re-reads the source from the start', () => {
  let p: ItemsPipeline;
  const before = itemsConfig().syncs[0]!;
  // The new map() upper-cases the names of items with qty > 20: only those records change.
  const after = itemsConfig({
    map: (row: Row) => ({
      name: Number(row.qty) > 20 ? String(row.name).toUpperCase() : row.name,
      qty: row.qty,
    }),
  }).syncs[0]!;
  const run = async (sync: SyncConfig) => {
    const result = await runExtract(
      sync,
      itemsExtractDeps(p, { mappingFingerprint: mappingFingerprint(sync) }),
      { runId: crypto.randomUUID(), remainingMs: () => 600_000 },
    );
    await p.stack.drain();
    return result;
  };

  beforeAll(async () => {
    p = await startItemsPipeline(itemsConfig());
    await insertItems(p, 30);
    p.stack.startWriters();
  });
  afterAll(async () => p?.stop());

  it('tells mappings apart by map(), and not by the sync name or schedule', () => {
    expect(mappingFingerprint(after)).not.toBe(mappingFingerprint(before));
    expect(mappingFingerprint({ ...before, schedule: 'rate(1 hour)', batchSize: 7 })).toBe(
      mappingFingerprint(before),
    );
  });

  it('writes every row under the first mapping, then nothing while it stays the same', async () => {
    const first = await run(before);
    const second = await run(before);
    expect(first.counts).toMatchObject({ read: 30, enqueued: 30 });
    expect(second.counts).toMatchObject({ read: 0, enqueued: 0 });
    expect(second.message).toBeUndefined();
  });

  it('after a change, reads every row again and writes only the records whose content changed', async () => {
    // Act
    const changed = await run(after);
    const next = await run(after);
    // Assess
    expect(changed.message).toMatch(/^mapping changed .*re-reading every row from the start/);
    expect(changed.bookmarkBefore).toBeUndefined();
    expect(changed.counts).toMatchObject({ read: 30, unchanged: 20, enqueued: 10 });
    expect(changed.bookmarkAfter).toEqual({ cursor: '2026-01-01 00:00:30+00', key: ['30'] });
    expect(next.counts).toMatchObject({ read: 0, enqueued: 0 });
    const target = await p.targetRows();
    expect(target.get('21')).toEqual({ name: 'ITEM 21', qty: 21 });
    expect(target.get('20')).toEqual({ name: 'item 20', qty: 20 });
  });
});

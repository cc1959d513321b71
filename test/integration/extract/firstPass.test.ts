import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mappingFingerprint } from '../../../shared/config/mappingFingerprint.ts';
import type { SyncConfig } from '../../../shared/config/schema.ts';
import { runExtract } from '../../../shared/extract/runExtract.ts';
import type { LinkStore } from '../../../shared/links/LinkStore.ts';
import {
  type ItemsPipeline,
  insertItems,
  itemsConfig,
  itemsExtractDeps,
  startItemsPipeline,
} from '../../helpers/itemsPipeline.ts';

/** The link store, counting the keys the extract looks up. */
function countingLookups(links: LinkStore): { links: LinkStore; keys: () => number } {
  let keys = 0;
  const counted = new Proxy(links, {
    get(target, prop) {
      if (prop === 'batchGet') {
        return (...args: Parameters<LinkStore['batchGet']>) => {
          keys += args[1].length;
          return target.batchGet(...args);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { links: counted, keys: () => keys };
}

describe("A sync's first pass reads no links", () => {
  let p: ItemsPipeline;
  const sync = itemsConfig().syncs[0]!;
  /** One extract run (at most `testLimit` rows), then the writers drain the queue. */
  const run = async (s: SyncConfig = sync) => {
    const counting = countingLookups(p.stack.links);
    const result = await runExtract(
      s,
      itemsExtractDeps(p, { links: counting.links, mappingFingerprint: mappingFingerprint(sync) }),
      { runId: crypto.randomUUID(), remainingMs: () => 600_000 },
    );
    await p.stack.drain();
    return { result, lookups: counting.keys() };
  };

  beforeAll(async () => {
    p = await startItemsPipeline(itemsConfig());
    await insertItems(p, 120);
    p.stack.startWriters();
  });
  afterAll(async () => p?.stop());

  it('over two runs, sends every row without a lookup; a row that changes meanwhile is sent again and written once more, one resent unchanged makes no target call', async () => {
    // Act: the first 60 rows; then item 5 is renamed and item 6 only re-stamped, both after item 120
    const first = await run({ ...sync, testLimit: 60 });
    await p.stack
      .dwh`update src.items set name = 'renamed 5', loaded_at = '2026-01-01'::timestamptz + 200 * interval '1 s' where id = 5`;
    await p.stack
      .dwh`update src.items set loaded_at = '2026-01-01'::timestamptz + 201 * interval '1 s' where id = 6`;
    const second = await run();
    // Assess
    expect([first.lookups, second.lookups]).toEqual([0, 0]);
    expect(first.result.counts).toMatchObject({ read: 60, enqueued: 60 });
    expect(second.result.counts).toMatchObject({ read: 62, enqueued: 62 });
    const target = await p.targetRows();
    expect(target.size).toBe(120);
    expect(target.get('5')).toEqual({ name: 'renamed 5', qty: 5 });
    expect(p.stack.stats('items').write).toMatchObject({ created: 120, updated: 1, unchanged: 1 });
  });

  it('a later pass looks its rows up again: a row re-stamped without a change is not sent', async () => {
    // Act
    await p.stack.dwh`update src.items set loaded_at = now() where id in (7, 8)`;
    const later = await run();
    // Assess
    expect(later.lookups).toBe(2);
    expect(later.result.counts).toMatchObject({ read: 2, enqueued: 0, unchanged: 2 });
  });

  it('a pass after `writeback reset` looks every row up and sends none of them again', async () => {
    // Act
    await p.stack.state.resetBookmark('items', undefined);
    const reset = await run();
    // Assess
    expect(reset.lookups).toBe(120);
    expect(reset.result.counts).toMatchObject({ read: 120, enqueued: 0 });
    expect(p.stack.stats('items').write).toMatchObject({ created: 120, updated: 1 });
  });
});

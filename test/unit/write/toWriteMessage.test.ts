import { describe, expect, it } from 'vitest';
import { SyncSchema } from '../../../shared/config/schema.ts';
import { PARENT_TARGET_ID } from '../../../shared/queue/WriteMessage.ts';
import type { SourceRow } from '../../../shared/source/SourceReader.ts';
import { contentHash } from '../../../shared/util/contentHash.ts';
import { toWriteMessage } from '../../../shared/write/toWriteMessage.ts';

const sync = (over: Record<string, unknown> = {}) =>
  SyncSchema.parse({
    name: 'lines',
    source: { table: 'src.lines', key: 'id', cursor: 'updated_at' },
    target: { connection: 'c', object: 'o' },
    map: (row: Record<string, unknown>, ctx: { parent?: { targetId: string } }) => {
      if (row.qty === undefined) throw new Error('qty missing');
      return { qty: row.qty, deal: ctx.parent?.targetId ?? null };
    },
    ...over,
  });
const row = (r: Record<string, unknown>): SourceRow => ({
  row: r,
  key: String(r.id),
  version: '42',
  position: { cursor: 'c', key: [String(r.id)] },
  pastBookmark: true,
});

describe('Function: toWriteMessage', () => {
  it('carries the mapped payload and its hash', () => {
    // Act
    const msg = toWriteMessage(sync(), row({ id: 1, qty: 3 }), 'run-1', 'at');
    // Assess
    expect(msg).toMatchObject({ key: '1', version: '42', payload: { qty: 3, deal: null }, runId: 'run-1' });
    expect(msg.hash).toBe(contentHash({ qty: 3, deal: null }));
  });

  it("clears a target field on null by default, and leaves it untouched with nulls: 'keep', per field", () => {
    const cleared = toWriteMessage(sync(), row({ id: 1, qty: 3 }), 'run-1', 'at');
    expect(cleared.payload).toEqual({ qty: 3, deal: null });
    const kept = toWriteMessage(
      sync({
        target: { connection: 'c', object: 'o', nulls: { default: 'clear', fields: { deal: 'keep' } } },
      }),
      row({ id: 1, qty: null }),
      'run-1',
      'at',
    );
    expect(kept.payload).toEqual({ qty: null });
    expect(kept.hash).toBe(contentHash({ qty: null }));
  });

  it("names the parent and leaves a placeholder for the parent's target id", () => {
    // Act
    const msg = toWriteMessage(
      sync({ parent: { sync: 'deals', key: 'deal_id' } }),
      row({ id: 1, qty: 3, deal_id: 7 }),
      'r',
      'at',
    );
    // Assess
    expect(msg).toMatchObject({ parent: { sync: 'deals', key: '7' }, payload: { deal: PARENT_TARGET_ID } });
  });

  it("turns map()'s failure, or a missing parent key, into an invalid message", () => {
    // Act
    const noQty = toWriteMessage(sync(), row({ id: 1 }), 'r', 'at');
    const noParent = toWriteMessage(
      sync({ parent: { sync: 'deals', key: 'deal_id' } }),
      row({ id: 2, qty: 1 }),
      'r',
      'at',
    );
    // Assess
    expect(noQty.invalid).toMatchObject({ code: 'WB_MAP_FAILED' });
    expect(noQty.invalid?.message).toMatch(/qty missing/);
    expect(noParent.invalid).toMatchObject({ code: 'WB_PARENT_KEY_MISSING' });
  });

  it('takes a version newer than the row’s own when given one', () => {
    expect(toWriteMessage(sync(), row({ id: 1, qty: 3 }), 'r', 'at', '99').version).toBe('99');
  });
});

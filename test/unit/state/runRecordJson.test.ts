import { describe, expect, it } from 'vitest';
import { runRecordJson } from '../../../shared/state/DynamoStateStore.ts';
import type { RunRecord } from '../../../shared/state/RunRecord.ts';

const run = (key: string, message = 'ok'): RunRecord => ({
  sync: 'people',
  runId: 'r1',
  startedAt: '2026-12-01T00:00:00.000Z',
  finishedAt: '2026-12-01T00:00:01.000Z',
  outcome: 'succeeded',
  counts: { read: 2, unchanged: 0, enqueued: 2, invalid: 0 },
  bookmarkBefore: { cursor: '2026-01-01 00:00:00+00', key: [key] },
  bookmarkAfter: { cursor: '2026-01-02 00:00:00+00', key: [key] },
  message,
  backlog: false,
});

describe('Function: runRecordJson', () => {
  it('stores an ordinary run as it is, long keys included', () => {
    const r = run('k'.repeat(3000));
    expect(JSON.parse(runRecordJson(r))).toEqual(r);
  });

  it("keeps a run whose keys and message would pass DynamoDB's 400 KB far below it, as valid JSON", () => {
    // Prepare: two bookmarks with a 200 KB key and a 100 KB message
    const r = run('\u{1F511}'.repeat(50_000), 'x'.repeat(100_000));
    // Act
    const json = runRecordJson(r);
    // Assess
    expect(Buffer.byteLength(json)).toBeLessThan(20_000);
    const stored = JSON.parse(json) as RunRecord;
    expect(stored).toMatchObject({ runId: 'r1', counts: r.counts, outcome: 'succeeded' });
    expect(stored.bookmarkAfter!.cursor).toBe('2026-01-02 00:00:00+00');
    expect(stored.message).toMatch(/… \[truncated, 100000 bytes\]$/);
  });
});

import { describe, expect, it } from 'vitest';
import { UsageError } from '../../shared/ops/errors.ts';
import { fieldDiff } from '../../shared/ops/plan.ts';
import { runResult } from '../../shared/ops/runs.ts';
import { parseResetTarget } from '../../shared/ops/syncControl.ts';
import type { RunRecord } from '../../shared/state/RunRecord.ts';

const run = (outcome: RunRecord['outcome']): RunRecord => ({
  sync: 's',
  runId: 'r',
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:00:01.000Z',
  outcome,
  counts: { read: 3, unchanged: 0, enqueued: 3, invalid: 0 },
  bookmarkBefore: undefined,
  bookmarkAfter: undefined,
  backlog: false,
});

describe('Function: runResult', () => {
  it('is partial when some of the run’s records failed, whatever the extract said', () => {
    expect(runResult(run('succeeded'), { created: 2, updated: 0, retrying: 0, failed: 1 })).toBe('partial');
  });

  it('is writing while records are still pending or retrying', () => {
    expect(runResult(run('succeeded'), { created: 2, updated: 0, retrying: 1, failed: 0 })).toBe('writing');
  });

  it('keeps failed and skipped from the extract', () => {
    expect(runResult(run('failed'), undefined)).toBe('failed');
    expect(runResult(run('skipped'), undefined)).toBe('skipped');
  });

  it('is succeeded when every record was written', () => {
    expect(runResult(run('succeeded'), { created: 1, updated: 2, retrying: 0, failed: 0 })).toBe('succeeded');
  });
});

describe('Function: fieldDiff', () => {
  it('lists only owned fields whose target value differs, comparing as the target stores them', () => {
    // Prepare
    const current = {
      targetId: '1',
      externalId: '42',
      fields: { phone: '+1 555', company: '', total: '100', due: '2026-01-31T00:00:00.000Z', other: 'x' },
    };
    // Act
    const diff = fieldDiff(
      { phone: '+1 556', company: null, total: 100, due: new Date('2026-01-31T00:00:00Z') },
      current,
    );
    // Assess
    expect(diff).toEqual([{ field: 'phone', from: '+1 555', to: '+1 556' }]);
  });

  it('shows every field as new when the target has no record', () => {
    expect(fieldDiff({ email: 'a@b.c' }, undefined)).toEqual([
      { field: 'email', from: undefined, to: 'a@b.c' },
    ]);
  });
});

describe('Function: parseResetTarget', () => {
  it('reads start, end, a JSON position and a plain cursor value', () => {
    expect(parseResetTarget('start')).toEqual({ kind: 'start' });
    expect(parseResetTarget('end')).toEqual({ kind: 'end' });
    expect(parseResetTarget('{"cursor":"2026-01-01 00:00:00+00","key":["7"]}')).toEqual({
      kind: 'position',
      position: { cursor: '2026-01-01 00:00:00+00', key: ['7'] },
    });
    expect(parseResetTarget('2026-01-01')).toEqual({ kind: 'cursor', cursor: '2026-01-01' });
  });

  it('refuses a malformed position with a usage error that shows the expected shape', () => {
    expect(() => parseResetTarget('{"cursor":1}')).toThrow(UsageError);
    expect(() => parseResetTarget('{"cursor":1}')).toThrow('{"cursor":"…","key":["…"]}');
  });
});

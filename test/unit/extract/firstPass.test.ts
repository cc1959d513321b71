import { describe, expect, it } from 'vitest';
import type { SyncConfig } from '../../../shared/config/schema.ts';
import { isFirstPass } from '../../../shared/extract/firstPass.ts';
import type { SyncState } from '../../../shared/state/StateStore.ts';

const sync = { name: 'items' } as SyncConfig;
const pristine: SyncState = {
  bookmark: undefined,
  leaseOwner: 'run',
  leaseUntil: 1,
  enabled: undefined,
  mapping: undefined,
  pass: undefined,
  lastPassAt: undefined,
  streams: {},
};
const position = { cursor: '2026-01-01 00:00:01+00', key: ['1'] };

describe('isFirstPass', () => {
  it('is the first pass for a state where nothing was ever recorded, and while that pass is in progress', () => {
    expect(isFirstPass(sync, pristine)).toBe(true);
    expect(
      isFirstPass(sync, {
        ...pristine,
        mapping: 'm',
        pass: { at: 'x', position },
        bookmark: position,
        firstPass: true,
      }),
    ).toBe(true);
  });

  it('is not once a pass completed, after a reset or a restart, or on a state that recorded progress before the flag', () => {
    expect(
      isFirstPass(sync, { ...pristine, mapping: 'm', lastPassAt: 'x', bookmark: position, firstPass: false }),
    ).toBe(false);
    // `writeback reset` (or a mapping restart) leaves no bookmark and records false
    expect(isFirstPass(sync, { ...pristine, mapping: 'm', firstPass: false })).toBe(false);
    // Written by a version before the flag: a reset state keeps its mapping
    expect(isFirstPass(sync, { ...pristine, mapping: 'm' })).toBe(false);
    expect(isFirstPass(sync, { ...pristine, streams: { lines: position } })).toBe(false);
    expect(isFirstPass(sync, { ...pristine, pass: { at: 'x', position } })).toBe(false);
  });

  it('is never for one direction of a two-way pair: the other direction links records into it first', () => {
    expect(isFirstPass({ ...sync, pair: {} } as SyncConfig, pristine)).toBe(false);
  });
});

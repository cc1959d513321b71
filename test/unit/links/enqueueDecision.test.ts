import { describe, expect, it } from 'vitest';
import { enqueueDecision } from '../../../shared/links/selectChanged.ts';
import { linkWith } from '../../helpers/links.ts';

const link = linkWith;
const row = (hash: string, version: number) => ({ hash, version: String(version) });

describe('Function: enqueueDecision', () => {
  it('sends a row never written, and a row whose content changed', () => {
    expect(enqueueDecision(undefined, row('A', 1))).toBe('send');
    expect(enqueueDecision(link({}), row('B', 11))).toBe('send');
  });

  it('skips a row re-read at the version the target holds (lookback), or an older one', () => {
    expect(enqueueDecision(link({}), row('A', 10))).toBe('unchanged');
    expect(enqueueDecision(link({}), row('A', 9))).toBe('unchanged');
  });

  it('moves the link on when the content the target holds comes back at a newer version (A → B → A)', () => {
    expect(enqueueDecision(link({}), row('A', 12))).toBe('touch');
    expect(enqueueDecision(link({ status: 'deleted', hash: 'deleted' }), row('deleted', 12))).toBe('touch');
  });

  it('skips content in flight or failed at this version, and sends it again at a newer one', () => {
    for (const status of ['pending', 'retrying', 'failed', 'dead'] as const) {
      const l = link({ status, pendingHash: 'A', pendingVersion: '12' });
      expect([12, 13].map((v) => enqueueDecision(l, row('A', v)))).toEqual(['unchanged', 'send']);
      expect(enqueueDecision(l, row('B', 12))).toBe('send');
    }
  });
});

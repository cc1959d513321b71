import { describe, expect, it } from 'vitest';
import { isUnchanged } from '../../../shared/links/isUnchanged.ts';
import type { Link } from '../../../shared/links/Link.ts';

const link = (over: Partial<Link>): Link => ({
  sync: 's',
  key: '1',
  status: 'ok',
  targetId: 't1',
  hash: 'h1',
  version: '10',
  pendingVersion: undefined,
  pendingHash: undefined,
  attempts: 0,
  lastError: undefined,
  leaseToken: undefined,
  leaseUntil: undefined,
  runId: undefined,
  redrives: 0,
  createdAt: undefined,
  updatedAt: undefined,
  ...over,
});

describe('Function: isUnchanged', () => {
  it('needs a message for a row never written', () => expect(isUnchanged(undefined, 'h1')).toBe(false));
  it('skips a row whose content the target holds', () => expect(isUnchanged(link({}), 'h1')).toBe(true));
  it('sends a row whose content changed', () => expect(isUnchanged(link({}), 'h2')).toBe(false));
  it('skips a row whose same content is already in flight', () =>
    expect(isUnchanged(link({ status: 'pending', pendingHash: 'h2' }), 'h2')).toBe(true));
  it('does not resend a permanently failed row until it changes', () => {
    expect(isUnchanged(link({ status: 'failed', pendingHash: 'h2' }), 'h2')).toBe(true);
    expect(isUnchanged(link({ status: 'failed', pendingHash: 'h2' }), 'h3')).toBe(false);
  });
});

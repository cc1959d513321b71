import type { Link } from '../../shared/links/Link.ts';

/** A committed link (`ok`, target t1, hash A, version 10) with the fields given changed. */
export const linkWith = (over: Partial<Link>): Link => ({
  sync: 's',
  key: '1',
  status: 'ok',
  targetId: 't1',
  hash: 'A',
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

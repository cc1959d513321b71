import type { Link } from './Link.ts';

/**
 * The newest source version a link has seen: the committed one, or the one a writer claimed and
 * has not committed (pending, retrying, failed, dead). A message older than this is stale: the
 * source has moved on, and the newer message is in the queue, in the DLQ, or already written.
 */
export function newestVersion(link: Link | undefined): bigint | undefined {
  let newest: bigint | undefined;
  for (const v of [link?.version, link?.pendingVersion]) {
    if (v === undefined) continue;
    const n = BigInt(v);
    if (newest === undefined || n > newest) newest = n;
  }
  return newest;
}

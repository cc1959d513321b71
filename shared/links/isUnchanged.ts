import type { Link } from './Link.ts';

/**
 * Whether a row with this content hash needs no new message: the target already holds it,
 * a message with it is already in flight, or it already failed with exactly this content
 * (a failed record is tried again as soon as its source row changes).
 */
export function isUnchanged(link: Link | undefined, hash: string): boolean {
  if (!link) return false;
  if (link.status === 'ok' || link.status === 'deleted') return link.hash === hash;
  return link.pendingHash === hash;
}

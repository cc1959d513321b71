import { createHash } from 'node:crypto';
import type { LinkStatus } from './Link.ts';

/**
 * The DynamoDB keys of link items, built in one place. DynamoDB refuses a partition key over
 * 2048 bytes (UTF-8), a sort key over 1024, an item over 400 KB, and the same bounds hold for the
 * keys of a global secondary index. A source key or a target id can be longer than that, so a
 * key that would not fit is replaced by its SHA-256 (the full value stays on the item: `skey`,
 * `targetId`).
 *
 * Unambiguous by construction: a sync name is `[a-z][a-z0-9-]*` (config), so in the readable form
 * `<sync>#<value>` the first character after the name is `#`, while in the hashed form
 * `<sync>~sha256:<base64url>` it is `~`. No value, however it is spelled, makes a readable key
 * equal to a hashed one (or to a side item of the table, whose keys begin with `~`). A value is
 * hashed exactly when its readable key would exceed 2048 bytes, so each value has one key: the one
 * every key of up to 2048 bytes always had (links written before hashing keep their items).
 */
export const MAX_KEY_BYTES = 2048;

/** A GSI or table partition key for `<sync>` and a value: readable when it fits, hashed otherwise. */
export function boundedKey(sync: string, value: string): string {
  const readable = `${sync}#${value}`;
  if (Buffer.byteLength(readable, 'utf8') <= MAX_KEY_BYTES) return readable;
  return `${sync}~sha256:${createHash('sha256').update(value, 'utf8').digest('base64url')}`;
}

/** Whether a link key is the hashed form (for tests and ops output). */
export function isHashedKey(pk: string): boolean {
  return /^[a-z][a-z0-9-]*~sha256:/.test(pk);
}

/** The link item's partition key (`pk`) for a source key of a sync. */
export function linkPk(sync: string, key: string): string {
  return boundedKey(sync, key);
}

/** The `byTarget` index key (`targetRef`) of a link whose target record has this id. */
export function targetRef(sync: string, targetId: string): string {
  return boundedKey(sync, targetId);
}

/** The sparse `attention` index key of a link with a status that needs a look. */
export function attentionKey(sync: string, status: Exclude<LinkStatus, 'ok'>): string {
  return `${sync}#${status}`;
}

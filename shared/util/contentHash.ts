import { createHash } from 'node:crypto';
import { stableJson } from './stableJson.ts';

/** Hash of a mapped payload: equal content, equal hash, whatever the key order. 128 bits is plenty. */
export function contentHash(payload: unknown): string {
  return createHash('sha256').update(stableJson(payload)).digest('hex').slice(0, 32);
}

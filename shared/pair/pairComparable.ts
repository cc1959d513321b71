import type { Payload, SyncConfig } from '../config/schema.ts';

/**
 * A payload of one direction of a pair as verification compares it: each field that the pair
 * normalises reduced to its normalised text, so that a value the other app gave back in another
 * form (an address re-cased, a name trimmed) is not reported as drift. Fields the pair does not
 * know stay as they are.
 */
export function pairComparable(sync: SyncConfig, payload: Payload): Payload {
  const byField = new Map((sync.pair?.fields ?? []).map((f) => [f.field, f.normalize]));
  const out: Payload = {};
  for (const [field, value] of Object.entries(payload)) {
    const normalize = byField.get(field);
    out[field] = normalize ? normalize(value) : value;
  }
  return out;
}

import { isRawJson } from './parseJsonExact.ts';

/**
 * JSON with object keys sorted and values normalised (Date → ISO string, bigint → string,
 * undefined → omitted), so equal content always gives equal text and equal hashes.
 */
export function stableJson(value: unknown): string {
  return JSON.stringify(normalise(value));
}

function normalise(value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  // A number kept exact by parseJsonExact: JSON.stringify writes its digits as they are.
  if (isRawJson(value)) return value;
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : normalise(v)));
  if (typeof value === 'object') {
    if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = normalise(v);
    }
    return out;
  }
  return value;
}

/**
 * Stripe's request encoding: application/x-www-form-urlencoded with bracketed keys
 * (`metadata[order_id]=6735`, `address[line1]=…`, `items[0][price]=…`). null becomes the empty
 * string, which unsets a field (and deletes a metadata key); Dates become Unix seconds.
 */
export function toStripeForm(params: Readonly<Record<string, unknown>>): URLSearchParams {
  const form = new URLSearchParams();
  const put = (key: string, v: unknown): void => {
    if (v === undefined) return;
    if (v === null) form.append(key, '');
    else if (v instanceof Date) form.append(key, String(Math.floor(v.getTime() / 1000)));
    else if (Array.isArray(v)) for (const [i, item] of v.entries()) put(`${key}[${i}]`, item);
    else if (typeof v === 'object') for (const [k, inner] of Object.entries(v)) put(`${key}[${k}]`, inner);
    else form.append(key, String(v));
  };
  for (const [k, v] of Object.entries(params)) put(k, v);
  return form;
}

/** The inverse, as Stripe's servers read a form: nested objects, and arrays for numeric indexes. */
export function fromStripeForm(text: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey);
    if (!m) continue;
    const path = [m[1]!, ...[...(m[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((x) => x[1]!)];
    let node: Record<string, unknown> = root;
    for (let i = 0; i < path.length - 1; i++) {
      const k = path[i]!;
      const next = node[k];
      if (typeof next !== 'object' || next === null) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = value;
  }
  return arraysFromIndexes(root) as Record<string, unknown>;
}

function arraysFromIndexes(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  const entries = Object.entries(v as Record<string, unknown>).map(
    ([k, x]) => [k, arraysFromIndexes(x)] as const,
  );
  const keys = entries.map(([k]) => k);
  if (keys.length > 0 && keys.every((k, i) => k === String(i))) return entries.map(([, x]) => x);
  return Object.fromEntries(entries);
}

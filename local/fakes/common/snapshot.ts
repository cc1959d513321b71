/**
 * Copies a map of records so that an all-or-nothing request can be undone. The copy is shallow:
 * enough because the fakes replace a record's nested values (fields, lines) rather than edit them.
 */
export function snapshotMap<K, V extends object>(map: Map<K, V>): () => void {
  const saved = [...map].map(([k, r]) => [k, { ...r }] as const);
  return () => {
    map.clear();
    for (const [k, r] of saved) map.set(k, r);
  };
}

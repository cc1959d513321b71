import { contentHash } from '../util/contentHash.ts';
import type { SyncConfig } from './schema.ts';

/**
 * What decides the records a sync writes, as one short hash: the text of `map()`, which rows are
 * read (table or query, key, filter), their children, the parent reference, the target and its null
 * policy, and the soft-delete column. When it changes, rows the bookmark has passed may now map to
 * other records, so the next run re-reads from the start (runExtract). Taken from the config as
 * written (the CDK app computes it at synth time and hands it to the extract function): the
 * function text inside a minified bundle changes with unrelated code.
 */
export function mappingFingerprint(sync: SyncConfig): string {
  return contentHash({
    map: sync.map.toString(),
    source: {
      table: sync.source.table,
      query: sync.source.query,
      key: sync.source.key,
      where: sync.source.where,
    },
    children: sync.children,
    parent: sync.parent,
    target: sync.target,
    deletes: sync.deletes ? { column: sync.deletes.column, keys: sync.deletes.keys } : undefined,
    // A pair's map is generated from its fields: the fields (and their normalisers) are the mapping.
    pair: sync.pair?.fields.map((f) => ({
      ...f,
      value: f.value?.toString(),
      normalize: f.normalize.toString(),
    })),
  }).slice(0, 16);
}

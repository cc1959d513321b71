import type { Sql } from 'postgres';
import type { SyncConfig } from '../config/schema.ts';
import { SourceReader, type SourceRow } from '../source/SourceReader.ts';
import { quoteIdent } from '../source/sqlText.ts';

/**
 * Reads the current source rows of some keys, whatever the bookmark: redriveFailed (and the
 * operator's DLQ redrive) need the newest content of rows the cursor has long passed. Goes
 * through SourceReader.readPage (same versions, same key encoding, and the sync's `where`) with a
 * key filter added; each key value is a typed literal (`'42'::integer`), so the key's index
 * serves the lookup. Keys that no longer exist, or that the sync's `where` now excludes, are
 * absent from the result.
 */
export async function readSourceRowsByKey(
  sql: Sql,
  sync: SyncConfig,
  keys: readonly string[],
): Promise<SourceRow[]> {
  if (keys.length === 0) return [];
  const probe = new SourceReader(sql, sync.name, sync.source);
  const types = await probe.columnTypes();
  const columns = sync.source.key.map((k) => `src.${quoteIdent(k)}`);
  const tuples = keys.map((key) => {
    const parts = decodeSourceKey(key, columns.length);
    return `(${parts.map((p, i) => `${literal(p)}::${types.key[i]}`).join(', ')})`;
  });
  const keyFilter = `(${columns.join(', ')}) in (${tuples.join(', ')})`;
  const reader = new SourceReader(sql, sync.name, {
    ...sync.source,
    // By key, not by cursor: no settle window and no lookback apply.
    settle: 0,
    lookback: 0,
    timeZone: 'UTC',
    where: sync.source.where ? `(${sync.source.where}) and ${keyFilter}` : keyFilter,
  });
  return reader.readPage(undefined, keys.length, undefined);
}

/** The inverse of encodeSourceKey: the value itself, or a JSON array for a composite key. */
export function decodeSourceKey(key: string, parts: number): string[] {
  if (parts === 1) return [key];
  const decoded: unknown = JSON.parse(key);
  if (!Array.isArray(decoded) || decoded.length !== parts || decoded.some((p) => typeof p !== 'string'))
    throw new Error(`source key ${key} does not have ${parts} parts`);
  return decoded as string[];
}

/** A SQL string literal (the filter goes through `where`, which takes no parameters); with standard_conforming_strings (on since Postgres 9.1) doubling quotes is enough. */
function literal(value: string): string {
  if (value.includes('\0')) throw new Error('a source key cannot contain a NUL character');
  return `'${value.replaceAll("'", "''")}'`;
}

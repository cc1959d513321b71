import type { Sql } from 'postgres';
import type { SyncConfig } from '../config/schema.ts';
import { DELETED_HASH } from '../links/Link.ts';
import type { WriteMessage } from '../queue/WriteMessage.ts';
import { ChildReader } from '../source/ChildReader.ts';
import { isRowMarkedDeleted, type SourceRow } from '../source/SourceReader.ts';
import { toWriteMessage } from '../write/toWriteMessage.ts';

/** The readers of a sync's embedded children, one per child table. */
export function childReadersOf(sql: Sql, sync: SyncConfig): ChildReader[] {
  return (sync.children ?? []).map((spec) => new ChildReader(sql, sync.name, spec));
}

/**
 * The messages of a page of rows, built as every path builds them (extract, re-drive, repair):
 * embedded children attached (one query per child table for the page), the record's version
 * raised to its newest child's, then toWriteMessage per row.
 */
export async function buildMessages(
  sync: SyncConfig,
  rows: readonly SourceRow[],
  runId: string,
  children: readonly ChildReader[],
  now: () => number,
): Promise<WriteMessage[]> {
  const enqueuedAt = new Date(now()).toISOString();
  const versions = new Map<string, string>();
  for (const reader of children) {
    const byParent = await reader.readFor(rows.map((r) => r.position.key[0]!));
    for (const r of rows) {
      const group = byParent.get(r.position.key[0]!);
      r.row[reader.as] = group?.rows ?? [];
      const v = group?.version;
      if (v !== undefined && BigInt(v) > BigInt(versions.get(r.key) ?? r.version)) versions.set(r.key, v);
    }
  }
  return rows.map((r) => {
    const version = versions.get(r.key) ?? r.version;
    if (isRowMarkedDeleted(sync.deletes, r.row)) {
      return {
        v: 1 as const,
        sync: sync.name,
        key: r.key,
        version,
        runId,
        enqueuedAt,
        hash: DELETED_HASH,
        payload: {},
        delete: true as const,
      };
    }
    return toWriteMessage(sync, r, runId, enqueuedAt, version);
  });
}

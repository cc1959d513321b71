import type { ReservedSql } from 'postgres';
import type { Payload, SyncConfig } from '../config/schema.ts';
import { buildMessages, childReadersOf } from '../extract/buildMessages.ts';
import { pairComparable } from '../pair/pairComparable.ts';
import type { WriteMessage } from '../queue/WriteMessage.ts';
import type { ChildReader } from '../source/ChildReader.ts';
import type { Position } from '../source/Position.ts';
import { isRowMarkedDeleted, type PageStart, SourceReader } from '../source/SourceReader.ts';
import { stableJson } from '../util/stableJson.ts';
import { type ResolvedPayload, resolveParents } from '../write/resolveParents.ts';
import { copyRows } from './copyRows.ts';
import type { VerifyDeps } from './verifySync.ts';

/** Source rows per page read. */
const PAGE = 5000;

/**
 * Step 2 of a verification: the source rows into wb_src, mapped as a run would send them. Returns how many, and the
 * fields to compare: verify.fields, or every field a payload has.
 */
export async function copySource(
  conn: ReservedSql,
  sync: SyncConfig,
  deps: VerifyDeps,
  bookmark: Position | undefined,
): Promise<{ sourceRows: number; fields: string[] }> {
  const fields = new Set<string>(Object.keys(sync.verify?.fields ?? {}));
  const reader = new SourceReader(deps.dwh, sync.name, sync.source);
  const children = childReadersOf(deps.dwh, sync);
  const sourceRows = await copyRows(
    conn,
    'wb_src',
    ['key', 'payload', 'behind', 'parent_key', 'parent_id'],
    mappedRows(sync, deps, reader, children, bookmark, fields),
  );
  return { sourceRows, fields: [...fields] };
}

/** The rows of wb_src, page by page; adds each payload's fields to `fields` unless verify.fields names them. */
async function* mappedRows(
  sync: SyncConfig,
  deps: VerifyDeps,
  reader: SourceReader,
  children: readonly ChildReader[],
  bookmark: Position | undefined,
  fields: Set<string>,
): AsyncIterable<(string | undefined)[]> {
  let start: PageStart;
  for (;;) {
    const page = await reader.readPage(start, PAGE, bookmark);
    // A row marked deleted (opt-in deletes) is meant to be gone from the target.
    const live = page.filter((r) => !isRowMarkedDeleted(sync.deletes, r.row));
    // What a run would send: embedded children attached, null policy applied, and the
    // parent's target id in place of its placeholder (from the parent sync's links).
    const messages = await buildMessages(sync, live, 'verify', children, deps.now);
    const resolved = sync.parent
      ? await resolveParents(
          deps.links,
          messages.filter((m) => !m.invalid),
        )
      : undefined;
    for (const [i, m] of messages.entries()) {
      const res = resolved?.get(m.key);
      const mapped = comparedPayload(m, res);
      const payload = mapped && sync.pair ? pairComparable(sync, mapped) : mapped;
      if (payload && !sync.verify?.fields) for (const f of Object.keys(payload)) fields.add(f);
      const parentId = res && !('error' in res) ? res.parentTargetId : undefined;
      yield [
        m.key,
        payload ? stableJson(payload) : 'null',
        live[i]!.pastBookmark ? 't' : 'f',
        m.parent?.key,
        parentId,
      ];
    }
    if (page.length < PAGE) return;
    start = { after: page[page.length - 1]!.position };
  }
}

/**
 * The payload compared field by field: what the writer would send. None for a row map() rejects
 * (it is in the DLQ: dead) or a child whose parent is not linked (backlog).
 */
function comparedPayload(m: WriteMessage, res: ResolvedPayload | undefined): Payload | undefined {
  if (m.invalid) return undefined;
  if (!res) return m.payload;
  return 'error' in res ? undefined : res.payload;
}

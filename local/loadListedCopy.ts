import type { Sql } from 'postgres';
import type { Connector } from '../shared/connectors/Connector.ts';
import { quoteIdent } from '../shared/source/sqlText.ts';
import { chunks } from '../shared/util/chunks.ts';

/**
 * The ELT stand-in for a target without a loader of its own: every record of `object` listed
 * through its connector, into `copyTable` as `id` (the target's id), `external_id`, one text column
 * per top-level field (an object or a list as JSON text, as ELT tools flatten them), and
 * `_loaded_at`, the time the listing began (a record written after it is not evidence of drift).
 */
export async function loadListedCopy(
  dwh: Sql,
  connector: Connector,
  object: string,
  copyTable: string,
): Promise<number> {
  const loadedAt = new Date();
  const rows: Record<string, string | null>[] = [];
  const fields = new Set<string>();
  for await (const r of connector.list(object)) {
    const row: Record<string, string | null> = { id: r.targetId, external_id: r.externalId ?? null };
    for (const [k, v] of Object.entries(r.fields)) {
      if (k === 'id' || k === 'external_id' || k === '_loaded_at') continue;
      fields.add(k);
      row[k] = v === null || v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : String(v);
    }
    rows.push(row);
  }
  const cols = ['id', 'external_id', ...[...fields].sort()];
  const [schema] = copyTable.split('.');
  await dwh.begin(async (tx) => {
    if (copyTable.includes('.')) await tx.unsafe(`create schema if not exists ${quoteIdent(schema!)}`);
    await tx.unsafe(`drop table if exists ${copyTable}`);
    await tx.unsafe(
      `create table ${copyTable} (${cols.map((c) => `${quoteIdent(c)} text`).join(', ')}, _loaded_at timestamptz not null)`,
    );
    for (const batch of chunks(rows, 1000)) {
      const chunk = batch.map((r) => ({
        ...Object.fromEntries(cols.map((c) => [c, r[c] ?? null])),
        _loaded_at: loadedAt,
      }));
      await tx`insert into ${tx(copyTable)} ${tx(chunk as never, ...cols, '_loaded_at')}`;
    }
  });
  return rows.length;
}

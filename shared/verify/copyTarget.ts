import type { ReservedSql } from 'postgres';
import type { Payload, SyncConfig } from '../config/schema.ts';
import type { Connector } from '../connectors/Connector.ts';
import { WritebackError } from '../errors.ts';
import { pairComparable } from '../pair/pairComparable.ts';
import { quoteIdent, quoteQualified } from '../source/sqlText.ts';
import { mapAsync } from '../util/mapAsync.ts';
import { stableJson } from '../util/stableJson.ts';
import { copyRows } from './copyRows.ts';

/** Step 3 of a verification: the target's records into wb_copy. Returns what the sync is verified against, for the report. */
export async function copyTarget(
  conn: ReservedSql,
  sync: SyncConfig,
  connector: Connector | undefined,
  compared: readonly string[],
): Promise<string> {
  if (sync.verify?.table) {
    await copyWarehouseCopy(conn, sync, sync.verify.table, compared);
    await refuseEmptyCopy(conn, sync, sync.verify.table);
    return sync.verify.table;
  }
  if (connector) {
    await copyRows(
      conn,
      'wb_copy',
      ['key', 'target_id', 'fields', 'loaded_at'],
      mapAsync(connector.list(sync.target.object), (r) => [
        r.externalId ?? null,
        r.targetId,
        stableJson(Object.fromEntries(compared.map((f) => [f, r.fields[copyColumn(sync, f)] ?? null]))),
        null,
      ]),
    );
    const against = `${connector.type} API (${sync.target.object})`;
    await refuseEmptyCopy(conn, sync, against);
    return against;
  }
  throw new WritebackError(
    'WB_VERIFY_NO_TARGET',
    `sync ${sync.name}: nothing to verify against; set verify.table to the warehouse copy of ${sync.target.object}`,
  );
}

/**
 * An empty copy while the links (wb_links, step 1) say records were written: a copy not loaded yet
 * or loaded elsewhere, or an API listing of the wrong account, not a target that lost everything.
 * Reporting every record missing (and repairing them all) would be wrong: an error instead.
 */
async function refuseEmptyCopy(conn: ReservedSql, sync: SyncConfig, against: string): Promise<void> {
  const [counts] = await conn<{ copied: number; linked: number }[]>`
    select (select count(*) from wb_copy)::int as copied,
           (select count(*) from wb_links where status = 'ok' and target_id is not null)::int as linked`;
  if (!counts || counts.copied > 0 || counts.linked === 0) return;
  throw new WritebackError(
    'WB_VERIFY_EMPTY_COPY',
    `sync ${sync.name}: ${against} holds no records, while ${counts.linked} link(s) say records were written there: ` +
      'nothing compared, nothing repaired. Check that the copy is loaded (on the local stack: writeback verify --load-copies)',
  );
}

/** wb_copy from the target's copy in the warehouse (verify.table), in SQL; it must be loaded already. */
async function copyWarehouseCopy(
  conn: ReservedSql,
  sync: SyncConfig,
  table: string,
  compared: readonly string[],
): Promise<void> {
  const verify = sync.verify!;
  const [exists] = await conn<
    { ok: boolean }[]
  >`select to_regclass(${quoteQualified(table)}) is not null as ok`;
  if (!exists?.ok) {
    throw new WritebackError(
      'WB_VERIFY_NO_COPY',
      `sync ${sync.name}: the target's copy ${table} is not in the warehouse yet: load it with your ELT tool (on the local stack: writeback verify --load-copies)`,
    );
  }
  const ext = quoteIdent(verify.externalIdColumn ?? sync.target.externalId ?? 'external_id');
  const tid = verify.targetIdColumn ? `t.${quoteIdent(verify.targetIdColumn)}::text` : 'null';
  const loaded = verify.loadedAtColumn ? `t.${quoteIdent(verify.loadedAtColumn)}` : 'null';
  const obj = compared.length
    ? `jsonb_build_object(${compared.map((f) => `'${f.replaceAll("'", "''")}', t.${quoteIdent(copyColumn(sync, f))}`).join(', ')})`
    : `'{}'::jsonb`;
  if (sync.pair && verify.targetIdColumn) {
    // One direction of a two-way pair: a record the other app created carries no external id of
    // ours (or another one), so a copied record is matched to its source key through the link to
    // it; only the rows that take part in the pair (the other direction's `where`); and values are
    // compared as the pair compares them, normalised (in JS, like the source's).
    const where = sync.pair.target.where ? `where (${sync.pair.target.where})` : '';
    const rows = await conn.unsafe<
      { key: string; target_id: string | null; fields: Payload; loaded_at: string | null }[]
    >(
      `select coalesce(l.key, t.${ext}::text) as key, ${tid} as target_id, ${obj} as fields, ${loaded}::text as loaded_at
       from (select * from ${quoteQualified(table)} ${where}) t left join wb_links l on l.target_id = ${tid}`,
    );
    await copyRows(
      conn,
      'wb_copy',
      ['key', 'target_id', 'fields', 'loaded_at'],
      rows.map((r) => [r.key, r.target_id, stableJson(pairComparable(sync, r.fields)), r.loaded_at]),
    );
    return;
  }
  // sql.unsafe: quoted identifiers from validated config.
  await conn.unsafe(
    `insert into wb_copy (key, target_id, fields, loaded_at)
     select t.${ext}::text, ${tid}, ${obj}, ${loaded} from ${quoteQualified(table)} t`,
  );
}

/** The copy's column (or the API's property) holding a compared field: verify.fields renames it. */
function copyColumn(sync: SyncConfig, field: string): string {
  return sync.verify?.fields?.[field] ?? field;
}

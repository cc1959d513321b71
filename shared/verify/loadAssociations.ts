import type { ReservedSql } from 'postgres';
import type { SyncConfig } from '../config/schema.ts';
import type { Connector } from '../connectors/Connector.ts';
import { WritebackError } from '../errors.ts';
import { quoteIdent, quoteQualified } from '../source/sqlText.ts';
import { copyRows } from './copyRows.ts';

/** Children per association read: a multiple of HubSpot's 1000 per call, bounded in memory. */
const ASSOCIATION_PAGE = 10_000;

/** Where a sync's associations are read from, checked before any work. */
export interface AssociationSource {
  /** The parent's object type (`target.associate.with`). */
  readonly with: string;
  /** For the report: the copy's column, or the API. */
  readonly against: string;
  /** The copy's column holding the associated parent's target id; undefined: read through the connector. */
  readonly column?: string;
  readonly connector?: Connector;
}

/**
 * Where the associations of a sync of associated children are read from: the copy's parent column,
 * or the connector's batch read. Undefined for a sync without associations; throws when neither is
 * available, before any work.
 */
export function associationSource(
  sync: SyncConfig,
  connector: Connector | undefined,
): AssociationSource | undefined {
  const spec = sync.target.associate;
  if (!spec || !sync.parent) return undefined;
  const column = sync.verify?.parentColumn;
  if (column && sync.verify?.table) {
    return { with: spec.with, against: `${sync.verify.table}.${column}`, column };
  }
  if (!connector?.readAssociations) {
    throw new WritebackError(
      'WB_VERIFY_NO_ASSOCIATIONS',
      `sync ${sync.name}: its records are associated with ${spec.with}, and verify has no way to read those associations: ` +
        (connector
          ? `the ${connector.type} connector cannot read them in batches; `
          : 'no connector was given to read them from the target; ') +
        `set verify.parentColumn to the column of ${sync.verify?.table ?? "the target's warehouse copy"} holding each record's associated ${spec.with} id`,
    );
  }
  return {
    with: spec.with,
    against: `${connector.type} API (${sync.target.object} → ${spec.with})`,
    connector,
  };
}

/**
 * Fills wb_assoc with what the target says each linked child is associated with: from the copy's
 * column in SQL, or read through the connector's batch read for the children whose parent is
 * resolved and whose record is in the target (a missing record is already a finding). Returns how
 * many children will be compared.
 */
export async function loadAssociations(
  conn: ReservedSql,
  sync: SyncConfig,
  src: AssociationSource,
): Promise<number> {
  if (src.column) await copyParentColumn(conn, sync, src.column, src.with);
  else await readThroughConnector(conn, sync, src);
  await conn`analyze wb_assoc`;
  const [row] = await conn<{ n: number }[]>`
    select count(*)::int as n from wb_src s join wb_links l using (key) join wb_assoc a using (key)
    where l.status = 'ok' and not s.behind and s.parent_id is not null
      and (a.loaded_at is null or a.loaded_at >= l.updated_at)`;
  return row?.n ?? 0;
}

/** wb_assoc from the warehouse copy's column of associated parent ids, checked to exist first. */
async function copyParentColumn(
  conn: ReservedSql,
  sync: SyncConfig,
  column: string,
  withObject: string,
): Promise<void> {
  const table = sync.verify!.table!;
  const [has] = await conn<{ ok: boolean }[]>`
    select exists (
      select 1 from pg_attribute
      where attrelid = to_regclass(${quoteQualified(table)}) and attname = ${column} and not attisdropped
    ) as ok`;
  if (!has?.ok) {
    throw new WritebackError(
      'WB_VERIFY_NO_PARENT_COLUMN',
      `sync ${sync.name}: verify.parentColumn ${column} is not a column of ${table}: name the column your ELT tool loads each record's associated ${withObject} id into`,
    );
  }
  const ext = quoteIdent(sync.verify!.externalIdColumn ?? sync.target.externalId ?? 'external_id');
  const loaded = sync.verify!.loadedAtColumn ? `t.${quoteIdent(sync.verify!.loadedAtColumn)}` : 'null';
  // sql.unsafe: quoted identifiers from validated config.
  await conn.unsafe(
    `insert into wb_assoc (key, parents, loaded_at)
     select t.${ext}::text, pg_temp.wb_ids(t.${quoteIdent(column)}::text), ${loaded}
     from ${quoteQualified(table)} t where t.${ext} is not null
     on conflict (key) do nothing`,
  );
}

/** wb_assoc from the connector's batch read, for the linked children whose record is in the target. */
async function readThroughConnector(
  conn: ReservedSql,
  sync: SyncConfig,
  src: AssociationSource,
): Promise<void> {
  let after = '';
  for (;;) {
    // Keyset pages over the children to read: the copy into wb_assoc needs the connection between pages.
    const page = await conn<{ key: string; target_id: string }[]>`
      select s.key, l.target_id from wb_src s join wb_links l using (key)
      where l.status = 'ok' and l.target_id is not null and not s.behind and s.parent_id is not null
        and exists (select 1 from wb_copy c where c.key = s.key) and s.key > ${after}
      order by s.key limit ${ASSOCIATION_PAGE}`;
    if (page.length === 0) break;
    const read = await src.connector!.readAssociations!(
      sync.target.object,
      page.map((r) => r.target_id),
      src.with,
    );
    await copyRows(
      conn,
      'wb_assoc',
      ['key', 'parents'],
      page.map((r) => [r.key, JSON.stringify((read.get(r.target_id) ?? []).map((a) => a.toId))]),
    );
    if (page.length < ASSOCIATION_PAGE) break;
    after = page[page.length - 1]!.key;
  }
}

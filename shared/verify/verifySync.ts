import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ReservedSql, Sql } from 'postgres';
import type { SyncConfig } from '../config/schema.ts';
import type { Connector } from '../connectors/Connector.ts';
import { WritebackError } from '../errors.ts';
import { buildMessages, childReadersOf } from '../extract/buildMessages.ts';
import { DynamoLinkStore } from '../links/DynamoLinkStore.ts';
import { isRowMarkedDeleted, type PageStart, SourceReader } from '../source/SourceReader.ts';
import { quoteIdent, quoteQualified } from '../source/sqlText.ts';
import type { StateStore } from '../state/StateStore.ts';
import { stableJson } from '../util/stableJson.ts';
import { resolveParents } from '../write/resolveParents.ts';
import { copyRows } from './copyRows.ts';
import { exportSyncLogs } from './exportSyncLogs.ts';
import { scanLinks } from './scanLinks.ts';
import { FINDING_KINDS, type Finding, type FindingKind, type VerifyReport } from './VerifyReport.ts';

export interface VerifyDeps {
  /** The warehouse: the source, and the target's copy when `verify.table` is set. */
  readonly dwh: Sql;
  readonly ddb: DynamoDBClient;
  readonly linksTable: string;
  readonly state: StateStore;
  /** Lists the target when no warehouse copy is configured. */
  readonly connector?: Connector;
  readonly now: () => number;
}

const PAGE = 5000;

export interface VerifyOptions {
  /** Findings of each kind kept in the report. @default 100 */
  readonly detailLimit?: number;
  /** Also refresh the `writeback` schema in the warehouse (links, runs, findings) for SQL users. */
  readonly exportLogs?: boolean;
}

/** A verification's report, and every finding (the report keeps `detailLimit` of each kind). */
export interface VerifyOutcome {
  readonly report: VerifyReport;
  readonly findings: readonly Finding[];
}

/**
 * Compares a sync's source (mapped, as it would be written) with the target's copy through the
 * links, reading only. The source rows and the links are copied into temporary tables with COPY
 * and compared in SQL, next to the warehouse copy of the target (or the target API's list, copied
 * in the same way), so a million rows cost a few streaming passes, not a million lookups.
 */
export async function verifySync(
  sync: SyncConfig,
  deps: VerifyDeps,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  return (await verifySyncFindings(sync, deps, opts)).report;
}

/** verifySync, with every finding as well: what a repair needs (each missing and drifted key). */
export async function verifySyncFindings(
  sync: SyncConfig,
  deps: VerifyDeps,
  opts: VerifyOptions = {},
): Promise<VerifyOutcome> {
  const t0 = deps.now();
  const detailLimit = opts.detailLimit ?? 100;
  const associations = associationSource(sync, deps);
  const conn = await deps.dwh.reserve();
  try {
    await createTempTables(conn);
    const bookmark = (await deps.state.get(sync.name)).bookmark;

    // 1. The links of this sync.
    await copyRows(
      conn,
      'wb_links',
      ['key', 'status', 'target_id', 'hash', 'updated_at', 'version', 'attempts', 'last_error'],
      mapAsync(scanLinks(deps.ddb, deps.linksTable, sync.name), (l) => [
        l.key,
        l.status,
        l.targetId,
        l.hash,
        l.updatedAt,
        l.version,
        String(l.attempts),
        l.lastError,
      ]),
    );

    // 2. The source, mapped; rows after the bookmark are backlog, not findings.
    const fields = new Set<string>(Object.keys(sync.verify?.fields ?? {}));
    const reader = new SourceReader(deps.dwh, sync.name, sync.source);
    const children = childReadersOf(deps.dwh, sync);
    const links = new DynamoLinkStore(deps.ddb, deps.linksTable);
    const sourceRows = await copyRows(
      conn,
      'wb_src',
      ['key', 'payload', 'behind', 'parent_key', 'parent_id'],
      (async function* () {
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
                links,
                messages.filter((m) => !m.invalid),
              )
            : undefined;
          for (const [i, m] of messages.entries()) {
            const res = resolved?.get(m.key);
            // A row map() rejects is in the DLQ (dead), and a child whose parent is not linked is
            // backlog: neither is compared field by field.
            const payload = m.invalid
              ? undefined
              : res
                ? 'error' in res
                  ? undefined
                  : res.payload
                : m.payload;
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
      })(),
    );

    // 3. The target: the warehouse copy, or the API listed through the connector.
    const compared = [...fields];
    const copyColumn = (f: string) => sync.verify?.fields?.[f] ?? f;
    let against: string;
    if (sync.verify?.table) {
      against = sync.verify.table;
      const [exists] = await conn<
        { ok: boolean }[]
      >`select to_regclass(${quoteQualified(against)}) is not null as ok`;
      if (!exists?.ok) {
        throw new WritebackError(
          'WB_VERIFY_NO_COPY',
          `sync ${sync.name}: the target's copy ${against} is not in the warehouse yet: load it with your ELT tool (on the local stack: writeback verify --load-copies)`,
        );
      }
      const ext = quoteIdent(sync.verify.externalIdColumn ?? sync.target.externalId ?? 'external_id');
      const tid = sync.verify.targetIdColumn ? `t.${quoteIdent(sync.verify.targetIdColumn)}::text` : 'null';
      const loaded = sync.verify.loadedAtColumn ? `t.${quoteIdent(sync.verify.loadedAtColumn)}` : 'null';
      const obj = compared.length
        ? `jsonb_build_object(${compared.map((f) => `'${f.replaceAll("'", "''")}', t.${quoteIdent(copyColumn(f))}`).join(', ')})`
        : `'{}'::jsonb`;
      // sql.unsafe: quoted identifiers from validated config.
      await conn.unsafe(
        `insert into wb_copy (key, target_id, fields, loaded_at)
         select t.${ext}::text, ${tid}, ${obj}, ${loaded} from ${quoteQualified(sync.verify.table)} t`,
      );
    } else if (deps.connector) {
      against = `${deps.connector.type} API (${sync.target.object})`;
      await copyRows(
        conn,
        'wb_copy',
        ['key', 'target_id', 'fields', 'loaded_at'],
        mapAsync(deps.connector.list(sync.target.object), (r) => [
          r.externalId ?? null,
          r.targetId,
          stableJson(Object.fromEntries(compared.map((f) => [f, r.fields[copyColumn(f)] ?? null]))),
          null,
        ]),
      );
    } else {
      throw new WritebackError(
        'WB_VERIFY_NO_TARGET',
        `sync ${sync.name}: nothing to verify against; set verify.table to the warehouse copy of ${sync.target.object}`,
      );
    }
    await conn`analyze wb_links`;
    await conn`analyze wb_src`;
    await conn`analyze wb_copy`;

    // 3b. Associated children: the parent each child is associated with in the target.
    const checked = associations ? await loadAssociations(conn, sync, associations) : undefined;

    // 4. Findings, in SQL.
    const found = await findings(conn, compared, associations?.with);
    const counts = Object.fromEntries(FINDING_KINDS.map((k) => [k, 0])) as Record<FindingKind, number>;
    const detail: Finding[] = [];
    for (const f of found) {
      counts[f.kind]++;
      if (counts[f.kind] <= detailLimit) detail.push(f);
    }
    const [{ n: targetRecords }] = (await conn`select count(*)::int as n from wb_copy`) as unknown as [
      { n: number },
    ];
    const report: VerifyReport = {
      sync: sync.name,
      at: new Date(t0).toISOString(),
      against,
      sourceRows,
      targetRecords,
      counts,
      findings: detail,
      clean: counts.missing + counts.drift + counts.orphan + counts.dead === 0,
      durationMs: deps.now() - t0,
      ...(associations && checked !== undefined
        ? { associations: { with: associations.with, against: associations.against, checked } }
        : {}),
    };
    if (opts.exportLogs)
      await exportSyncLogs(conn, sync.name, await deps.state.listRuns(sync.name, 200), report);
    return { report, findings: found };
  } finally {
    await conn`discard temp`.catch(() => undefined);
    conn.release();
  }
}

async function createTempTables(conn: ReservedSql): Promise<void> {
  await conn`
    create temp table wb_links (
      key text primary key, status text, target_id text, hash text, updated_at timestamptz,
      version numeric, attempts int, last_error jsonb
    )`;
  await conn`
    create temp table wb_src (
      key text primary key, payload jsonb, behind boolean not null, parent_key text, parent_id text
    )`;
  await conn`create temp table wb_copy (key text, target_id text, fields jsonb, loaded_at timestamptz)`;
  await conn`create index on wb_copy (key)`;
  // Associated children: the target ids of the records each child is associated with (a JSON array).
  await conn`create temp table wb_assoc (key text primary key, parents jsonb not null, loaded_at timestamptz)`;
  await conn`
    create temp table wb_drift (
      key text not null, target_id text, fields text[] not null default '{}',
      association boolean not null default false, parent_key text, parent_id text, parents jsonb
    )`;
  // A copy's association column: one id, or a JSON array of ids (numbers or strings), as text.
  await conn`
    create function pg_temp.wb_ids(v text) returns jsonb language sql immutable as $$
      select case
        when v is null or btrim(v) = '' then '[]'::jsonb
        when btrim(v) like '[%' then
          coalesce((select jsonb_agg(x) from jsonb_array_elements_text(v::jsonb) x), '[]'::jsonb)
        else jsonb_build_array(btrim(v))
      end
    $$`;
  // Compares values across type boundaries: '' and null, 100 and 100.0, a date and midnight UTC.
  await conn`
    create function pg_temp.wb_norm(v text) returns text language sql immutable as $$
      select case
        when v is null or v = '' then null
        when v ~ '^-?[0-9]+(\\.[0-9]+)?$' then trim_scale(v::numeric)::text
        when v ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$'
          then regexp_replace(
            to_char((case when length(v) = 10 then v || 'T00:00:00Z' else v end)::timestamptz at time zone 'UTC',
                    'YYYY-MM-DD"T"HH24:MI:SS.US'),
            'T00:00:00\\.000000$', '')
        else v
      end
    $$`;
}

async function findings(
  conn: ReservedSql,
  fields: readonly string[],
  associatedWith: string | undefined,
): Promise<Finding[]> {
  const out: Finding[] = [];
  // Links that are not ok: dead/failed are findings; pending/retrying are backlog in flight.
  for (const r of await conn<{ key: string; status: string; target_id: string | null }[]>`
    select key, status, target_id from wb_links where status not in ('ok', 'deleted') order by key`) {
    const dead = r.status === 'dead' || r.status === 'failed';
    out.push({
      kind: dead ? 'dead' : 'backlog',
      key: r.key,
      ...(r.target_id ? { targetId: r.target_id } : {}),
      reason: dead ? `link is ${r.status}: the record is in the DLQ` : `write in flight (link ${r.status})`,
    });
  }
  for (const r of await conn<{ key: string }[]>`select key from wb_src where behind order by key`) {
    out.push({ kind: 'backlog', key: r.key, reason: 'source row changed after the bookmark' });
  }
  for (const r of await conn<{ key: string }[]>`
    select s.key from wb_src s left join wb_links l using (key)
    where not s.behind and l.key is null order by s.key`) {
    out.push({ kind: 'missing', key: r.key, reason: 'source row has no link: never written' });
  }
  // Linked, but the target's copy does not have it. A copy loaded before our write is not evidence.
  for (const r of await conn<{ key: string; target_id: string | null }[]>`
    select s.key, l.target_id from wb_src s join wb_links l using (key)
    where l.status = 'ok' and not exists (select 1 from wb_copy c where c.key = s.key)
      and l.updated_at <= coalesce((select max(loaded_at) from wb_copy), 'infinity')
    order by s.key`) {
    out.push({
      kind: 'missing',
      key: r.key,
      ...(r.target_id ? { targetId: r.target_id } : {}),
      reason: 'linked, but the target has no record with this external id',
    });
  }
  if (fields.length > 0) {
    await conn`
      insert into wb_drift (key, target_id, fields)
      select s.key, c.target_id, array_agg(f order by f)
      from wb_src s
      join wb_links l using (key)
      join wb_copy c on c.key = s.key
      cross join unnest(${fields as string[]}::text[]) as f
      where l.status = 'ok' and not s.behind and s.payload <> 'null'::jsonb
        and (c.loaded_at is null or c.loaded_at >= l.updated_at)
        and pg_temp.wb_norm(s.payload #>> string_to_array(f, '.')) is distinct from pg_temp.wb_norm(c.fields ->> f)
      group by s.key, c.target_id`;
  }
  if (associatedWith !== undefined) {
    // A child whose associations (as read after our last write) do not include its parent's current
    // target id. Other associations of the child are not findings: people and other tools add them,
    // and Writeback only answers for the one it makes.
    await conn`
      with a as (
        select s.key, l.target_id, s.parent_key, s.parent_id, w.parents
        from wb_src s join wb_links l using (key) join wb_assoc w using (key)
        where l.status = 'ok' and not s.behind and s.parent_id is not null
          and (w.loaded_at is null or w.loaded_at >= l.updated_at)
          and not (w.parents ? s.parent_id)
      ), drifted as (
        update wb_drift d set association = true, parent_key = a.parent_key, parent_id = a.parent_id,
          parents = a.parents
        from a where d.key = a.key
        returning d.key
      )
      insert into wb_drift (key, target_id, association, parent_key, parent_id, parents)
      select a.key, a.target_id, true, a.parent_key, a.parent_id, a.parents from a
      where not exists (select 1 from drifted where drifted.key = a.key)`;
  }
  for (const r of await conn<
    {
      key: string;
      target_id: string | null;
      fields: string[];
      association: boolean;
      parent_key: string | null;
      parent_id: string | null;
      parents: string[] | null;
    }[]
  >`select key, target_id, fields, association, parent_key, parent_id, parents from wb_drift order by key, target_id`) {
    const reasons = r.fields.length > 0 ? [`target differs in ${r.fields.join(', ')}`] : [];
    if (r.association) reasons.push(associationReason(associatedWith ?? 'parent', r));
    out.push({
      kind: 'drift',
      key: r.key,
      ...(r.target_id ? { targetId: r.target_id } : {}),
      fields: r.association ? [...r.fields, ASSOCIATION_FIELD] : r.fields,
      reason: reasons.join('; '),
    });
  }
  for (const r of await conn<{ key: string; target_id: string | null }[]>`
    select c.key, c.target_id from wb_copy c
    where c.key is not null and not exists (select 1 from wb_src s where s.key = c.key)
    order by c.key`) {
    out.push({
      kind: 'orphan',
      key: r.key,
      ...(r.target_id ? { targetId: r.target_id } : {}),
      reason: 'target record carries our external id, but its source row is gone',
    });
  }
  for (const r of await conn<{ key: string; target_id: string | null }[]>`
    select l.key, l.target_id from wb_links l
    where l.status = 'ok' and not exists (select 1 from wb_src s where s.key = l.key)
      and not exists (select 1 from wb_copy c where c.key = l.key)
    order by l.key`) {
    out.push({
      kind: 'orphan',
      key: r.key,
      ...(r.target_id ? { targetId: r.target_id } : {}),
      reason: 'link to nothing: neither the source row nor the target record exists',
    });
  }
  return out;
}

/** The drift field of a child not associated with its parent in the target. */
export const ASSOCIATION_FIELD = 'association';

/** Children per association read: a multiple of HubSpot's 1000 per call, bounded in memory. */
const ASSOCIATION_PAGE = 10_000;

/** Where a sync's associations are read from, checked before any work. */
interface AssociationSource {
  /** The parent's object type (`target.associate.with`). */
  readonly with: string;
  /** For the report: the copy's column, or the API. */
  readonly against: string;
  /** The copy's column holding the associated parent's target id; undefined: read through the connector. */
  readonly column?: string;
  readonly connector?: Connector;
}

function associationSource(sync: SyncConfig, deps: VerifyDeps): AssociationSource | undefined {
  const spec = sync.target.associate;
  if (!spec || !sync.parent) return undefined;
  const column = sync.verify?.parentColumn;
  if (column && sync.verify?.table) {
    return { with: spec.with, against: `${sync.verify.table}.${column}`, column };
  }
  const connector = deps.connector;
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
async function loadAssociations(
  conn: ReservedSql,
  sync: SyncConfig,
  src: AssociationSource,
): Promise<number> {
  if (src.column) {
    const table = sync.verify!.table!;
    const [has] = await conn<{ ok: boolean }[]>`
      select exists (
        select 1 from pg_attribute
        where attrelid = to_regclass(${quoteQualified(table)}) and attname = ${src.column} and not attisdropped
      ) as ok`;
    if (!has?.ok) {
      throw new WritebackError(
        'WB_VERIFY_NO_PARENT_COLUMN',
        `sync ${sync.name}: verify.parentColumn ${src.column} is not a column of ${table}: name the column your ELT tool loads each record's associated ${src.with} id into`,
      );
    }
    const ext = quoteIdent(sync.verify!.externalIdColumn ?? sync.target.externalId ?? 'external_id');
    const loaded = sync.verify!.loadedAtColumn ? `t.${quoteIdent(sync.verify!.loadedAtColumn)}` : 'null';
    // sql.unsafe: quoted identifiers from validated config.
    await conn.unsafe(
      `insert into wb_assoc (key, parents, loaded_at)
       select t.${ext}::text, pg_temp.wb_ids(t.${quoteIdent(src.column)}::text), ${loaded}
       from ${quoteQualified(table)} t where t.${ext} is not null
       on conflict (key) do nothing`,
    );
  } else {
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
  await conn`analyze wb_assoc`;
  const [row] = await conn<{ n: number }[]>`
    select count(*)::int as n from wb_src s join wb_links l using (key) join wb_assoc a using (key)
    where l.status = 'ok' and not s.behind and s.parent_id is not null
      and (a.loaded_at is null or a.loaded_at >= l.updated_at)`;
  return row?.n ?? 0;
}

const IDS_SHOWN = 5;

function associationReason(
  withObject: string,
  r: { parent_key: string | null; parent_id: string | null; parents: string[] | null },
): string {
  const others = r.parents ?? [];
  const shown = others.slice(0, IDS_SHOWN).join(', ') + (others.length > IDS_SHOWN ? ', …' : '');
  return (
    `not associated with its parent (${withObject} ${r.parent_id}, source key ${r.parent_key}) in the target: ` +
    (others.length === 0 ? `no ${withObject} associated` : `associated with ${withObject} ${shown} instead`)
  );
}

async function* mapAsync<T, U>(source: AsyncIterable<T>, fn: (t: T) => U): AsyncIterable<U> {
  for await (const item of source) yield fn(item);
}

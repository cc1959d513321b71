import type { ReservedSql } from 'postgres';

/**
 * The session's scratch space for one verification: the links, the mapped source and the target's
 * copy side by side (wb_links, wb_src, wb_copy), associations and drift, and the functions that
 * compare values across type boundaries. Temporary: `discard temp` drops them all.
 */
export async function createTempTables(conn: ReservedSql): Promise<void> {
  await createLinksTempTable(conn);
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

/**
 * wb_links alone: the links of a verification, also on the warehouse writer's connection, where the
 * export (exportSyncLogs) reads them into `writeback.links`.
 */
export async function createLinksTempTable(conn: ReservedSql): Promise<void> {
  await conn`
    create temp table wb_links (
      key text primary key, status text, target_id text, hash text, updated_at timestamptz,
      version numeric, attempts int, last_error jsonb
    )`;
}

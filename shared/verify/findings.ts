import type { ReservedSql } from 'postgres';
import type { Finding } from './VerifyReport.ts';

/** The drift field of a child not associated with its parent in the target. */
export const ASSOCIATION_FIELD = 'association';

/** Ids of other associated records named in a finding's reason. */
const IDS_SHOWN = 5;

/**
 * Every finding of a verification, from the temporary tables (createTempTables) in SQL: dead and
 * backlog, missing, drift, orphans, each kind in key order.
 */
export async function findings(
  conn: ReservedSql,
  fields: readonly string[],
  associatedWith: string | undefined,
): Promise<Finding[]> {
  return [
    ...(await deadAndBacklog(conn)),
    ...(await missing(conn)),
    ...(await drift(conn, fields, associatedWith)),
    ...(await orphans(conn)),
  ];
}

/** Links that are not ok: dead/failed are findings; pending/retrying and rows after the bookmark are backlog. */
async function deadAndBacklog(conn: ReservedSql): Promise<Finding[]> {
  const out: Finding[] = [];
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
  return out;
}

/** Source rows never written, and linked records the target's copy does not have. */
async function missing(conn: ReservedSql): Promise<Finding[]> {
  const out: Finding[] = [];
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
  return out;
}

/** Records whose fields differ from the source, or children not associated with their parent. */
async function drift(
  conn: ReservedSql,
  fields: readonly string[],
  associatedWith: string | undefined,
): Promise<Finding[]> {
  if (fields.length > 0) await markFieldDrift(conn, fields);
  if (associatedWith !== undefined) await markAssociationDrift(conn);
  const out: Finding[] = [];
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
  return out;
}

/** Into wb_drift: each written record with the compared fields whose values differ (a copy loaded before our write is not evidence). */
async function markFieldDrift(conn: ReservedSql, fields: readonly string[]): Promise<void> {
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

/**
 * Into wb_drift: a child whose associations (as read after our last write) do not include its
 * parent's current target id. Other associations of the child are not findings: people and other
 * tools add them, and Writeback only answers for the one it makes.
 */
async function markAssociationDrift(conn: ReservedSql): Promise<void> {
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

/** Target records whose source row is gone, and links to nothing at all. */
async function orphans(conn: ReservedSql): Promise<Finding[]> {
  const out: Finding[] = [];
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

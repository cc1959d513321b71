import type { Sql } from 'postgres';
import type { HubSpotFake } from '../fakes/hubspot/HubSpotFake.ts';
import { quoteIdent } from '../source/sqlText.ts';

/**
 * Stands in for the ELT tool that loads each target app back into the warehouse: a full refresh
 * of `hubspot.<object>` from the HubSpot fake (one text column per property, as ELT connectors
 * flatten them, plus `id` and `_loaded_at`), and of a Postgres target table into `<schema>.<table>`.
 */
export async function loadHubSpotCopy(dwh: Sql, fake: HubSpotFake, object: string): Promise<number> {
  const records = fake.records(object);
  const props = [...new Set(records.flatMap((r) => Object.keys(r.properties)))].sort();
  await dwh`create schema if not exists hubspot`;
  await dwh.begin(async (tx) => {
    await tx.unsafe(`drop table if exists hubspot.${quoteIdent(object)}`);
    // sql.unsafe: property names come from the fake's own records, quoted.
    await tx.unsafe(
      `create table hubspot.${quoteIdent(object)} (id text primary key, ${props.map((p) => `${quoteIdent(p)} text`).join(', ')}${props.length ? ', ' : ''}_loaded_at timestamptz not null default now())`,
    );
    for (let i = 0; i < records.length; i += 1000) {
      const rows = records
        .slice(i, i + 1000)
        .map((r) => ({ id: r.id, ...Object.fromEntries(props.map((p) => [p, r.properties[p] ?? null])) }));
      await tx`insert into ${tx(`hubspot.${object}`)} ${tx(rows as never, ['id', ...props] as never)}`;
    }
  });
  return records.length;
}

/** Copies a Postgres target table (another database) into the warehouse as `<copyTable>`. */
export async function loadTableCopy(
  dwh: Sql,
  target: Sql,
  table: string,
  copyTable: string,
): Promise<number> {
  const rows = await target.unsafe(`select * from ${table}`);
  const cols = rows.columns.map((c) => c.name);
  const types = await target<{ name: string; type: string }[]>`
    select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
    from pg_attribute a where a.attrelid = ${table}::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum`;
  const [schema] = copyTable.split('.');
  await dwh.begin(async (tx) => {
    if (copyTable.includes('.')) await tx.unsafe(`create schema if not exists ${quoteIdent(schema!)}`);
    await tx.unsafe(`drop table if exists ${copyTable}`);
    await tx.unsafe(
      `create table ${copyTable} (${types.map((t) => `${quoteIdent(t.name)} ${t.type}`).join(', ')}, _loaded_at timestamptz not null default now())`,
    );
    for (let i = 0; i < rows.length; i += 1000) {
      await tx`insert into ${tx(copyTable)} ${tx(rows.slice(i, i + 1000) as never, ...cols)}`;
    }
  });
  return rows.length;
}

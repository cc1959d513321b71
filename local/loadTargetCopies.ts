import type { Sql } from 'postgres';
import type { ConnectionConfig, SyncConfig, WritebackConfig } from '../shared/config/schema.ts';
import type { ConnectionCredentials } from '../shared/connectors/ConnectionCredentials.ts';
import { createConnector } from '../shared/connectors/createConnector.ts';
import { HubSpotConnector } from '../shared/connectors/hubspot/HubSpotConnector.ts';
import { UsageError } from '../shared/ops/errors.ts';
import type { CopyLoader, LoadedCopy } from '../shared/ops/verify.ts';
import { quoteIdent, quoteQualified } from '../shared/source/sqlText.ts';
import { chunks } from '../shared/util/chunks.ts';
import type { HubSpotFake } from './fakes/hubspot/HubSpotFake.ts';
import { localConnector } from './fakes/localConnectors.ts';
import { loadListedCopy } from './loadListedCopy.ts';

/** A HubSpot record as the list API (or the fake's store) has it: its id and its properties. */
export interface HubSpotCopyRecord {
  readonly id: string;
  readonly properties: Readonly<Record<string, string | null | undefined>>;
}

type Records = Iterable<HubSpotCopyRecord> | AsyncIterable<HubSpotCopyRecord>;

/** Each record's associated ids (of one other object), by record id. */
export type ReadAssociatedIds = (ids: readonly string[]) => Promise<Map<string, string[]>>;

/** A column of the copy holding each record's associated ids, as ELT tools load associations. */
export interface AssociationsColumn {
  readonly column: string;
  readonly read: ReadAssociatedIds;
}

/**
 * Stands in for the ELT tool that loads each target app back into the warehouse: a full refresh
 * of `hubspot.<object>` (or `copyTable`) from the HubSpot fake's store or from records listed over
 * its API (one text column per property, as ELT connectors flatten them, plus `id` and
 * `_loaded_at`), and of a Postgres target table into `<schema>.<table>`. `_loaded_at` is the time
 * the read of the target began: a record written after it is not in the copy, and verify does not
 * take its absence (or an older value) as evidence.
 */
export async function loadHubSpotCopy(
  dwh: Sql,
  source: HubSpotFake | Records,
  object: string,
  copyTable = `hubspot.${object}`,
  associations?: AssociationsColumn,
): Promise<number> {
  const loadedAt = new Date();
  const listed: HubSpotCopyRecord[] = [];
  if ('records' in source && typeof source.records === 'function') listed.push(...source.records(object));
  else for await (const r of source as Records) listed.push(r);
  // The associated ids as one JSON array per record (null without any), as ELT tools flatten them.
  const associated = associations ? await associations.read(listed.map((r) => r.id)) : undefined;
  const records = associated
    ? listed.map((r) => {
        const ids = associated.get(r.id) ?? [];
        return {
          id: r.id,
          properties: { ...r.properties, [associations!.column]: ids.length ? JSON.stringify(ids) : null },
        };
      })
    : listed;
  const props = [...new Set(records.flatMap((r) => Object.keys(r.properties)))]
    .filter((p) => p !== 'id')
    .sort();
  if (associations && !props.includes(associations.column)) props.push(associations.column);
  const table = quoteQualified(copyTable);
  await dwh.begin(async (tx) => {
    if (copyTable.includes('.'))
      await tx.unsafe(`create schema if not exists ${quoteIdent(copyTable.split('.')[0]!)}`);
    await tx.unsafe(`drop table if exists ${table}`);
    // sql.unsafe: property names come from the target's own records, quoted.
    await tx.unsafe(
      `create table ${table} (id text primary key, ${props.map((p) => `${quoteIdent(p)} text`).join(', ')}${props.length ? ', ' : ''}_loaded_at timestamptz not null)`,
    );
    for (const batch of chunks(records, 1000)) {
      const rows = batch.map((r) => ({
        id: r.id,
        ...Object.fromEntries(props.map((p) => [p, r.properties[p] ?? null])),
        _loaded_at: loadedAt,
      }));
      await tx`insert into ${tx(copyTable)} ${tx(rows as never, ['id', ...props, '_loaded_at'] as never)}`;
    }
  });
  return records.length;
}

/**
 * Every record of a HubSpot object with every property, over the API, as an ELT tool reads it:
 * the property definitions first (`GET /crm/v3/properties/{object}`), then the object's pages.
 * Paced below the account's limits, which it shares with the writers.
 */
export async function* listHubSpotRecords(
  opts: { readonly baseUrl: string; readonly token: string },
  object: string,
): AsyncIterable<HubSpotCopyRecord> {
  const res = await fetch(`${opts.baseUrl}/crm/v3/properties/${encodeURIComponent(object)}`, {
    headers: { Authorization: `Bearer ${opts.token}` },
  });
  if (!res.ok) throw new Error(`HubSpot GET /crm/v3/properties/${object}: ${res.status}`);
  const defs = (await res.json()) as { results?: { name?: string }[] };
  const names = (defs.results ?? []).map((d) => d.name).filter((n): n is string => typeof n === 'string');
  const connector = eltConnector(opts, names);
  try {
    for await (const r of connector.list(object)) {
      yield { id: r.targetId, properties: r.fields as Record<string, string | null> };
    }
  } finally {
    await connector.close();
  }
}

/**
 * The ELT stand-in's HubSpot client: four fifths of the account's burst limit, so the writers keep
 * a share; a 429 (the writers, or a person, spent it) is waited out and the call made again.
 */
function eltConnector(
  opts: { readonly baseUrl: string; readonly token: string },
  readProperties?: string[],
): HubSpotConnector {
  return new HubSpotConnector({
    token: opts.token,
    baseUrl: opts.baseUrl,
    ...(readProperties ? { readProperties } : {}),
    rateLimit: { windows: [{ name: 'ten-secondly', limit: 80, intervalMs: 10_000 }] },
    limiterKey: 'hubspot-elt-stand-in',
    retry: { maxRetries: 10, maxInlineWaitMs: 15_000 },
  });
}

/** Associated ids from the HubSpot fake's own store (the fake runs in this process). */
export function fakeAssociatedIds(
  fake: HubSpotFake,
  fromObject: string,
  toObject: string,
): ReadAssociatedIds {
  return async (ids) =>
    new Map(ids.map((id) => [id, fake.associations(fromObject, id, toObject).map((a) => a.toId)]));
}

/** Associated ids over the API, as an ELT tool reads them: the v4 batch read, 1000 records a call. */
export function apiAssociatedIds(
  opts: { readonly baseUrl: string; readonly token: string },
  fromObject: string,
  toObject: string,
): ReadAssociatedIds {
  return async (ids) => {
    const connector = eltConnector(opts);
    try {
      const read = await connector.readAssociations(fromObject, ids, toObject);
      return new Map([...read].map(([id, list]) => [id, list.map((a) => a.toId)]));
    } finally {
      await connector.close();
    }
  };
}

/** Copies a Postgres target table (another database) into the warehouse as `<copyTable>`. */
export async function loadTableCopy(
  dwh: Sql,
  target: Sql,
  table: string,
  copyTable: string,
): Promise<number> {
  const loadedAt = new Date();
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
      `create table ${copyTable} (${types.map((t) => `${quoteIdent(t.name)} ${t.type}`).join(', ')}, _loaded_at timestamptz not null)`,
    );
    for (const batch of chunks(rows, 1000)) {
      const chunk = batch.map((r) => ({ ...r, _loaded_at: loadedAt }));
      await tx`insert into ${tx(copyTable)} ${tx(chunk as never, ...cols, '_loaded_at')}`;
    }
  });
  return rows.length;
}

/** Where the local stand-in for the ELT tool reads each kind of target from. */
export interface CopySources {
  /** A HubSpot object's records: the fake's own store (in its process), or its API listed. */
  readonly hubspot?: (object: string) => HubSpotFake | Records;
  /** The ids of `toObject` each record of `fromObject` is associated with (for `verify.parentColumn`). */
  readonly hubspotAssociations?: (fromObject: string, toObject: string) => ReadAssociatedIds;
  /**
   * What a connection is given locally (the local stack's credentials): a target without a loader
   * of its own is then listed through its connector (loadListedCopy).
   */
  readonly credentials?: (connectionName: string) => ConnectionCredentials;
  /** The database URL of a Postgres target connection (asked only of Postgres connections). */
  readonly postgresUrl?: (connection: ConnectionConfig) => string | undefined;
  /** Loads both apps of the two-way pair (their copies are the directions' sources); records loaded. */
  readonly pairCopies?: () => Promise<number>;
}

/** What was loaded for one sync's `verify.table`, or why nothing was. */
export type { LoadedCopy };

/**
 * Refreshes the warehouse copies (`verify.table`) of these syncs' targets from the local fakes
 * and databases, as the ELT tool does on a schedule in production. A table shared by several
 * syncs is loaded once; targets without a local loader are reported as skipped.
 */
export async function loadTargetCopies(
  dwh: Sql,
  config: WritebackConfig,
  syncs: readonly SyncConfig[],
  sources: CopySources,
): Promise<LoadedCopy[]> {
  const out: LoadedCopy[] = [];
  const done = new Map<string, LoadedCopy>();
  for (const sync of syncs) {
    const table = sync.verify?.table;
    if (!table) continue;
    // A two-way pair's copies are the two directions' sources: the pair's own ELT loads them both.
    if (sync.pair) {
      if (!done.has(table)) {
        const records = sources.pairCopies ? await sources.pairCopies() : undefined;
        for (const t of [sync.pair.source.table, sync.pair.target.table]) {
          done.set(t, {
            sync: sync.name,
            table: t,
            ...(records === undefined
              ? { from: 'a two-way pair: no local loader given, left as it is', skipped: true }
              : { records, from: 'the two-way pair ELT stand-in' }),
          });
        }
      }
      out.push({ ...done.get(table)!, sync: sync.name });
      continue;
    }
    const seen = done.get(table);
    if (seen) {
      out.push({ ...seen, sync: sync.name });
      continue;
    }
    const connection = config.connections[sync.target.connection]!;
    const own = localConnector(connection.type)?.readBack;
    const read = own
      ? await own({ dwh, sync, connection, table, sources })
      : sources.credentials
        ? await listedCopy(dwh, sync, connection, table, sources.credentials(sync.target.connection))
        : undefined;
    const loaded: LoadedCopy = read
      ? { sync: sync.name, table, ...read }
      : {
          sync: sync.name,
          table,
          from: `no local loader for ${connection.type} targets: left as it is`,
          skipped: true,
        };
    done.set(table, loaded);
    out.push(loaded);
  }
  return out;
}

/** A target's copy listed through its connector, for a type without a loader of its own. */
async function listedCopy(
  dwh: Sql,
  sync: SyncConfig,
  connection: ConnectionConfig,
  table: string,
  creds: ConnectionCredentials,
): Promise<{ records: number; from: string }> {
  const connector = createConnector(sync, connection, creds);
  try {
    const records = await loadListedCopy(dwh, connector, sync.target.object, table);
    return { records, from: `${connection.type} ${sync.target.object} (listed)` };
  } finally {
    await connector.close();
  }
}

/**
 * `writeback verify --load-copies` against the local stack: the copies come from the local fakes
 * (HubSpot over its API, Postgres targets from their database).
 */
export const loadLocalCopies: CopyLoader = async (ctx, dwh, syncs) => {
  const local = ctx.localStack;
  if (!local) throw new UsageError('--load-copies needs the local stack (`npm start`)');
  return loadTargetCopies(dwh, ctx.config, syncs, {
    hubspot: (object) =>
      listHubSpotRecords({ baseUrl: local.hubspotUrl, token: local.hubspotToken ?? '' }, object),
    hubspotAssociations: (from, to) =>
      apiAssociatedIds({ baseUrl: local.hubspotUrl, token: local.hubspotToken ?? '' }, from, to),
    postgresUrl: (connection) => (typeof connection.url === 'string' ? connection.url : local.billingUrl),
    ...(local.connections ? { credentials: (name: string) => local.connections?.[name] ?? {} } : {}),
  });
};

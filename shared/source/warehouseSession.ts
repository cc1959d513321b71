import type { Options, PostgresType } from 'postgres';
import { parseJsonExact } from '../util/parseJsonExact.ts';

/**
 * The session settings every warehouse connection starts with. Startup parameters win over the
 * role's and the database's defaults (`ALTER ROLE … SET`), so a DBA's change to DateStyle, the time
 * zone or the search path cannot change how a cursor value is printed, parsed or compared, nor
 * which table an unqualified name reads: bookmarks are kept as Postgres text and must mean the
 * same on every connection.
 */
export const WAREHOUSE_SESSION = {
  DateStyle: 'ISO, YMD',
  IntervalStyle: 'postgres',
  TimeZone: 'UTC',
  // Exact float4/float8 text: shortest round-trip form since Postgres 12, 17 digits before.
  extra_float_digits: '3',
  search_path: '"$user", public',
} as const;

/**
 * json and jsonb parsed without losing digits: a number beyond double precision stays exact (see
 * parseJsonExact) instead of being rounded by JSON.parse.
 */
const exactJson = {
  to: 3802,
  from: [114, 3802],
  // Parse only: with a serializer, postgres.js would also JSON-encode text bound to a json parameter.
  serialize: undefined,
  parse: (x: string) => parseJsonExact(x),
} as unknown as PostgresType;

/**
 * A warehouse pool's options: the caller's, with the pinned session (the caller's own session
 * parameters, such as statement_timeout, added) and exact JSON.
 */
export function warehouseOptions(
  own: Options<Record<string, PostgresType>> = {},
): Options<Record<string, PostgresType>> {
  return {
    ...own,
    types: { ...own.types, exactJson },
    connection: { ...WAREHOUSE_SESSION, ...own.connection },
  };
}

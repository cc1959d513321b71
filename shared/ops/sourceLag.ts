import type { Sql } from 'postgres';
import type { SyncConfig } from '../config/schema.ts';
import type { Position } from '../source/Position.ts';
import { SourceReader } from '../source/SourceReader.ts';
import { quoteIdent, quoteQualified } from '../source/sqlText.ts';

/** How far a sync's bookmark is behind its source. */
export interface SourceLag {
  /** Rows after the bookmark (not yet handed to the queue), counted up to `cap`. */
  readonly rowsBehind: number;
  /** True when there are more than `cap`. */
  readonly capped: boolean;
  /** Newest cursor value in the source, as Postgres text. */
  readonly newestCursor: string | undefined;
  /** Newest source cursor minus the bookmark's cursor, for time cursors with a bookmark; 0 when caught up. */
  readonly lagSeconds: number | undefined;
}

const TIME_TYPES = new Set(['timestamp with time zone', 'timestamp without time zone', 'date']);

/**
 * Measures the backlog with two index range scans on `(cursor, key)`: a count capped at `cap`
 * (a caught-up sync costs one index probe) and the newest cursor value.
 */
export async function sourceLag(
  sql: Sql,
  sync: SyncConfig,
  bookmark: Position | undefined,
  cap = 100_000,
): Promise<SourceLag> {
  const types = await new SourceReader(sql, sync.name, sync.source).columnTypes();
  const relation = sync.source.table ? quoteQualified(sync.source.table) : `(${sync.source.query})`;
  const c = `src.${quoteIdent(sync.source.cursor)}`;
  const keys = sync.source.key.map((k) => `src.${quoteIdent(k)}`);
  const params: (string | number)[] = [];
  const param = (value: string | number, type: string): string => {
    params.push(value);
    return `$${params.length}::text::${type}`;
  };
  const where = [`${c} is not null`];
  if (sync.source.where) where.push(`(${sync.source.where})`);
  const isTime = TIME_TYPES.has(types.cursor);
  const bookmarkCursor = bookmark ? param(bookmark.cursor, types.cursor) : undefined;
  if (bookmark) {
    const tuple = [bookmarkCursor!, ...bookmark.key.map((k, i) => param(k, types.key[i]!))].join(', ');
    where.push(`(${[c, ...keys].join(', ')}) > (${tuple})`);
  }
  const limit = param(cap + 1, 'int');
  const lagExpr =
    isTime && bookmarkCursor
      ? `extract(epoch from max(${c})::timestamptz - ${bookmarkCursor}::timestamptz)::float8`
      : 'null::float8';
  // sql.unsafe: quoted identifiers and the user's own SQL (query, where); values are parameters.
  const [count] = (await sql.unsafe(
    `select count(*)::int as n from (select 1 from ${relation} src where ${where.join(' and ')} limit ${limit}) x`,
    params,
  )) as { n: number }[];
  const [newest] = (await sql.unsafe(
    `select max(${c})::text as newest, ${lagExpr} as lag from ${relation} src where ${c} is not null${sync.source.where ? ` and (${sync.source.where})` : ''}`,
    bookmarkCursor ? [bookmark!.cursor] : [],
  )) as { newest: string | null; lag: number | null }[];
  const rows = count?.n ?? 0;
  return {
    rowsBehind: Math.min(rows, cap),
    capped: rows > cap,
    newestCursor: newest?.newest ?? undefined,
    lagSeconds: isTime && bookmark ? (rows === 0 ? 0 : Math.max(0, newest?.lag ?? 0)) : undefined,
  };
}

import type { Sql } from 'postgres';
import type { Row, SourceConfig } from '../config/schema.ts';
import { SourceError } from '../errors.ts';
import { encodeSourceKey } from '../util/sourceKey.ts';
import type { Position } from './Position.ts';
import { quoteIdent, quoteQualified } from './sqlText.ts';

/** A source row with its place in the keyset order. */
export interface SourceRow {
  /** The row as the user's map() sees it (no internal columns). */
  readonly row: Row;
  /** Encoded source key (see encodeSourceKey). */
  readonly key: string;
  readonly position: Position;
  /** Monotonic version of the row: the cursor as an integer (microseconds for time types). */
  readonly version: string;
  /** False while re-reading the lookback window behind the stored bookmark. */
  readonly pastBookmark: boolean;
}

/** Where a page starts: strictly after a position, or at a cursor value (inclusive, for lookback). */
export type PageStart =
  | { readonly after: Position }
  | { readonly fromCursor: string; readonly minusSeconds: number }
  | undefined;

/** A soft-delete column says deleted when it is set: a timestamp, true, any value but null and false. */
function markedDeleted(column: string): string {
  return `coalesce(${column}::text, 'false') not in ('false', 'f')`;
}

/** The same rule on a value read into JavaScript. */
export function isMarkedDeleted(value: unknown): boolean {
  return value !== null && value !== undefined && value !== false && value !== 'false' && value !== 'f';
}

/** Whether a sync with a soft-delete column (`deletes.column`) sees this row as deleted. */
export function isRowMarkedDeleted(
  deletes: { readonly column?: string | undefined } | undefined,
  row: Row,
): boolean {
  return deletes?.column !== undefined && isMarkedDeleted(row[deletes.column]);
}

/** Parameter values of one statement. */
type Params = (string | number)[];

/**
 * Binds a value as text, cast in SQL: postgres.js would otherwise serialise a timestamptz
 * parameter through a JS Date and drop its microseconds, and the bookmark would repeat or skip rows.
 */
function bind(params: Params, value: string | number, type: string): string {
  params.push(value);
  return `$${params.length}::text::${type}`;
}

interface Shape {
  readonly types: ColumnTypes;
  readonly c: string;
  readonly keys: readonly string[];
  readonly rowTuple: string;
  readonly isTime: boolean;
}

const TIME_TYPES = new Set(['timestamp with time zone', 'timestamp without time zone', 'date']);
const INTEGER_TYPES = new Set(['smallint', 'integer', 'bigint']);

interface ColumnTypes {
  readonly cursor: string;
  readonly key: readonly string[];
}

/**
 * Reads a table or query in keyset pages ordered by `(cursor, key)`. Each page is one index
 * range scan with a LIMIT, so memory is bounded by the page size and no transaction stays open
 * between pages.
 */
export class SourceReader {
  private readonly sql: Sql;
  private readonly source: SourceConfig;
  private readonly syncName: string;
  private types: ColumnTypes | undefined;

  public constructor(sql: Sql, syncName: string, source: SourceConfig) {
    this.sql = sql;
    this.source = source;
    this.syncName = syncName;
  }

  /** The relation to select from: a table, or the user's query as a subquery. */
  private relation(): string {
    return this.source.table ? quoteQualified(this.source.table) : `(${this.source.query})`;
  }

  /** Looks up the column types once; they decide casts, versions and which options apply. */
  public async columnTypes(): Promise<ColumnTypes> {
    if (this.types) return this.types;
    const cols = [this.source.cursor, ...this.source.key];
    let described: { columns: { name: string; type: number }[] };
    try {
      // sql.unsafe: identifiers come from validated config; the relation may be the user's own query.
      described = await this.sql
        .unsafe(
          `select ${cols.map((c) => `src.${quoteIdent(c)}`).join(', ')} from ${this.relation()} src limit 0`,
        )
        .describe();
    } catch (err) {
      throw new SourceError(
        'WB_SOURCE_UNREADABLE',
        `sync ${this.syncName}: cannot read source ${this.source.table ?? 'query'}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const oids = described.columns.map((c) => c.type);
    const names = await this.sql<{ name: string }[]>`
      select format_type(t.oid, null) as name
      from unnest(${oids}::oid[]) with ordinality as u(oid, ord)
      join pg_type t on t.oid = u.oid
      order by u.ord
    `;
    const [cursorType, ...keyTypes] = names.map((n) => n.name);
    if (!cursorType || (!TIME_TYPES.has(cursorType) && !INTEGER_TYPES.has(cursorType))) {
      throw new SourceError(
        'WB_SOURCE_CURSOR_TYPE',
        `sync ${this.syncName}: cursor column ${this.source.cursor} has type ${cursorType}; use a timestamp, timestamptz, date or integer column`,
      );
    }
    if (!TIME_TYPES.has(cursorType) && (this.source.lookback > 0 || this.source.settle > 0)) {
      throw new SourceError(
        'WB_SOURCE_CURSOR_TYPE',
        `sync ${this.syncName}: lookback and settle are durations and need a time cursor; ${this.source.cursor} is ${cursorType}`,
      );
    }
    this.types = { cursor: cursorType, key: keyTypes };
    return this.types;
  }

  /**
   * Checks, once per run, what would make incremental reads wrong or slow, with an error that
   * says how to fix it: a table without an index leading with the cursor column (every run would
   * scan the table), and rows whose cursor is NULL (they would never be read).
   */
  public async preflight(): Promise<void> {
    await this.columnTypes();
    const c = quoteIdent(this.source.cursor);
    if (this.source.table) {
      const [indexed] = await this.sql<{ ok: boolean }[]>`
        select exists (
          select 1
          from pg_index i
          join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
          where i.indrelid = ${quoteQualified(this.source.table)}::regclass and a.attname = ${this.source.cursor}
        ) as ok`;
      if (!indexed?.ok) {
        const cols = [this.source.cursor, ...this.source.key].map(quoteIdent).join(', ');
        throw new SourceError(
          'WB_SOURCE_NO_CURSOR_INDEX',
          `sync ${this.syncName}: ${this.source.table} has no index on its cursor column ${this.source.cursor}; ` +
            `every run would scan the whole table. Create one: create index concurrently on ${quoteQualified(this.source.table)} (${cols});`,
        );
      }
    }
    // sql.unsafe: quoted identifier and the configured relation; no values.
    const nulls = await this.sql.unsafe(
      `select 1 from ${this.relation()} src where src.${c} is null limit 1`,
    );
    if (nulls.length > 0) {
      throw new SourceError(
        'WB_SOURCE_CURSOR_NULL',
        `sync ${this.syncName}: some rows have NULL in the cursor column ${this.source.cursor} and would never be synced; ` +
          `fill them (and add NOT NULL), or read through a query that uses coalesce(${this.source.cursor}, <load time>)`,
      );
    }
  }

  /** The expressions every statement of this reader shares. */
  private async shape(): Promise<Shape> {
    const types = await this.columnTypes();
    const c = `src.${quoteIdent(this.source.cursor)}`;
    const keys = this.source.key.map((k) => `src.${quoteIdent(k)}`);
    return {
      types,
      c,
      keys,
      rowTuple: `(${[c, ...keys].join(', ')})`,
      isTime: TIME_TYPES.has(types.cursor),
    };
  }

  /** `(cursor, key) > position`, with the position's values as parameters. */
  private after(shape: Shape, params: Params, p: Position): string {
    const values = [
      bind(params, p.cursor, shape.types.cursor),
      ...p.key.map((k, i) => bind(params, k, shape.types.key[i]!)),
    ];
    return `${shape.rowTuple} > (${values.join(', ')})`;
  }

  /** The internal columns a SourceRow is built from: cursor, version, key parts, past the bookmark. */
  private internalColumns(shape: Shape, params: Params, bookmark: Position | undefined): string[] {
    const { c, keys, isTime } = shape;
    const version = isTime ? `(extract(epoch from ${c}) * 1000000)::bigint::text` : `${c}::text`;
    return [
      `${c}::text as "_wb_cursor"`,
      `${version} as "_wb_version"`,
      ...keys.map((k, i) => `${k}::text as "_wb_k${i}"`),
      `${bookmark ? this.after(shape, params, bookmark) : 'true'} as "_wb_past"`,
    ];
  }

  /** The sync's own filter, ANDed in. */
  private userFilter(): string {
    return this.source.where ? ` and (${this.source.where})` : '';
  }

  /**
   * Reads up to `limit` rows after `start`, in `(cursor, key)` order; with `markedDeletedIn`, only
   * the rows that column marks deleted.
   */
  public async readPage(
    start: PageStart,
    limit: number,
    bookmark: Position | undefined,
    markedDeletedIn?: string,
  ): Promise<SourceRow[]> {
    const shape = await this.shape();
    const { c, keys, types } = shape;
    const params: Params = [];
    const select = ['src.*', ...this.internalColumns(shape, params, bookmark)];
    const where = [`${c} is not null`];
    if (markedDeletedIn) where.push(markedDeleted(`src.${quoteIdent(markedDeletedIn)}`));
    if (start && 'after' in start) where.push(this.after(shape, params, start.after));
    if (start && 'fromCursor' in start) {
      where.push(
        `${c} >= ${bind(params, start.fromCursor, types.cursor)} - make_interval(secs => ${bind(params, start.minusSeconds, 'float8')})`,
      );
    }
    if (shape.isTime && this.source.settle > 0) {
      where.push(`${c} < now() - make_interval(secs => ${bind(params, this.source.settle, 'float8')})`);
    }
    const text = `select ${select.join(', ')} from ${this.relation()} src where ${where.join(' and ')}${this.userFilter()} order by ${[c, ...keys].join(', ')} limit ${bind(params, limit, 'int')}`;
    // sql.unsafe: the statement is assembled from quoted identifiers and the user's own SQL; values are parameters.
    const rows = (await this.sql.unsafe(text, params)) as Row[];
    return rows.map((r) => this.toSourceRow(r));
  }

  /**
   * How many rows after the bookmark are marked deleted in `column` (not null, not false): what a
   * run would act on, counted before it acts (the deletes guard).
   */
  public async countMarkedDeleted(column: string, bookmark: Position | undefined): Promise<number> {
    const shape = await this.shape();
    const params: Params = [];
    const after = bookmark ? this.after(shape, params, bookmark) : 'true';
    // sql.unsafe: quoted identifiers from config; the bookmark values are parameters.
    const [row] = (await this.sql.unsafe(
      `select count(*)::int as n from ${this.relation()} src
       where ${markedDeleted(`src.${quoteIdent(column)}`)} and ${after}${this.userFilter()}`,
      params,
    )) as Row[];
    return Number(row?.n ?? 0);
  }

  /** How many rows come after a position (all of them without one): a stream's backlog. */
  public async countAfter(position: Position | undefined): Promise<number> {
    const shape = await this.shape();
    const params: Params = [];
    const after = position ? this.after(shape, params, position) : 'true';
    // sql.unsafe: quoted identifiers from config and the configured relation; values are parameters.
    const [row] = (await this.sql.unsafe(
      `select count(*)::int as n from ${this.relation()} src where ${shape.c} is not null and ${after}${this.userFilter()}`,
      params,
    )) as Row[];
    return Number(row?.n ?? 0);
  }

  /**
   * Reads the rows with these encoded keys, whatever their cursor (a changed child re-sends its
   * parent). Keys that no longer exist, or that the sync's `where` leaves out, are absent.
   */
  public async readByKeys(keys: readonly string[], bookmark: Position | undefined): Promise<SourceRow[]> {
    if (keys.length === 0) return [];
    const shape = await this.shape();
    const params: Params = [];
    const tuples = keys.map((k) => {
      const parts = this.source.key.length === 1 ? [k] : (JSON.parse(k) as string[]);
      return `(${parts.map((v, i) => bind(params, v, shape.types.key[i]!)).join(', ')})`;
    });
    const select = ['src.*', ...this.internalColumns(shape, params, bookmark)];
    // sql.unsafe: quoted identifiers from config; key values are parameters.
    const rows = (await this.sql.unsafe(
      `select ${select.join(', ')} from ${this.relation()} src
       where (${shape.keys.join(', ')}) in (${tuples.join(', ')})${this.userFilter()}`,
      params,
    )) as Row[];
    return rows.map((r) => this.toSourceRow(r));
  }

  private toSourceRow(raw: Row): SourceRow {
    const row: Row = {};
    const key: string[] = [];
    for (const [name, value] of Object.entries(raw)) {
      if (name.startsWith('_wb_')) continue;
      row[name] = value;
    }
    for (let i = 0; i < this.source.key.length; i++) key.push(raw[`_wb_k${i}`] as string);
    return {
      row,
      key: encodeSourceKey(key),
      position: { cursor: raw._wb_cursor as string, key },
      version: raw._wb_version as string,
      pastBookmark: raw._wb_past as boolean,
    };
  }
}

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
export type PageStart = { readonly after: Position } | { readonly fromCursor: string } | undefined;

/** Rows a run cannot read as they are, by reason: counted (at most SET_ASIDE_CAP) with a few sample keys. */
export interface SetAsideRows {
  /** WB_SOURCE_CURSOR_NULL, WB_SOURCE_KEY_NULL, WB_SOURCE_CURSOR_FUTURE, or a message SQS refused (WB_MESSAGE_*). */
  readonly code: string;
  readonly count: number;
  readonly samples: readonly string[];
  readonly message: string;
}
type SourceSetAsideCode = 'WB_SOURCE_CURSOR_NULL' | 'WB_SOURCE_KEY_NULL' | 'WB_SOURCE_CURSOR_FUTURE';
/** Set-aside rows are counted up to this many (an index probe, not a scan of the table). */
export const SET_ASIDE_CAP = 10_000;
/** A cursor this far ahead of the clock is not clock skew: it is set aside, not waited for. */
const FUTURE_TOLERANCE = '1 day';

export interface SourceReaderOptions {
  /**
   * The warehouse's clock as timestamptz text. Default: the server's now(). Injected by tests that
   * stamp rows with a simulated clock.
   */
  readonly clock?: () => string;
}

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
  /** The table declares the cursor column NOT NULL (false for a query: an outer join can null it). */
  readonly cursorNotNull: boolean;
  /** The table declares every key column NOT NULL (false for a query). */
  readonly keyNotNull: boolean;
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
  private readonly clock: (() => string) | undefined;
  private types: ColumnTypes | undefined;

  public constructor(sql: Sql, syncName: string, source: SourceConfig, opts: SourceReaderOptions = {}) {
    this.sql = sql;
    this.source = source;
    this.syncName = syncName;
    this.clock = opts.clock;
  }

  /** The relation to select from: a table, or the user's query as a subquery. */
  private relation(): string {
    return this.source.table ? quoteQualified(this.source.table) : `(${this.source.query})`;
  }

  /** Looks up the column types once; they decide casts, versions and which options apply. */
  public async columnTypes(): Promise<ColumnTypes> {
    if (this.types) return this.types;
    const cols = [this.source.cursor, ...this.source.key];
    let described: { columns: { name: string; type: number; table: number; number: number }[] };
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
    const cs = described.columns;
    const names = await this.sql<{ name: string; notNull: boolean }[]>`
      select format_type(t.oid, null) as name, coalesce(a.attnotnull, false) as "notNull"
      from unnest(${cs.map((c) => c.type)}::oid[], ${cs.map((c) => c.table)}::oid[], ${cs.map((c) => c.number)}::int2[])
        with ordinality as u(oid, tbl, num, ord)
      join pg_type t on t.oid = u.oid
      left join pg_attribute a on a.attrelid = u.tbl and a.attnum = u.num
      order by u.ord
    `;
    const [cursorType, ...keyTypes] = names.map((n) => n.name);
    // Only a table's own declaration is trusted: a query's column can be nulled by an outer join.
    const declared = (n: { notNull: boolean } | undefined) =>
      this.source.table !== undefined && n?.notNull === true;
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
    this.types = {
      cursor: cursorType,
      key: keyTypes,
      cursorNotNull: declared(names[0]),
      keyNotNull: names.slice(1).every(declared),
    };
    return this.types;
  }

  /**
   * Checks, once per run, what would make incremental reads wrong or slow, with an error that
   * says how to fix it: a table without an index leading with the cursor column (every run would
   * scan the table), and rows whose cursor is NULL (they would never be read).
   */
  public async preflight(): Promise<void> {
    await this.columnTypes();
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
  }

  /**
   * The rows no page will ever return, by reason, so that a run can say so instead of passing over
   * them: a NULL cursor or a NULL key part (no place in the keyset order, no identity in the
   * target), or a cursor more than a day ahead of the clock (`infinity`, a typo'd year), which
   * the upper bound holds back. Each class is an index probe capped at SET_ASIDE_CAP rows; rows
   * the sync's `where` excludes are not counted. A class the table's NOT NULL constraints rule
   * out is not probed (a NULL-key probe would otherwise scan the whole cursor index every run).
   */
  public async setAside(): Promise<SetAsideRows[]> {
    const params: Params = [];
    const probes = this.setAsideProbes(await this.shape(), params);
    if (!probes) return [];
    // sql.unsafe: quoted identifiers from config and the user's own SQL; values are parameters.
    const [row] = (await this.sql.unsafe(`select ${probes} as found`, params)) as Row[];
    return this.setAsideFound(row?.found);
  }

  /** The set-aside probes as one JSON array expression, or undefined when no class can occur. */
  private setAsideProbes(shape: Shape, params: Params): string | undefined {
    const { c, keys } = shape;
    const keyText =
      this.source.key.length === 1 ? `${keys[0]}::text` : `json_build_array(${keys.join(', ')})::text`;
    const classes: [SourceSetAsideCode, string, string][] = [];
    if (!shape.types.cursorNotNull) {
      classes.push([
        'WB_SOURCE_CURSOR_NULL',
        `${c} is null and ${keys.map((k) => `${k} is not null`).join(' and ')}`,
        keyText,
      ]);
    }
    if (!shape.types.keyNotNull) {
      classes.push([
        'WB_SOURCE_KEY_NULL',
        `${c} is not null and (${keys.map((k) => `${k} is null`).join(' or ')})`,
        `${c}::text`,
      ]);
    }
    if (shape.isTime) {
      const future = `${c} > ${this.upperBound(shape, params, 0)} + interval '${FUTURE_TOLERANCE}'`;
      classes.push([
        'WB_SOURCE_CURSOR_FUTURE',
        `${future} and ${keys.map((k) => `${k} is not null`).join(' and ')}`,
        keyText,
      ]);
    }
    if (classes.length === 0) return undefined;
    const probes = classes.map(
      ([code, cond, sample]) =>
        `(select json_build_object('code', '${code}', 'count', count(*), 'samples', (array_agg(s))[1:3])
          from (select ${sample} as s from ${this.relation()} src where ${cond}${this.userFilter()} limit ${SET_ASIDE_CAP}) x)`,
    );
    return `json_build_array(${probes.join(', ')})`;
  }

  /** The set-aside classes a probe found rows in, with their messages. */
  private setAsideFound(value: unknown): SetAsideRows[] {
    const found = (value ?? []) as {
      code: SourceSetAsideCode;
      count: number;
      samples: string[] | null;
    }[];
    return found
      .filter((f) => f.count > 0)
      .map((f) => ({
        ...f,
        samples: f.samples ?? [],
        message: this.setAsideMessage(f.code, f.count, f.samples ?? []),
      }));
  }

  /**
   * Whether a run has anything to read, in one statement (the quiet path of a run: nothing changed,
   * nothing to do): the warehouse clock (where a pass starting now would start, for its lookback
   * window), whether any row lies where the pass would read (after the bookmark or in the lookback
   * window, up to the upper bound, exactly as passStart and readPage select them), and the rows set
   * aside (setAside). One index probe each, however large the table.
   */
  public async probe(
    bookmark: Position | undefined,
    lastPassAt: string | undefined,
  ): Promise<{ now: string; changed: boolean; setAside: SetAsideRows[] }> {
    const shape = await this.shape();
    const { c, keys } = shape;
    const params: Params = [];
    const where = [`${c} is not null`, ...keys.map((k) => `${k} is not null`)];
    if (bookmark) {
      const opens = this.windowOpens(shape, params, bookmark, lastPassAt);
      const after = this.after(shape, params, bookmark);
      if (!opens) where.push(after);
      else {
        // Either bound may be the lower one; least() gives the index its range start.
        const b = bind(params, bookmark.cursor, shape.types.cursor);
        where.push(`${c} >= least(${opens}, ${b})`, `(${after} or ${c} >= ${opens})`);
      }
    }
    if (shape.isTime) {
      where.push(
        this.source.settle > 0
          ? `${c} < ${this.upperBound(shape, params, this.source.settle)}`
          : `${c} <= ${this.upperBound(shape, params, 0)}`,
      );
    }
    const now = this.clock ? bind(params, this.clock(), 'timestamptz') : 'now()';
    const probes = this.setAsideProbes(shape, params) ?? 'null::json';
    // sql.unsafe: quoted identifiers from config and the user's own SQL; values are parameters.
    const [row] = (await this.sql.unsafe(
      `select ${now}::text as now,
        exists (select 1 from ${this.relation()} src where ${where.join(' and ')}${this.userFilter()}) as changed,
        ${probes} as found`,
      params,
      // Prepared: one round trip on a warm connection (an unprepared statement with parameters
      // takes two, Parse/Describe first), and no parse or plan on every quiet run.
      { prepare: true },
    )) as Row[];
    return {
      now: row!.now as string,
      changed: row!.changed as boolean,
      setAside: this.setAsideFound(row!.found),
    };
  }

  private setAsideMessage(code: SourceSetAsideCode, count: number, samples: readonly string[]): string {
    const n = count >= SET_ASIDE_CAP ? `${SET_ASIDE_CAP} or more` : String(count);
    const eg = samples.length > 0 ? ` (e.g. ${samples.map((v) => JSON.stringify(v)).join(', ')})` : '';
    const cur = this.source.cursor;
    switch (code) {
      case 'WB_SOURCE_CURSOR_NULL':
        return `${n} rows have NULL in the cursor column ${cur}${eg} and cannot be read incrementally: fill them (and add NOT NULL), read through a query with coalesce(${cur}, <load time>), or exclude them with where`;
      case 'WB_SOURCE_KEY_NULL':
        return `${n} rows have NULL in a key column (${this.source.key.join(', ')}; cursor values${eg}) and have no identity in the target: give them a key or exclude them with where`;
      case 'WB_SOURCE_CURSOR_FUTURE':
        return `${n} rows have a cursor more than ${FUTURE_TOLERANCE} ahead of the warehouse clock${eg}; they are read when that time comes (never, for infinity): fix ${cur} or exclude them with where`;
    }
  }

  /** The warehouse clock as timestamptz text: where a pass starts, for the next pass's lookback window. */
  public async now(): Promise<string> {
    if (this.clock) return this.clock();
    const [row] = await this.sql<{ now: string }[]>`select now()::text as now`;
    return row!.now;
  }

  /**
   * Where a pass over the source starts. Without a bookmark: the first row. Otherwise after the
   * bookmark, plus the lookback window: rows that may have committed after the previous pass read
   * past their cursor value. Such a row's cursor is no older than that pass's start minus the
   * lookback (its transaction began at most `lookback` before it committed), so the window opens
   * at `lastPassAt - lookback`, a wall-clock bound, not at the bookmark: a load stamped within a
   * minute is re-read by one pass, not by every run after it. A date cursor always re-reads the
   * current day (same-day updates keep the same cursor value). Without `lastPassAt` (a bookmark
   * from before passes were recorded), the window opens at the bookmark minus the lookback.
   */
  public async passStart(bookmark: Position | undefined, lastPassAt: string | undefined): Promise<PageStart> {
    if (!bookmark) return undefined;
    const shape = await this.shape();
    const params: Params = [];
    const w = this.windowOpens(shape, params, bookmark, lastPassAt);
    if (!w) return { after: bookmark };
    // sql.unsafe: type names from the catalogue; values are parameters.
    const [row] = (await this.sql.unsafe(
      `select ${w}::text as w, ${w} > ${bind(params, bookmark.cursor, shape.types.cursor)} as beyond`,
      params,
    )) as Row[];
    return row!.beyond ? { after: bookmark } : { fromCursor: row!.w as string };
  }

  /**
   * Where the lookback window of a pass after `bookmark` opens, as an SQL expression of the cursor's
   * type (see passStart); undefined when the sync has no window (no lookback, not a date cursor).
   */
  private windowOpens(
    shape: Shape,
    params: Params,
    bookmark: Position,
    lastPassAt: string | undefined,
  ): string | undefined {
    const isDate = shape.types.cursor === 'date';
    if (!shape.isTime || (this.source.lookback === 0 && !isDate)) return undefined;
    const opensAt = lastPassAt
      ? `(${this.asCursorClock(shape, bind(params, lastPassAt, 'timestamptz'), params)} - make_interval(secs => ${bind(params, this.source.lookback, 'float8')}))`
      : `(${bind(params, bookmark.cursor, shape.types.cursor)} - make_interval(secs => ${bind(params, this.source.lookback, 'float8')}))`;
    return isDate ? `(${opensAt}::date)` : `(${opensAt}::${shape.types.cursor})`;
  }

  /**
   * A timestamptz expression as the cursor column sees time: a `timestamp` or `date` cursor holds
   * wall time in the source's `timeZone` (UTC unless configured).
   */
  private asCursorClock(shape: Shape, expr: string, params: Params): string {
    return shape.types.cursor === 'timestamp with time zone'
      ? expr
      : `(${expr} at time zone ${bind(params, this.source.timeZone, 'text')})`;
  }

  /** The newest cursor value a page may return: the clock minus `settle` (rows stamped in the future wait). */
  private upperBound(shape: Shape, params: Params, settle: number): string {
    const clock = this.clock ? bind(params, this.clock(), 'timestamptz') : 'now()';
    const at = this.asCursorClock(shape, clock, params);
    return settle > 0 ? `(${at} - make_interval(secs => ${bind(params, settle, 'float8')}))` : at;
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
    // ±infinity has no epoch: the largest and smallest bigint keep such a row's version ordered.
    const version = isTime
      ? `case when ${c} = 'infinity' then '9223372036854775807' when ${c} = '-infinity' then '-9223372036854775808' ` +
        `else round((extract(epoch from ${c}) * 1000000)::numeric)::text end`
      : `${c}::text`;
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
    // Rows with a NULL cursor or key part have no place in the order: setAside() reports them.
    const where = [`${c} is not null`, ...keys.map((k) => `${k} is not null`)];
    if (markedDeletedIn) where.push(markedDeleted(`src.${quoteIdent(markedDeletedIn)}`));
    if (start && 'after' in start) where.push(this.after(shape, params, start.after));
    if (start && 'fromCursor' in start) where.push(`${c} >= ${bind(params, start.fromCursor, types.cursor)}`);
    // A row stamped ahead of the clock waits for its time: read now, it would carry the bookmark
    // past every row stamped before it.
    if (shape.isTime) {
      where.push(
        this.source.settle > 0
          ? `${c} < ${this.upperBound(shape, params, this.source.settle)}`
          : `${c} <= ${this.upperBound(shape, params, 0)}`,
      );
    }
    const text = `select ${select.join(', ')} from ${this.relation()} src where ${where.join(' and ')}${this.userFilter()} order by ${[c, ...keys].join(', ')} limit ${bind(params, limit, 'int')}`;
    // sql.unsafe: the statement is assembled from quoted identifiers and the user's own SQL; values are parameters.
    // Prepared (the text is the same page after page): one round trip a page, not two.
    const rows = (await this.sql.unsafe(text, params, { prepare: true })) as Row[];
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

import type { Sql } from 'postgres';
import type { ChildrenConfig, Row } from '../config/schema.ts';
import { SourceError } from '../errors.ts';
import type { Position } from './Position.ts';
import { quoteIdent, quoteQualified } from './sqlText.ts';

/**
 * Reads the embedded children of a sync (invoice lines of invoices): all children of a page of
 * parents in one query, and the parents whose children changed since a child bookmark, so a
 * changed line re-sends its whole invoice.
 */
export class ChildReader {
  private readonly sql: Sql;
  private readonly spec: ChildrenConfig;
  private readonly syncName: string;
  private types: { fk: string; cursor: string | undefined; order: string[] } | undefined;

  /** The row property the children are embedded in. */
  public get as(): string {
    return this.spec.as;
  }

  public constructor(sql: Sql, syncName: string, spec: ChildrenConfig) {
    this.sql = sql;
    this.spec = spec;
    this.syncName = syncName;
  }

  private async columnTypes() {
    if (this.types) return this.types;
    const cols = [
      this.spec.foreignKey,
      ...(this.spec.cursor ? [this.spec.cursor] : []),
      ...this.spec.orderBy,
    ];
    const rows = await this.sql<{ name: string; type: string }[]>`
      select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
      from pg_attribute a
      where a.attrelid = to_regclass(${quoteQualified(this.spec.table)}) and a.attname = any(${cols}) and not a.attisdropped`;
    const typeOf = (c: string): string => {
      const t = rows.find((r) => r.name === c)?.type;
      if (!t) {
        throw new SourceError(
          'WB_CHILD_COLUMN_MISSING',
          `sync ${this.syncName}: children ${this.spec.as}: ${this.spec.table} has no column ${c}`,
        );
      }
      return t;
    };
    this.types = {
      fk: typeOf(this.spec.foreignKey),
      cursor: this.spec.cursor ? typeOf(this.spec.cursor) : undefined,
      order: this.spec.orderBy.map(typeOf),
    };
    return this.types;
  }

  /**
   * Child rows of these parents, grouped by parent key (as text), in `orderBy` order, with the
   * newest child version (its cursor as an integer) when the children have a cursor.
   */
  public async readFor(
    parentKeys: readonly string[],
  ): Promise<Map<string, { rows: Row[]; version?: string }>> {
    const out = new Map<string, { rows: Row[]; version?: string }>(parentKeys.map((k) => [k, { rows: [] }]));
    if (parentKeys.length === 0) return out;
    const t = await this.columnTypes();
    const fk = quoteIdent(this.spec.foreignKey);
    // sql.unsafe: quoted identifiers from config; the keys are one array parameter, typed as the column.
    const version = this.spec.cursor
      ? `(extract(epoch from c.${quoteIdent(this.spec.cursor)}) * 1000000)::bigint::text`
      : 'null';
    const rows = (await this.sql.unsafe(
      `select c.*, c.${fk}::text as "_wb_parent", ${version} as "_wb_version" from ${quoteQualified(this.spec.table)} c
       where c.${fk} = any($1::text[]::${t.fk}[])${this.spec.where ? ` and (${this.spec.where})` : ''}
       order by c.${fk}, ${this.spec.orderBy.map((o) => `c.${quoteIdent(o)}`).join(', ')}`,
      [parentKeys as string[]],
    )) as Row[];
    for (const r of rows) {
      const parent = r._wb_parent as string;
      const version = r._wb_version as string | null;
      delete r._wb_parent;
      delete r._wb_version;
      const group = out.get(parent);
      if (!group) continue;
      group.rows.push(r);
      if (version !== null && (group.version === undefined || BigInt(version) > BigInt(group.version))) {
        group.version = version;
      }
    }
    return out;
  }

  /** The newest position in the child change stream: where a first run starts watching. */
  public async headPosition(): Promise<Position | undefined> {
    const t = await this.columnTypes();
    if (!this.spec.cursor || !t.cursor) return undefined;
    const c = `c.${quoteIdent(this.spec.cursor)}`;
    const order = this.spec.orderBy.map((o) => `c.${quoteIdent(o)}`);
    const [row] = (await this.sql.unsafe(
      `select ${c}::text as cursor, ${order.map((o, i) => `${o}::text as "k${i}"`).join(', ')}
       from ${quoteQualified(this.spec.table)} c where ${c} is not null
       order by ${[c, ...order].map((x) => `${x} desc`).join(', ')} limit 1`,
    )) as Row[];
    return row
      ? { cursor: row.cursor as string, key: this.spec.orderBy.map((_, i) => row[`k${i}`] as string) }
      : undefined;
  }

  /**
   * Parent keys of the children changed after `after` (keyset on the child cursor and orderBy),
   * at most `limit` children read; `last` is where the next call continues.
   */
  public async changedParents(
    after: Position | undefined,
    limit: number,
  ): Promise<{ parentKeys: string[]; last: Position | undefined; read: number }> {
    const t = await this.columnTypes();
    if (!this.spec.cursor || !t.cursor) return { parentKeys: [], last: undefined, read: 0 };
    const c = `c.${quoteIdent(this.spec.cursor)}`;
    const order = this.spec.orderBy.map((o) => `c.${quoteIdent(o)}`);
    const params: unknown[] = [];
    const p = (v: unknown, type: string) => {
      params.push(v);
      return `$${params.length}::text::${type}`;
    };
    const where = after
      ? `(${[c, ...order].join(', ')}) > (${[p(after.cursor, t.cursor), ...after.key.map((k, i) => p(k, t.order[i]!))].join(', ')})`
      : 'true';
    params.push(limit);
    // sql.unsafe: quoted identifiers from config; values are parameters.
    const rows = (await this.sql.unsafe(
      `select c.${quoteIdent(this.spec.foreignKey)}::text as parent, ${c}::text as cursor,
              ${order.map((o, i) => `${o}::text as "k${i}"`).join(', ')}
       from ${quoteQualified(this.spec.table)} c where ${c} is not null and ${where}
       order by ${[c, ...order].join(', ')} limit $${params.length}::int`,
      params as never[],
    )) as Row[];
    const last = rows[rows.length - 1];
    return {
      parentKeys: [...new Set(rows.map((r) => r.parent as string))],
      last: last
        ? { cursor: last.cursor as string, key: this.spec.orderBy.map((_, i) => last[`k${i}`] as string) }
        : undefined,
      read: rows.length,
    };
  }
}

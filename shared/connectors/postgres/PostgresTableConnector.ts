import postgres, { type Sql } from 'postgres';
import type { Payload } from '../../config/schema.ts';
import { TargetError } from '../../errors.ts';
import { quoteIdent, quoteQualified } from '../../source/sqlText.ts';
import type {
  Connector,
  ConnectorCapabilities,
  TargetRecord,
  UpsertRecord,
  UpsertResult,
} from '../Connector.ts';

export interface PostgresTableConnectorOptions {
  readonly sql: Sql;
  /** Column holding our external id; it must carry a unique constraint (the ON CONFLICT target). */
  readonly externalIdColumn: string;
}

/**
 * SQLSTATEs that a retry can fix: connection trouble, serialization failures, deadlocks, resources,
 * a statement cancelled by statement_timeout (57014), and a lock wait past lock_timeout (55P03).
 */
const RETRYABLE_SQLSTATE = /^(08|40|53|57|55P03$)/;

/**
 * Writes records into a Postgres table with `INSERT … ON CONFLICT (external id) DO UPDATE`:
 * a native upsert, so replaying a write after a crash is always safe. A batch is one statement;
 * if it fails on bad data, the rows are retried one by one (each in a savepoint) so that only
 * the bad record fails. Fields absent from a payload are left untouched; null clears a column.
 */
export class PostgresTableConnector implements Connector {
  /** A native upsert; a failed batch is retried row by row, so each record gets its own outcome. */
  public static readonly CAPABILITIES: ConnectorCapabilities = {
    nativeUpsert: true,
    idempotencyKey: false,
    maxBatchSize: 1000,
    partialSuccess: 'per-record',
    rateLimits: undefined,
    children: 'none',
    versionToken: undefined,
    nulls: 'clear',
  };
  public readonly type = 'postgres';
  public readonly capabilities = PostgresTableConnector.CAPABILITIES;
  private readonly sql: Sql;
  private readonly externalIdColumn: string;
  private readonly types = new Map<string, Promise<Map<string, string>>>();

  public constructor(opts: PostgresTableConnectorOptions) {
    this.sql = opts.sql;
    this.externalIdColumn = opts.externalIdColumn;
  }

  public async upsertBatch(table: string, records: readonly UpsertRecord[]): Promise<UpsertResult[]> {
    // Records with the same set of fields share one statement; a missing field must not become null.
    const groups = new Map<string, UpsertRecord[]>();
    for (const r of records) {
      const sig = Object.keys(r.payload).sort().join('\u0000');
      groups.set(sig, [...(groups.get(sig) ?? []), r]);
    }
    const results: UpsertResult[] = [];
    for (const group of groups.values()) {
      try {
        results.push(...(await this.upsertGroup(this.sql, table, group)));
      } catch (err) {
        const error = toTargetError(err);
        if (error.disposition === 'retryable' || group.length === 1) {
          results.push(...group.map((r) => ({ key: r.key, ok: false as const, error })));
          continue;
        }
        results.push(...(await this.upsertOneByOne(table, group)));
      }
    }
    return results;
  }

  private async upsertOneByOne(table: string, group: readonly UpsertRecord[]): Promise<UpsertResult[]> {
    const results: UpsertResult[] = [];
    try {
      await this.sql.begin(async (tx) => {
        for (const r of group) {
          try {
            const [res] = await tx.savepoint((sp) => this.upsertGroup(sp as unknown as Sql, table, [r]));
            results.push(res!);
          } catch (err) {
            results.push({ key: r.key, ok: false, error: toTargetError(err) });
          }
        }
      });
    } catch (err) {
      const error = toTargetError(err);
      const done = new Set(results.map((r) => r.key));
      results.push(
        ...group.filter((r) => !done.has(r.key)).map((r) => ({ key: r.key, ok: false as const, error })),
      );
    }
    return results;
  }

  /** Column name → type of a target table, read once per table. */
  private async columnTypes(sql: Sql, table: string): Promise<Map<string, string>> {
    let types = this.types.get(table);
    if (!types) {
      types = sql<{ name: string; type: string }[]>`
        select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
        from pg_attribute a
        where a.attrelid = to_regclass(${quoteQualified(table)}) and a.attnum > 0 and not a.attisdropped`.then(
        (rows) => new Map(rows.map((r) => [r.name, r.type])),
      );
      types.catch(() => this.types.delete(table));
      this.types.set(table, types);
    }
    return types;
  }

  private async upsertGroup(
    sql: Sql,
    table: string,
    group: readonly UpsertRecord[],
  ): Promise<UpsertResult[]> {
    const fields = Object.keys(group[0]!.payload).filter((f) => f !== this.externalIdColumn);
    const columns = [this.externalIdColumn, ...fields];
    const types = await this.columnTypes(sql, table);
    const params: unknown[] = [];
    // Every value travels as text and is cast to its column's type by Postgres: a JSON object
    // lands in a jsonb column as an object (postgres.js would encode a typed jsonb parameter a
    // second time), a date string in a date column, a number in a numeric one.
    const values = group.map(
      (r) =>
        `(${columns
          .map((col) => {
            params.push(col === this.externalIdColumn ? r.externalId : toParam(r.payload[col]));
            const type = types.get(col);
            return type ? `$${params.length}::text::${type}` : `$${params.length}`;
          })
          .join(', ')})`,
    );
    const ext = quoteIdent(this.externalIdColumn);
    const set = fields.length
      ? fields.map((f) => `${quoteIdent(f)} = excluded.${quoteIdent(f)}`).join(', ')
      : `${ext} = excluded.${ext}`;
    // sql.unsafe: table and column names come from config and the mapped payload, all quoted; values are parameters.
    const rows = await sql.unsafe(
      `insert into ${quoteQualified(table)} (${columns.map(quoteIdent).join(', ')}) values ${values.join(', ')}
       on conflict (${ext}) do update set ${set}
       returning ${ext}::text as "externalId", (xmax = 0) as created`,
      params as never[],
    );
    const created = new Map(rows.map((r) => [r.externalId as string, r.created as boolean]));
    return group.map((r) => ({
      key: r.key,
      ok: true as const,
      targetId: r.externalId,
      created: created.get(r.externalId) ?? false,
    }));
  }

  /**
   * Deletes rows by target id (the external id column): a table has no archive. Idempotent: a row
   * already gone counts as deleted.
   */
  public async archive(table: string, targetIds: readonly string[]): Promise<UpsertResult[]> {
    try {
      // sql.unsafe: quoted identifiers from config; the ids are one array parameter.
      await this.sql.unsafe(
        `delete from ${quoteQualified(table)} where ${quoteIdent(this.externalIdColumn)}::text = any($1::text[])`,
        [targetIds as string[]],
      );
      return targetIds.map((id) => ({ key: id, ok: true as const, targetId: id, created: false }));
    } catch (err) {
      const error = toTargetError(err);
      return targetIds.map((id) => ({ key: id, ok: false as const, error }));
    }
  }

  public async lookup(table: string, externalId: string): Promise<TargetRecord | undefined> {
    const rows = await this.sql.unsafe(
      `select * from ${quoteQualified(table)} where ${quoteIdent(this.externalIdColumn)}::text = $1`,
      [externalId],
    );
    const row = rows[0];
    return row ? this.toRecord(row) : undefined;
  }

  public async *list(table: string): AsyncIterable<TargetRecord> {
    const ext = quoteIdent(this.externalIdColumn);
    let after: string | undefined;
    for (;;) {
      const rows = await this.sql.unsafe(
        `select * from ${quoteQualified(table)} ${after === undefined ? '' : `where ${ext}::text > $1`} order by ${ext}::text limit 1000`,
        after === undefined ? [] : [after],
      );
      for (const row of rows) yield this.toRecord(row);
      if (rows.length < 1000) return;
      after = String(rows[rows.length - 1]![this.externalIdColumn]);
    }
  }

  private toRecord(row: Record<string, unknown>): TargetRecord {
    const externalId = String(row[this.externalIdColumn]);
    const fields: Payload = { ...row };
    delete fields[this.externalIdColumn];
    return { targetId: externalId, externalId, fields };
  }

  public async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}

/** A payload value as the text Postgres casts to the column's type; null stays null. */
function toParam(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function toTargetError(err: unknown): TargetError {
  if (err instanceof postgres.PostgresError) {
    const retryable = RETRYABLE_SQLSTATE.test(err.code);
    return new TargetError(`PG_${err.code}`, err.message, {
      disposition: retryable ? 'retryable' : 'permanent',
      cause: err,
    });
  }
  const e = err as NodeJS.ErrnoException;
  // Connection-level failures (reset, refused, timeout) are worth another try.
  return new TargetError(`PG_${e?.code ?? 'CONNECTION'}`, e?.message ?? String(err), {
    disposition: 'retryable',
    cause: err,
  });
}

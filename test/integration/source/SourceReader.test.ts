import type { Sql } from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SyncSchema } from '../../../shared/config/schema.ts';
import { SourceError } from '../../../shared/errors.ts';
import type { Position } from '../../../shared/source/Position.ts';
import { type PageStart, SourceReader, type SourceRow } from '../../../shared/source/SourceReader.ts';
import { startTestPostgres } from '../../helpers/localPostgres.ts';

function source(over: Record<string, unknown>) {
  return SyncSchema.parse({
    name: 'test',
    source: { table: 'src.items', key: 'id', cursor: 'loaded_at', ...over },
    target: { connection: 'x', object: 'y' },
    map: (r: unknown) => r,
  }).source;
}

/** Reads everything after `after` in pages of `pageSize`, as consecutive runs would. */
async function readAll(reader: SourceReader, pageSize: number, after?: Position): Promise<SourceRow[]> {
  const rows: SourceRow[] = [];
  let start: PageStart = after ? { after } : undefined;
  for (;;) {
    const page = await reader.readPage(start, pageSize, after);
    rows.push(...page);
    if (page.length < pageSize) return rows;
    start = { after: page[page.length - 1]!.position };
  }
}

describe('Class: SourceReader', () => {
  let db: Awaited<ReturnType<typeof startTestPostgres>>;
  let sql: Sql;

  beforeAll(async () => {
    db = await startTestPostgres();
    sql = db.sql;
  });
  afterAll(async () => db?.stop());
  beforeEach(async () => {
    await sql`drop schema if exists src cascade`;
    await sql`create schema src`;
    await sql`create table src.items (id int primary key, name text, loaded_at timestamptz)`;
  });

  it('reads every row sharing one timestamp across page boundaries', async () => {
    // Prepare: 5 rows with the same cursor value, pages of 2
    await sql`insert into src.items select i, 'n' || i, '2026-01-01 00:00:00+00' from generate_series(1, 5) i`;
    const reader = new SourceReader(sql, 'test', source({}));
    // Act
    const rows = await readAll(reader, 2);
    // Assess
    expect(rows.map((r) => r.key)).toEqual(['1', '2', '3', '4', '5']);
  });

  it('resumes after a bookmark in the middle of equal timestamps without losing or repeating rows', async () => {
    await sql`insert into src.items select i, 'n' || i, '2026-01-01 00:00:00+00' from generate_series(1, 5) i`;
    const reader = new SourceReader(sql, 'test', source({}));
    const [first] = [await reader.readPage(undefined, 2, undefined)];
    const rest = await readAll(reader, 2, first!.at(-1)!.position);
    expect([...first!, ...rest].map((r) => r.key)).toEqual(['1', '2', '3', '4', '5']);
  });

  it('keeps microseconds of a timestamptz cursor exactly', async () => {
    // Prepare: two rows 1 µs apart; a millisecond bookmark would skip or repeat one
    await sql`insert into src.items values (1, 'a', '2026-01-01 00:00:00.000001+00'), (2, 'b', '2026-01-01 00:00:00.000002+00')`;
    const reader = new SourceReader(sql, 'test', source({}));
    // Act
    const [first] = await reader.readPage(undefined, 1, undefined);
    const after = await readAll(reader, 10, first!.position);
    // Assess
    expect(first!.position.cursor).toBe('2026-01-01 00:00:00.000001+00');
    expect(after.map((r) => r.key)).toEqual(['2']);
    expect(BigInt(after[0]!.version) - BigInt(first!.version)).toBe(1n);
  });

  it('re-reads the lookback window behind the bookmark and marks those rows as behind it', async () => {
    await sql`insert into src.items values (1, 'a', '2026-01-01 00:00:00+00'), (2, 'b', '2026-01-01 00:01:00+00'), (3, 'c', '2026-01-01 00:05:00+00')`;
    const reader = new SourceReader(sql, 'test', source({ lookback: '2m' }));
    const bookmark: Position = { cursor: '2026-01-01 00:02:00+00', key: ['0'] };
    // No pass recorded yet: the window opens at the bookmark minus the lookback.
    const start = await reader.passStart(bookmark, undefined);
    expect(start).toEqual({ fromCursor: '2026-01-01 00:00:00+00' });
    const rows = await reader.readPage(start, 10, bookmark);
    expect(rows.map((r) => [r.key, r.pastBookmark])).toEqual([
      ['1', false],
      ['2', false],
      ['3', true],
    ]);
  });

  it('reads a composite key in key order within one cursor value', async () => {
    await sql`create table src.pairs (region text, id int, loaded_at timestamptz, primary key (region, id))`;
    await sql`insert into src.pairs values ('eu', 2, '2026-01-01'), ('eu', 10, '2026-01-01'), ('us', 1, '2026-01-01')`;
    const reader = new SourceReader(sql, 'test', source({ table: 'src.pairs', key: ['region', 'id'] }));
    const rows = await readAll(reader, 1);
    expect(rows.map((r) => r.key)).toEqual(['["eu","2"]', '["eu","10"]', '["us","1"]']);
  });

  it('reads from a SQL query as well as a table', async () => {
    await sql`insert into src.items select i, 'n' || i, '2026-01-01' from generate_series(1, 4) i`;
    const reader = new SourceReader(sql, 'test', {
      ...source({}),
      table: undefined,
      query: 'select id, upper(name) as name, loaded_at from src.items where id % 2 = 0',
    });
    const rows = await readAll(reader, 10);
    expect(rows.map((r) => r.row.name)).toEqual(['N2', 'N4']);
  });

  it('uses a bigint sequence as the cursor', async () => {
    await sql`create table src.events (id int primary key, seq bigint not null)`;
    await sql`insert into src.events values (1, 9007199254740993), (2, 9007199254740994)`;
    const reader = new SourceReader(sql, 'test', source({ table: 'src.events', cursor: 'seq' }));
    const rows = await readAll(reader, 10);
    expect(rows.map((r) => r.version)).toEqual(['9007199254740993', '9007199254740994']);
  });

  it('rejects a cursor column of an unusable type with an error naming the sync and the column', async () => {
    const reader = new SourceReader(sql, 'test', source({ cursor: 'name' }));
    await expect(reader.readPage(undefined, 10, undefined)).rejects.toThrowError(
      /sync test: cursor column name has type text/,
    );
    await expect(reader.readPage(undefined, 10, undefined)).rejects.toBeInstanceOf(SourceError);
  });

  it('does not read rows newer than now() - settle', async () => {
    await sql`insert into src.items values (1, 'old', now() - interval '1 hour'), (2, 'fresh', now())`;
    const reader = new SourceReader(sql, 'test', source({ settle: '5m' }));
    const rows = await readAll(reader, 10);
    expect(rows.map((r) => r.key)).toEqual(['1']);
  });
});

describe('Method: preflight', () => {
  let db: Awaited<ReturnType<typeof startTestPostgres>>;
  beforeAll(async () => {
    db = await startTestPostgres();
    await db.sql`create schema src`;
  });
  afterAll(async () => db?.stop());

  it('names the index to create when the cursor column has none', async () => {
    await db.sql`create table src.noidx (id int primary key, loaded_at timestamptz not null)`;
    const reader = new SourceReader(db.sql, 'test', source({ table: 'src.noidx' }));
    await expect(reader.preflight()).rejects.toThrowError(
      /sync test: src.noidx has no index on its cursor column loaded_at.*create index concurrently on "src"."noidx" \("loaded_at", "id"\)/,
    );
  });

  it('sets rows with a NULL cursor aside with their keys and how to fix them, and reads the others', async () => {
    await db.sql`create table src.nulls (id int primary key, loaded_at timestamptz)`;
    await db.sql`create index on src.nulls (loaded_at, id)`;
    await db.sql`insert into src.nulls values (1, now() - interval '1 minute'), (2, null)`;
    const reader = new SourceReader(db.sql, 'test', source({ table: 'src.nulls' }));
    await expect(reader.preflight()).resolves.toBeUndefined();
    const [aside] = await reader.setAside();
    expect(aside).toMatchObject({ code: 'WB_SOURCE_CURSOR_NULL', count: 1, samples: ['2'] });
    expect(aside!.message).toMatch(/coalesce\(loaded_at/);
    expect((await reader.readPage(undefined, 10, undefined)).map((r) => r.key)).toEqual(['1']);
  });

  it('accepts an indexed table without NULL cursors', async () => {
    await db.sql`create table src.good (id int primary key, loaded_at timestamptz not null)`;
    await db.sql`create index on src.good (loaded_at, id)`;
    await expect(
      new SourceReader(db.sql, 'test', source({ table: 'src.good' })).preflight(),
    ).resolves.toBeUndefined();
  });
});

describe('Method: readByKeys', () => {
  let db: Awaited<ReturnType<typeof startTestPostgres>>;
  beforeAll(async () => {
    db = await startTestPostgres();
    await db.sql`create schema src`;
    await db.sql`create table src.items (id int primary key, name text, loaded_at timestamptz not null)`;
    await db.sql`insert into src.items select i, 'n' || i, '2026-01-01'::timestamptz + i * interval '1 s' from generate_series(1, 10) i`;
    await db.sql`create table src.pairs (region text, id int, loaded_at timestamptz, primary key (region, id))`;
    await db.sql`insert into src.pairs values ('eu', 2, '2026-01-01'), ('us', 2, '2026-01-01')`;
  });
  afterAll(async () => db?.stop());

  it('reads exactly the rows of the given keys, whatever their cursor, and skips keys that are gone', async () => {
    const reader = new SourceReader(db.sql, 'test', source({}));
    const rows = await reader.readByKeys(['3', '7', '42'], { cursor: '2026-01-01 00:00:05+00', key: ['5'] });
    expect(rows.map((r) => [r.key, r.pastBookmark]).sort()).toEqual([
      ['3', false],
      ['7', true],
    ]);
  });

  it("leaves out rows the sync's where filter excludes", async () => {
    const reader = new SourceReader(db.sql, 'test', source({ where: 'id % 2 = 0' }));
    const rows = await reader.readByKeys(['3', '4'], undefined);
    expect(rows.map((r) => r.key)).toEqual(['4']);
  });

  it('reads composite keys', async () => {
    const reader = new SourceReader(db.sql, 'test', source({ table: 'src.pairs', key: ['region', 'id'] }));
    const rows = await reader.readByKeys(['["us","2"]'], undefined);
    expect(rows.map((r) => r.row)).toEqual([{ region: 'us', id: 2, loaded_at: expect.any(Date) }]);
  });
});

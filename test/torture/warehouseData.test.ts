import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStack } from '../../local/LocalStack.ts';
import type { SyncInput } from '../../shared/config/schema.ts';
import { validateConfig } from '../../shared/config/validateConfig.ts';
import { ConfigValidationError } from '../../shared/errors.ts';
import { type ExtractDeps, runExtract } from '../../shared/extract/runExtract.ts';
import { targetPool, warehousePool } from '../../shared/postgresPools.ts';
import type { RunRecord } from '../../shared/state/RunRecord.ts';

/**
 * Ordinary warehouse tables, each read by its own sync into its own target table, asserting what
 * a user checks: every row written once with its content, or set aside with its code, and every
 * run moving forward. Against the embedded Postgres, the emulators and the real handlers.
 */

/** Each sync copies `src.<name>` (key columns as given, `name`, `qty`, cursor `at`) to `public.<name>_copy`. */
function sync(
  table: string,
  over: { key?: string | string[]; cursor?: string; source?: object } = {},
): SyncInput {
  return {
    name: table.replaceAll('_', '-'),
    source: {
      table: `src.${table}`,
      key: over.key ?? 'id',
      cursor: over.cursor ?? 'at',
      pageSize: 7,
      ...over.source,
    },
    target: { connection: 'copy', object: `public.${table}_copy`, externalId: 'item_id' },
    map: (row: Record<string, unknown>) => ({ name: row.name, qty: row.qty }),
    batchSize: 10,
  } as SyncInput;
}

const SYNCS = {
  charKey: sync('char_key'),
  composite: sync('composite_key', { key: ['region', 'amount', 'uid', 'big'] }),
  nullableKey: sync('nullable_key', { key: 'email' }),
  textKey: sync('text_key'),
  longKey: sync('long_key'),
  timestampCursor: sync('ts_cursor'),
  dateCursor: sync('date_cursor'),
  intCursor: sync('int_cursor'),
  oddCursors: sync('odd_cursors'),
  filteredNulls: sync('filtered_nulls', { source: { where: 'at is not null' } }),
  bigJson: {
    ...sync('big_json'),
    map: (row: Record<string, unknown>) => ({ name: JSON.stringify(row.doc), qty: null }),
  },
  bulkLoad: sync('bulk_load', { source: { lookback: '2m', pageSize: 20 } }),
  testLimit: { ...sync('test_limit', { source: { lookback: '2m', pageSize: 4 } }), testLimit: 10 },
  session: sync('session_rows'),
  bigInvoice: {
    ...sync('big_invoice'),
    children: [
      {
        as: 'lines',
        table: 'src.big_invoice_lines',
        foreignKey: 'invoice_id',
        orderBy: 'line_id',
        cursor: 'at',
      },
    ],
    map: (row: Record<string, unknown>) => ({
      name: row.name,
      qty: (row.lines as unknown[]).length,
      parts: JSON.stringify(row.lines),
    }),
  },
} satisfies Record<string, SyncInput>;

describe('Torture: real warehouse data', () => {
  let stack: LocalStack;
  let billing: Sql;

  beforeAll(async () => {
    const config = validateConfig({
      connections: { copy: { type: 'postgres' } },
      syncs: Object.values(SYNCS),
    });
    stack = await LocalStack.start({ config });
    await stack.dwh`create schema if not exists src`;
    await stack.dwh`create extension if not exists citext`;
    billing = targetPool(stack.pg.url('billing'), { max: 2 });
    for (const s of Object.values(SYNCS)) {
      await billing.unsafe(
        `create table if not exists ${s.target.object} (item_id text primary key, name text, qty int, parts text, owner_ref text)`,
      );
    }
    stack.startWriters();
  });
  afterAll(async () => {
    await billing?.end();
    await stack?.stop();
  });

  const deps = (name: string, extra: Partial<ExtractDeps> = {}): ExtractDeps => ({
    sql: stack.dwh,
    state: stack.state,
    links: stack.links,
    enqueuer: stack.enqueuer(name),
    now: Date.now,
    health: false,
    ...extra,
  });
  const run = (
    s: SyncInput,
    extra: Partial<ExtractDeps> = {},
    remainingMs = () => 600_000,
  ): Promise<RunRecord> =>
    runExtract(stack.config.syncs.find((c) => c.name === s.name)!, deps(s.name, extra), {
      runId: crypto.randomUUID(),
      remainingMs,
    });
  /** Target rows by external id. */
  const copied = async (name: string) =>
    new Map(
      (await billing.unsafe(`select item_id, name, qty from public.${name}_copy`)).map((r) => [
        r.item_id as string,
        { name: r.name as string | null, qty: r.qty as number | null },
      ]),
    );
  const writes = (table: string) => stack.stats(table.replaceAll('_', '-')).write;

  describe('keys', () => {
    it('writes char(n) keys once, padded or not, and finds them again on the next run', async () => {
      await stack.dwh`create table src.char_key (id char(6) primary key, name text, qty int, at timestamptz not null)`;
      await stack.dwh`create index on src.char_key (at, id)`;
      await stack.dwh`insert into src.char_key values ('a', 'one', 1, now() - interval '1 min'), ('ab cd', 'two', 2, now() - interval '1 min'), ('x  ', 'three', 3, now() - interval '1 min')`;

      const first = await run(SYNCS.charKey);
      await stack.drain();
      const second = await run(SYNCS.charKey);
      await stack.drain();

      expect(first).toMatchObject({ outcome: 'succeeded', counts: { read: 3, enqueued: 3 } });
      expect(second.counts.enqueued).toBe(0);
      expect(await copied('char_key')).toEqual(
        new Map([
          ['a', { name: 'one', qty: 1 }],
          ['ab cd', { name: 'two', qty: 2 }],
          ['x', { name: 'three', qty: 3 }],
        ]),
      );
    });

    it('writes composite keys of citext, numeric, uuid and integers beyond 2^53 exactly, in keyset pages', async () => {
      await stack.dwh`create table src.composite_key (region citext, amount numeric, uid uuid, big bigint, name text, qty int, at timestamptz not null, primary key (region, amount, uid, big))`;
      await stack.dwh`create index on src.composite_key (at, region, amount, uid, big)`;
      // 20 rows on one timestamp: pages of 7 split them at composite boundaries.
      await stack.dwh`
        insert into src.composite_key
        select case when i % 2 = 0 then 'EU' else 'us' end, (i / 3)::numeric + 0.10, md5(i::text)::uuid,
               9007199254740993 + i, 'n' || i, i, now() - interval '1 min'
        from generate_series(1, 20) i`;

      const result = await run(SYNCS.composite);
      await stack.drain();

      expect(result).toMatchObject({ outcome: 'succeeded', counts: { read: 20, enqueued: 20 } });
      const target = await copied('composite_key');
      const source = await stack.dwh<{ r: string; a: string; u: string; b: string; name: string }[]>`
        select region::text r, amount::text a, uid::text u, big::text b, name from src.composite_key`;
      expect(target.size).toBe(20);
      // The key is the exact text of each part: '0.10' keeps its scale, 9007199254740995 is not a double.
      for (const row of source)
        expect(target.get(JSON.stringify([row.r, row.a, row.u, row.b]))?.name).toBe(row.name);
      expect(source.some((row) => row.b === '9007199254740995')).toBe(true);
      expect(writes('composite_key').created).toBe(20);
    });

    it('sets rows with a NULL key aside with WB_SOURCE_KEY_NULL and writes the rows around them', async () => {
      await stack.dwh`create table src.nullable_key (email text unique, name text, qty int, at timestamptz not null)`;
      await stack.dwh`create index on src.nullable_key (at, email)`;
      await stack.dwh`insert into src.nullable_key values ('a@x', 'a', 1, now() - interval '3 min'), (null, 'ghost', 2, now() - interval '2 min'), (null, 'ghost2', 3, now() - interval '2 min'), ('b@x', 'b', 4, now() - interval '1 min')`;

      const result = await run(SYNCS.nullableKey);
      await stack.drain();

      expect(result.outcome).toBe('partial');
      expect(result.setAside).toEqual([
        expect.objectContaining({
          code: 'WB_SOURCE_KEY_NULL',
          count: 2,
          message: expect.stringMatching(/give them a key/),
        }),
      ]);
      expect([...(await copied('nullable_key')).keys()].sort()).toEqual(['a@x', 'b@x']);
    });

    it('sets a row whose key passes 64 KiB aside with WB_SOURCE_KEY_TOO_LONG and writes the rows around it', async () => {
      await stack.dwh`create table src.long_key (id text primary key, name text, qty int, at timestamptz not null)`;
      await stack.dwh`create index on src.long_key (at)`;
      await stack.dwh`insert into src.long_key values ('a', 'a', 1, now() - interval '2 min'), (repeat('k', 70000), 'huge', 2, now() - interval '1 min'), ('b', 'b', 3, now() - interval '1 min')`;

      const result = await run(SYNCS.longKey);
      await stack.drain();

      expect(result.outcome).toBe('partial');
      expect(result.setAside).toEqual([
        expect.objectContaining({
          code: 'WB_SOURCE_KEY_TOO_LONG',
          count: 1,
          samples: [expect.stringMatching(/^k{64}… \(70000 bytes\)$/)],
        }),
      ]);
      expect([...(await copied('long_key')).keys()].sort()).toEqual(['a', 'b']);
    });

    it('writes text keys with separators, quotes, newlines, emoji and every plane exactly once', async () => {
      await stack.dwh`create table src.text_key (id text primary key, name text, qty int, at timestamptz not null)`;
      await stack.dwh`create index on src.text_key (at, id)`;
      const keys = [
        'a#b',
        'sync#key',
        `it's "quoted"`,
        'line\nbreak\ttab',
        '["looks","like","json"]',
        'emoji 😀 🇳🇱',
        'bmp end \uFFFD',
        'nul-free \u0001\u001f controls',
        '   spaces   ',
        'zalgo Z̷̢͎͉̈́a̸',
      ];
      for (const [i, k] of keys.entries())
        await stack.dwh`insert into src.text_key values (${k}, ${`name ${k}`}, ${i}, now() - interval '1 min')`;

      const first = await run(SYNCS.textKey);
      await stack.drain();
      const second = await run(SYNCS.textKey);

      expect(first.counts.enqueued).toBe(keys.length);
      expect(second.counts.enqueued).toBe(0);
      const target = await copied('text_key');
      expect([...target.keys()].sort()).toEqual([...keys].sort());
      for (const k of keys) expect(target.get(k)?.name).toBe(`name ${k}`);
    });
  });

  describe('cursors', () => {
    it('reads a timestamp (without time zone) cursor as UTC wall time, microseconds kept', async () => {
      await stack.dwh`create table src.ts_cursor (id int primary key, name text, qty int, at timestamp not null)`;
      await stack.dwh`create index on src.ts_cursor (at, id)`;
      await stack.dwh`insert into src.ts_cursor select i, 'n' || i, i, (now() at time zone 'UTC') - interval '1 hour' + i * interval '1 microsecond' from generate_series(1, 15) i`;

      const first = await run(SYNCS.timestampCursor);
      await stack.dwh`update src.ts_cursor set name = 'late', at = (now() at time zone 'UTC') - interval '1 second' where id = 3`;
      const second = await run(SYNCS.timestampCursor);
      await stack.drain();

      expect(first.counts.read).toBe(15);
      expect(second.counts.read).toBe(1);
      expect((await copied('ts_cursor')).get('3')).toEqual({ name: 'late', qty: 3 });
    });

    it('catches an update made later the same day under a date cursor', async () => {
      await stack.dwh`create table src.date_cursor (id int primary key, name text, qty int, at date not null)`;
      await stack.dwh`create index on src.date_cursor (at, id)`;
      await stack.dwh`insert into src.date_cursor values (1, 'yesterday', 1, current_date - 1), (2, 'morning', 2, current_date)`;

      await run(SYNCS.dateCursor);
      await stack.drain();
      // Same day, same cursor value, behind the bookmark: only re-reading the day finds it.
      await stack.dwh`update src.date_cursor set name = 'afternoon' where id = 2`;
      const second = await run(SYNCS.dateCursor);
      await stack.drain();

      expect(second.counts).toMatchObject({ read: 1, enqueued: 1 });
      expect(await copied('date_cursor')).toEqual(
        new Map([
          ['1', { name: 'yesterday', qty: 1 }],
          ['2', { name: 'afternoon', qty: 2 }],
        ]),
      );
    });

    it('pages an integer cursor beyond 2^53 without losing or repeating rows', async () => {
      await stack.dwh`create table src.int_cursor (id int primary key, name text, qty int, at bigint not null)`;
      await stack.dwh`create index on src.int_cursor (at, id)`;
      await stack.dwh`insert into src.int_cursor select i, 'n' || i, i, 9007199254740990 + i / 4 from generate_series(1, 30) i`;

      const result = await run(SYNCS.intCursor);
      await stack.drain();

      expect(result).toMatchObject({ outcome: 'succeeded', counts: { read: 30, enqueued: 30 } });
      expect(result.bookmarkAfter).toEqual({ cursor: '9007199254740997', key: ['30'] });
      expect((await copied('int_cursor')).size).toBe(30);
    });

    it('sets NULL, infinity and far-future cursors aside by code while the rows after them keep flowing', async () => {
      await stack.dwh`create table src.odd_cursors (id int primary key, name text, qty int, at timestamptz)`;
      await stack.dwh`create index on src.odd_cursors (at, id)`;
      await stack.dwh`
        insert into src.odd_cursors values
          (1, 'old', 1, '-infinity'), (2, 'null', 2, null), (3, 'inf', 3, 'infinity'),
          (4, 'far', 4, '2999-01-01'), (5, 'soon', 5, now() + interval '1 hour'), (6, 'now', 6, now() - interval '1 s')`;

      const first = await run(SYNCS.oddCursors);
      await stack.dwh`insert into src.odd_cursors values (7, 'later', 7, now())`;
      const second = await run(SYNCS.oddCursors);
      await stack.drain();

      expect(first.outcome).toBe('partial');
      expect(first.setAside?.map((s) => [s.code, s.count, s.samples])).toEqual([
        ['WB_SOURCE_CURSOR_NULL', 1, ['2']],
        ['WB_SOURCE_CURSOR_FUTURE', 2, expect.arrayContaining(['3', '4'])],
      ]);
      // The future rows did not carry the bookmark past row 7.
      expect(second.counts.enqueued).toBe(1);
      expect([...(await copied('odd_cursors')).keys()].sort()).toEqual(['1', '6', '7']);
      // Row 5 (an hour ahead: clock skew, not an error) waits for its time and is not set aside.
      expect(JSON.stringify(first.setAside)).not.toContain('"5"');
    });

    it('does not stop on NULL cursors in rows that the where filter excludes', async () => {
      await stack.dwh`create table src.filtered_nulls (id int primary key, name text, qty int, at timestamptz)`;
      await stack.dwh`create index on src.filtered_nulls (at, id)`;
      await stack.dwh`insert into src.filtered_nulls values (1, 'a', 1, now() - interval '1 min'), (2, 'draft', 2, null)`;

      const result = await run(SYNCS.filteredNulls);
      await stack.drain();

      expect(result).toMatchObject({ outcome: 'succeeded', counts: { read: 1 } });
      expect(result.setAside).toBeUndefined();
    });
  });

  it('keeps JSON numbers beyond double precision exact from the warehouse to the target', async () => {
    await stack.dwh`create table src.big_json (id int primary key, doc jsonb, at timestamptz not null)`;
    await stack.dwh`create index on src.big_json (at, id)`;
    const doc =
      '{"id": 12345678901234567890123, "price": 0.1000000000000000055511151231257827, "n": 1.5, "e": 1e2}';
    await stack.dwh`insert into src.big_json values (1, ${doc}::text::jsonb, now() - interval '1 min')`;

    await run(SYNCS.bigJson);
    await stack.drain();

    const written = (await copied('big_json')).get('1')!.name!;
    expect(written).toContain('"id":12345678901234567890123');
    expect(written).toContain('"price":0.1000000000000000055511151231257827');
    expect(written).toContain('"n":1.5');
  });

  it('writes an invoice with 2,000 lines embedded (a payload beyond any SQS message) once, lines in order', async () => {
    await stack.dwh`create table src.big_invoice (id int primary key, name text, qty int, at timestamptz not null)`;
    await stack.dwh`create index on src.big_invoice (at, id)`;
    await stack.dwh`create table src.big_invoice_lines (line_id int primary key, invoice_id int not null, description text, amount numeric, at timestamptz not null)`;
    await stack.dwh`create index on src.big_invoice_lines (at, line_id)`;
    await stack.dwh`create index on src.big_invoice_lines (invoice_id)`;
    await stack.dwh`insert into src.big_invoice values (1, 'INV-1', 0, now() - interval '1 min'), (2, 'INV-2', 0, now() - interval '1 min')`;
    await stack.dwh`
      insert into src.big_invoice_lines
      select j, 1, 'line ' || j || ' ' || repeat('é', 400), j * 1.25, now() - interval '1 min' from generate_series(1, 2000) j`;
    await stack.dwh`insert into src.big_invoice_lines values (9001, 2, 'only line', 1, now() - interval '1 min')`;

    const first = await run(SYNCS.bigInvoice);
    await stack.drain();
    const second = await run(SYNCS.bigInvoice);

    expect(first).toMatchObject({ outcome: 'succeeded', counts: { enqueued: 2 } });
    expect(second.counts.enqueued).toBe(0);
    const [copy] = await billing<
      { parts: string; qty: number }[]
    >`select parts, qty from public.big_invoice_copy where item_id = '1'`;
    const lines = JSON.parse(copy!.parts) as { line_id: number; amount: string }[];
    expect(copy!.qty).toBe(2000);
    expect(lines.map((l) => l.line_id)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    expect(lines[1999]!.amount).toBe('2500.00');
    expect(copy!.parts.length).toBeGreaterThan(800_000);
    expect(writes('big_invoice').created).toBe(2);
  });

  describe('progress and bounded cost', () => {
    it('drains a bulk load over invocations that each read less than the lookback window holds, then reads nothing', async () => {
      await stack.dwh`create table src.bulk_load (id int primary key, name text, qty int, at timestamptz not null)`;
      await stack.dwh`create index on src.bulk_load (at, id)`;
      // 200 rows stamped within one second by one ELT load; a simulated warehouse clock.
      const loadAt = Date.parse('2026-03-01T10:00:00Z');
      await stack.dwh`insert into src.bulk_load select i, 'n' || i, i, ${new Date(loadAt).toISOString()}::timestamptz + (i % 3) * interval '1 ms' from generate_series(1, 200) i`;
      let clock = loadAt + 30_000;
      const sourceClock = () => new Date(clock).toISOString();
      // Each invocation has time for two pages (40 rows), far less than the 2-minute window holds.
      const twoPages = () => {
        let pages = 0;
        return () => (++pages >= 2 ? 0 : 600_000);
      };

      const invocations: RunRecord[] = [];
      do invocations.push(await run(SYNCS.bulkLoad, { sourceClock }, twoPages()));
      while (invocations.at(-1)!.backlog && invocations.length < 20);
      await stack.drain();
      // That pass began within the lookback of the load: rows could still have committed behind it,
      // so the next pass (ten minutes on, with the same small time budget) re-reads the load once…
      clock = loadAt + 10 * 60_000;
      const reread: RunRecord[] = [];
      do reread.push(await run(SYNCS.bulkLoad, { sourceClock }, twoPages()));
      while (reread.at(-1)!.backlog && reread.length < 20);
      // …and began after it: from then on a run reads nothing and looks nothing up.
      clock = loadAt + 20 * 60_000;
      const noOp = await run(SYNCS.bulkLoad, { sourceClock });

      // Every invocation moves on; the last one finds the end of the source.
      expect(invocations.map((r) => r.counts.read)).toEqual([40, 40, 40, 40, 40, 0]);
      expect(reread.reduce((n, r) => n + r.counts.read, 0)).toBe(200);
      expect(reread.reduce((n, r) => n + r.counts.enqueued, 0)).toBe(0);
      expect(noOp.counts).toMatchObject({ read: 0, enqueued: 0 });
      expect((await copied('bulk_load')).size).toBe(200);
      expect(writes('bulk_load').created).toBe(200);
    });

    it('reaches the end of the table with testLimit and a lookback window', async () => {
      await stack.dwh`create table src.test_limit (id int primary key, name text, qty int, at timestamptz not null)`;
      await stack.dwh`create index on src.test_limit (at, id)`;
      await stack.dwh`insert into src.test_limit select i, 'n' || i, i, now() - interval '30 s' from generate_series(1, 25) i`;

      const runs: RunRecord[] = [];
      for (let i = 0; i < 3; i++) runs.push(await run(SYNCS.testLimit));
      await stack.drain();

      expect(runs.map((r) => r.counts.enqueued)).toEqual([10, 10, 5]);
      expect((await copied('test_limit')).size).toBe(25);
    });
  });

  it('reads the same rows and keeps the same bookmark whatever the role and database session settings', async () => {
    await stack.dwh`create table src.session_rows (id int primary key, name text, qty int, at timestamptz not null)`;
    await stack.dwh`create index on src.session_rows (at, id)`;
    await stack.dwh`create schema if not exists shadow`;
    await stack.dwh`create table if not exists shadow.session_rows (id int)`;
    await stack.dwh`insert into src.session_rows select i, 'n' || i, i, '2026-02-03 04:05:06.789012+00'::timestamptz + i * interval '1 us' from generate_series(1, 10) i`;
    const [who] = await stack.dwh<
      { db: string; role: string }[]
    >`select current_database() as db, current_user as role`;
    const { db, role } = who!;
    const settings = `set DateStyle = 'SQL, DMY'; set TimeZone = 'America/St_Johns'; set IntervalStyle = 'sql_standard'; set extra_float_digits = -3; set search_path = shadow`;
    await stack.dwh.unsafe(
      settings
        .split('; ')
        .map((s) => `alter role "${role}" in database "${db}" ${s}`)
        .join('; '),
    );
    const odd = warehousePool(stack.pg.url('dwh'), { max: 1 });
    try {
      const [session] =
        await odd`select current_setting('DateStyle') as ds, current_setting('TimeZone') as tz`;
      const result = await runExtract(
        stack.config.syncs.find((c) => c.name === SYNCS.session.name)!,
        deps(SYNCS.session.name, { sql: odd }),
        {
          runId: crypto.randomUUID(),
          remainingMs: () => 600_000,
        },
      );
      await stack.drain();

      expect(session).toEqual({ ds: 'ISO, YMD', tz: 'UTC' });
      expect(result.bookmarkAfter).toEqual({ cursor: '2026-02-03 04:05:06.789022+00', key: ['10'] });
      expect((await copied('session_rows')).size).toBe(10);
      // Without the pinned session the role's settings apply: the same cursor prints differently.
      const raw = targetPool(stack.pg.url('dwh'), { max: 1 });
      const [plain] = await raw`select at::text as t from src.session_rows where id = 10`;
      await raw.end();
      expect(plain!.t).not.toBe('2026-02-03 04:05:06.789022+00');
    } finally {
      await odd.end();
      await stack.dwh.unsafe(`alter role "${role}" in database "${db}" reset all`);
    }
  });

  describe('config SQL', () => {
    const withWhere = (where: string) => () =>
      validateConfig({
        connections: { copy: { type: 'postgres' } },
        syncs: [{ ...sync('items'), source: { table: 'src.items', key: 'id', cursor: 'at', where } }],
      });
    const errorOf = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        if (err instanceof ConfigValidationError) return err.errors.join('\n');
        throw err;
      }
      return 'accepted';
    };

    it.each([
      ['a trailing comment', 'qty > 0 -- only stocked', /syncs\[items\]\.source\.where: a -- comment/],
      ['a trailing ;', 'qty > 0;', /syncs\[items\]\.source\.where: a ; ends the statement/],
      ['a parenthesis closed early', 'qty > 0) or (true', /syncs\[items\]\.source\.where: a \) closes/],
      ['a parenthesis left open', '(qty > 0', /syncs\[items\]\.source\.where: 1 parenthesis left open/],
      ['an open string', "name = 'x", /syncs\[items\]\.source\.where: a string literal is not closed/],
    ])('refuses a where with %s, naming the field', (_what, where, message) => {
      expect(errorOf(withWhere(where))).toMatch(message);
    });

    it('accepts ; -- and parentheses inside strings, identifiers and block comments', () => {
      expect(errorOf(withWhere(`name <> 'a;b -- c)' and "qty" > 0 /* (note; */ and name <> $$)$$`))).toBe(
        'accepted',
      );
    });

    it('refuses a query with a trailing ; naming the field', () => {
      const fn = () =>
        validateConfig({
          connections: { copy: { type: 'postgres' } },
          syncs: [
            { ...sync('items'), source: { query: 'select * from src.items;', key: 'id', cursor: 'at' } },
          ],
        });
      expect(errorOf(fn)).toMatch(/syncs\[items\]\.source\.query: a ; ends the statement/);
    });
  });
});

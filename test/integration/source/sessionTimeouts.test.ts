import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PostgresTableConnector } from '../../../shared/connectors/postgres/PostgresTableConnector.ts';
import { describeError } from '../../../shared/errors.ts';
import { runExtract } from '../../../shared/extract/runExtract.ts';
import { targetPool, warehousePool } from '../../../shared/postgresPools.ts';
import {
  type ItemsPipeline,
  itemsConfig,
  itemsExtractDeps,
  startItemsPipeline,
} from '../../helpers/itemsPipeline.ts';

/** Rejection of `p`, or a failure when it resolves. */
async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('resolved, but should have failed');
}

describe('Session timeouts: statement_timeout on every connection, lock_timeout on targets', () => {
  let p: ItemsPipeline;
  const config = itemsConfig({ source: { lookback: '0s' } });
  const sync = config.syncs[0]!;

  beforeAll(async () => {
    p = await startItemsPipeline(config);
  });
  afterAll(async () => p?.stop());
  beforeEach(async () => {
    await p.stack.dwh`truncate src.items`;
    await p.stack.state.resetBookmark('items', undefined);
  });

  it('runs the local stack with TLS on: its warehouse connection is encrypted and verified', async () => {
    expect(p.stack.pg.url('dwh')).toMatch(/\?sslmode=verify-full&sslrootcert=/);
    const [row] = await p.stack.dwh<{ ssl: boolean }[]>`
      select ssl from pg_stat_ssl where pid = pg_backend_pid()`;
    expect(row!.ssl).toBe(true);
  });

  it('sets the timeouts at startup: 5 minutes by default, a lock timeout on targets only', async () => {
    const [dwh] = await p.stack.dwh<{ st: string; lt: string }[]>`
      select current_setting('statement_timeout') as st, current_setting('lock_timeout') as lt`;
    expect(dwh).toEqual({ st: '5min', lt: '0' });
    const [target] = await p.target<{ st: string; lt: string }[]>`
      select current_setting('statement_timeout') as st, current_setting('lock_timeout') as lt`;
    expect(target).toEqual({ st: '5min', lt: '30s' });
    // A URL's own setting wins over the pool's.
    const own = targetPool(`${p.stack.pg.url('billing')}&statement_timeout=7s`, { max: 1 });
    try {
      const [s] = await own<{ st: string }[]>`select current_setting('statement_timeout') as st`;
      expect(s!.st).toBe('7s');
    } finally {
      await own.end({ timeout: 1 });
    }
  });

  it('fails a statement past statement_timeout with Postgres 57014 and says so', async () => {
    const sql = warehousePool(p.stack.pg.url('dwh'), { max: 1, timeouts: { statementMs: 200, lockMs: 200 } });
    try {
      const err = await rejection(sql`select pg_sleep(2)`);
      expect(err.code).toBe('57014');
      expect(describeError(err)).toEqual({
        code: 'WB_SQL_TIMEOUT',
        message: 'canceling statement due to statement timeout (Postgres 57014)',
      });
    } finally {
      await sql.end({ timeout: 1 });
    }
  });

  it('ends an extract run whose query runs past statement_timeout failed, with that message, the bookmark kept', async () => {
    await p.stack.dwh`insert into src.items values (1, 'a', 1, '2026-01-01')`;
    const first = await runExtract(sync, itemsExtractDeps(p), { runId: 'first', remainingMs: () => 600_000 });
    expect(first.outcome).toBe('succeeded');
    const before = (await p.stack.state.get('items')).bookmark;
    expect(before).toEqual({ cursor: '2026-01-01 00:00:00+00', key: ['1'] });
    await p.stack.dwh`insert into src.items values (2, 'b', 2, '2026-01-02')`;
    // The same sync read through a query that takes a second a row, on a pool that allows 300 ms.
    const slow = {
      ...sync,
      source: { ...sync.source, table: undefined, query: 'select i.*, pg_sleep(1) as nap from src.items i' },
    };
    const sql = warehousePool(p.stack.pg.url('dwh'), { max: 2, timeouts: { statementMs: 300, lockMs: 300 } });
    try {
      const run = await runExtract(slow, itemsExtractDeps(p, { sql }), {
        runId: 'slow',
        remainingMs: () => 600_000,
      });
      expect(run.outcome).toBe('failed');
      expect(run.message).toBe(
        'WB_SQL_TIMEOUT: canceling statement due to statement timeout (Postgres 57014)',
      );
      expect(run.bookmarkAfter).toEqual(before);
      expect((await p.stack.state.get('items')).bookmark).toEqual(before);
      expect((await p.stack.state.listRuns('items', 1))[0]).toMatchObject({
        runId: 'slow',
        outcome: 'failed',
      });
    } finally {
      await sql.end({ timeout: 1 });
    }
  });

  it('gives up a target write that waits past lock_timeout (55P03) as retryable', async () => {
    const sql = targetPool(p.stack.pg.url('billing'), {
      max: 1,
      timeouts: { statementMs: 5_000, lockMs: 200 },
    });
    const connector = new PostgresTableConnector({ sql, externalIdColumn: 'item_id' });
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    // Another session holds the table, as a long ELT load would.
    const holding = p.target.begin(async (tx) => {
      await tx`lock table public.items_copy in access exclusive mode`;
      locked();
      await released;
    });
    try {
      await isLocked;
      const started = Date.now();
      const [result] = await connector.upsertBatch('public.items_copy', [
        { key: '1', externalId: '1', idempotencyKey: 'k1', payload: { name: 'a', qty: 1 } },
      ]);
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(result).toMatchObject({
        ok: false,
        error: {
          code: 'PG_55P03',
          disposition: 'retryable',
          message: 'canceling statement due to lock timeout',
        },
      });
    } finally {
      release();
      await holding;
      await sql.end({ timeout: 1 });
    }
  });
});

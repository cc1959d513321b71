import postgres, { type Options, type PostgresType, type Sql } from 'postgres';
import { postgresTls } from './postgresTls.ts';
import { warehouseOptions } from './source/warehouseSession.ts';

/**
 * Every postgres.js pool outside the tests is opened here: the warehouse with its pinned session,
 * a Postgres target (and the databases the local runtime administers) with the server's own.
 * Each gets its TLS from its URL (postgresTls: verify-full unless the URL says otherwise) and a
 * statement timeout (and on a target a lock timeout) that the caller sizes for its own budget.
 */
export type PoolOptions = Omit<Options<Record<string, PostgresType>>, 'ssl'> & {
  /** The session's timeouts. @default DEFAULT_TIMEOUTS */
  readonly timeouts?: SessionTimeouts;
};

/** How long one statement may run, and how long it may wait for a lock (targets only). */
export interface SessionTimeouts {
  readonly statementMs: number;
  readonly lockMs: number;
}

/**
 * Outside Lambda (the CLI, the local runtime, benches): five minutes a statement, half a minute
 * for a lock. A URL's own `statement_timeout=…`/`lock_timeout=…` parameter wins over these.
 */
export const DEFAULT_TIMEOUTS: SessionTimeouts = { statementMs: 5 * 60_000, lockMs: 30_000 };

/**
 * The timeouts of a function that has `budgetMs` (its Lambda timeout): a statement stops a
 * fifth of the budget (at least 15 s) before the function would, leaving the handler time to
 * record the failure (a run keeps its bookmark, a record goes back to the queue); a lock wait
 * stops after a quarter of that, at most 30 s. Extract 5 min → 240 s; write 60 s → 45 s, lock 11 s.
 */
export function timeoutsForBudget(budgetMs: number): SessionTimeouts {
  const statementMs = Math.max(1_000, budgetMs - Math.max(15_000, Math.round(budgetMs / 5)));
  return { statementMs, lockMs: Math.min(30_000, Math.round(statementMs / 4)) };
}

/**
 * porsager's advice for serverless: a small pool, idle connections closed (a frozen Lambda
 * container must not hold them open), every connection recycled after half an hour, a bounded
 * connect, and no notices printed. Callers size `max` for their own concurrency.
 */
export const SERVERLESS_POOL = {
  max: 2,
  idle_timeout: 20,
  max_lifetime: 60 * 30,
  connect_timeout: 10,
  onnotice: () => undefined,
} as const satisfies PoolOptions;

/**
 * A pool on the warehouse: the serverless options, then the pinned session and exact JSON of
 * warehouseOptions (cursor values are kept as Postgres text and must read the same everywhere),
 * and a statement timeout.
 */
export function warehousePool(url: string, own: PoolOptions = {}): Sql {
  const { timeouts = DEFAULT_TIMEOUTS, ...options } = own;
  const tls = postgresTls(url, 'warehouse');
  const session = { statement_timeout: timeouts.statementMs, ...options.connection };
  return postgres(tls.url, {
    ...warehouseOptions({ ...SERVERLESS_POOL, ...options, connection: session }),
    ssl: tls.ssl,
  });
}

/**
 * Options for a pool on a Postgres target, or on a database we create and fill (the local
 * runtime's admin and billing databases): the serverless options, the server's own session — no
 * pinned search path, the target's tables are named as its owner configured them — and the
 * statement and lock timeouts.
 */
export function targetOptions(own: PoolOptions = {}): Options<Record<string, PostgresType>> {
  const { timeouts = DEFAULT_TIMEOUTS, ...options } = own;
  return {
    ...SERVERLESS_POOL,
    ...options,
    connection: {
      statement_timeout: timeouts.statementMs,
      lock_timeout: timeouts.lockMs,
      ...options.connection,
    },
  };
}

/** A pool on a Postgres target (see targetOptions), with the TLS its URL asks for. */
export function targetPool(url: string, own: PoolOptions = {}): Sql {
  const tls = postgresTls(url, 'postgres target');
  return postgres(tls.url, { ...targetOptions(own), ssl: tls.ssl });
}

import postgres, { type Options, type PostgresType, type Sql } from 'postgres';
import { warehouseOptions } from './source/warehouseSession.ts';

/**
 * Every postgres.js pool outside the tests is opened here: the warehouse with its pinned session,
 * a Postgres target (and the databases the local runtime administers) with the server's own.
 */
export type PoolOptions = Options<Record<string, PostgresType>>;

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
 * warehouseOptions (cursor values are kept as Postgres text and must read the same everywhere).
 */
export function warehousePool(url: string, own: PoolOptions = {}, searchPath?: string): Sql {
  return postgres(url, warehouseOptions({ ...SERVERLESS_POOL, ...own }, searchPath));
}

/**
 * Options for a pool on a Postgres target, or on a database we create and fill (the local
 * runtime's admin and billing databases): the serverless options and the server's own session —
 * no pinned search path, the target's tables are named as its owner configured them.
 */
export function targetOptions(own: PoolOptions = {}): PoolOptions {
  return { ...SERVERLESS_POOL, ...own };
}

/** A pool on a Postgres target (see targetOptions). */
export function targetPool(url: string, own: PoolOptions = {}): Sql {
  return postgres(url, targetOptions(own));
}

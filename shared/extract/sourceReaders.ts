import type { Sql } from 'postgres';
import type { SyncConfig } from '../config/schema.ts';
import type { ChildReader } from '../source/ChildReader.ts';
import { SourceReader } from '../source/SourceReader.ts';
import { childReadersOf } from './buildMessages.ts';

/**
 * How long the readers of a sync (and the column types they looked up) are kept in a container.
 * A run on a 5-minute schedule otherwise spends two of its statements describing the same table
 * every time; an hour bounds how long a changed column type can go unnoticed by a quiet run (a
 * statement built on a stale type fails, and a failed run forgets the readers at once).
 */
export const READER_TTL_MS = 3_600_000;

export interface SyncReaders {
  readonly source: SourceReader;
  readonly children: readonly ChildReader[];
}

interface Cached extends SyncReaders {
  readonly at: number;
  readonly sync: SyncConfig;
  readonly clock: (() => string) | undefined;
}

/** Per pool (a container's warehouse pool), per sync name. */
const cache = new WeakMap<Sql, Map<string, Cached>>();

/**
 * The sync's source and child readers, kept per container for READER_TTL_MS: their column types
 * are looked up once, not on every run. A different config object (a redeploy, a test's own
 * config) or clock gets new readers.
 */
export function sourceReaders(
  sql: Sql,
  sync: SyncConfig,
  now: number,
  clock: (() => string) | undefined,
): SyncReaders {
  let bySync = cache.get(sql);
  if (!bySync) {
    bySync = new Map();
    cache.set(sql, bySync);
  }
  const hit = bySync.get(sync.name);
  if (hit && hit.sync === sync && hit.clock === clock && now - hit.at < READER_TTL_MS) return hit;
  const fresh: Cached = {
    source: new SourceReader(sql, sync.name, sync.source, clock ? { clock } : {}),
    children: childReadersOf(sql, sync),
    at: now,
    sync,
    clock,
  };
  bySync.set(sync.name, fresh);
  return fresh;
}

/** Forgets a sync's readers (after a failed run: the source may have changed under them). */
export function forgetSourceReaders(sql: Sql, sync: SyncConfig): void {
  cache.get(sql)?.delete(sync.name);
}

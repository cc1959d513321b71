import type { Sql } from 'postgres';
import { LocalStack, type LocalStackOptions } from '../../local/LocalStack.ts';
import type { SyncInput, WritebackConfig } from '../../shared/config/schema.ts';
import { validateConfig } from '../../shared/config/validateConfig.ts';
import type { ExtractDeps } from '../../shared/extract/runExtract.ts';
import { targetPool } from '../../shared/postgresPools.ts';

/**
 * A small pipeline for extract tests: `src.items` in the warehouse → table `public.items_copy`
 * in the local billing database (a Postgres target), one sync named `items`.
 */
export function itemsConfig(
  over: Partial<Omit<SyncInput, 'source'>> & { source?: Partial<SyncInput['source']> } = {},
): WritebackConfig {
  const { source, ...rest } = over;
  return validateConfig({
    connections: { copy: { type: 'postgres' } },
    syncs: [
      {
        name: 'items',
        source: { table: 'src.items', key: 'id', cursor: 'loaded_at', pageSize: 50, ...source },
        target: { connection: 'copy', object: 'public.items_copy', externalId: 'item_id' },
        map: (row: Record<string, unknown>) => ({ name: row.name, qty: row.qty }),
        batchSize: 100,
        ...rest,
      },
    ],
  });
}

export interface ItemsPipeline {
  readonly stack: LocalStack;
  /** The target database (where items_copy lives). */
  readonly target: Sql;
  /** Target rows by external id. */
  targetRows(): Promise<Map<string, { name: string | null; qty: number | null }>>;
  stop(): Promise<void>;
}

export async function startItemsPipeline(
  config: WritebackConfig,
  opts: Partial<LocalStackOptions> = {},
): Promise<ItemsPipeline> {
  const stack = await LocalStack.start({ config, ...opts });
  await stack.dwh`create schema if not exists src`;
  await stack.dwh`create table if not exists src.items (id int primary key, name text, qty int, loaded_at timestamptz not null)`;
  await stack.dwh`create index if not exists items_sync_idx on src.items (loaded_at, id)`;
  const target = targetPool(stack.pg.url('billing'), { max: 2 });
  await target`create table if not exists public.items_copy (item_id text primary key, name text, qty int, parts text, owner_ref text)`;
  return {
    stack,
    target,
    targetRows: async () => {
      const rows = await target<{ item_id: string; name: string | null; qty: number | null }[]>`
        select item_id, name, qty from public.items_copy`;
      return new Map(rows.map((r) => [r.item_id, { name: r.name, qty: r.qty }]));
    },
    stop: async () => {
      await target.end();
      await stack.stop();
    },
  };
}

/** What runExtract needs to run the `items` sync on this pipeline (its queue), plus `extra`. */
export function itemsExtractDeps(p: ItemsPipeline, extra: Partial<ExtractDeps> = {}): ExtractDeps {
  return {
    sql: p.stack.dwh,
    state: p.stack.state,
    links: p.stack.links,
    // With the stack's claim checks: rows too large for an SQS message travel through S3.
    enqueuer: p.stack.enqueuer('items'),
    now: Date.now,
    ...extra,
  };
}

/** Rows 1..n of src.items: named `<prefix><i>`, quantity i, loaded one a second after 2026-01-01. */
export async function insertItems(p: ItemsPipeline, n: number, prefix = 'item '): Promise<void> {
  await p.stack
    .dwh`insert into src.items select i, ${prefix}::text || i, i, '2026-01-01'::timestamptz + i * interval '1 s' from generate_series(1, ${n}) i`;
}

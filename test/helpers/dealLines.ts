import { LocalStack } from '../../local/LocalStack.ts';
import type { Row, SyncInput, WritebackConfig } from '../../shared/config/schema.ts';

/** HubSpot deals from `src.deals`. */
export const DEALS_SYNC: SyncInput = {
  name: 'deals',
  source: { table: 'src.deals', key: 'id', cursor: 'loaded_at' },
  target: { connection: 'hubspot', object: 'deals', externalId: 'dwh_deal_id' },
  map: (row: Row) => ({ dealname: row.name, amount: row.amount }),
};

/** HubSpot line items from `src.deal_lines`, each associated with its deal (`deal-lines`). */
export function dealLinesSync(extra: Partial<SyncInput> = {}): SyncInput {
  return {
    name: 'deal-lines',
    parent: { sync: 'deals', key: 'deal_id' },
    source: { table: 'src.deal_lines', key: 'id', cursor: 'loaded_at' },
    target: {
      connection: 'hubspot',
      object: 'line_items',
      externalId: 'dwh_line_id',
      associate: { with: 'deals' },
    },
    map: (row: Row) => ({ name: row.name, quantity: row.quantity, price: row.price }),
    maxReceiveCount: 20,
    ...extra,
  };
}

/**
 * A local stack for deals and their line items in HubSpot (`src.deals`: 5 deals; `src.deal_lines`:
 * 15 lines, line j belonging to deal 1 + j % 5), with the HubSpot fake unthrottled and the writers
 * started. The config names the syncs (a deals sync and a line items sync associated with it).
 */
export async function startDealLinesStack(config: WritebackConfig): Promise<LocalStack> {
  const stack = await LocalStack.start({
    config,
    queueVisibilitySeconds: 2,
    hubspot: {
      rateLimit: false,
      objects: {
        deals: { uniqueProperties: ['dwh_deal_id'] },
        line_items: { uniqueProperties: ['dwh_line_id'] },
      },
    },
  });
  await stack.dwh`create schema src`;
  await stack.dwh`create table src.deals (id int primary key, name text, amount int, loaded_at timestamptz not null)`;
  await stack.dwh`create index on src.deals (loaded_at, id)`;
  await stack.dwh`create table src.deal_lines (id int primary key, deal_id int, name text, quantity int, price int, loaded_at timestamptz not null)`;
  await stack.dwh`create index on src.deal_lines (loaded_at, id)`;
  await stack.dwh`insert into src.deals select i, 'deal ' || i, i * 100, '2026-01-01'::timestamptz + i * interval '1 s' from generate_series(1, 5) i`;
  await stack.dwh`insert into src.deal_lines select j, 1 + j % 5, 'line ' || j, j, 10, '2026-01-01'::timestamptz + j * interval '1 s' from generate_series(1, 15) j`;
  stack.startWriters();
  return stack;
}

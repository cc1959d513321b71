import { describe, expect, it } from 'vitest';
import type { SyncConfig } from '../../../shared/config/schema.ts';
import { orderSyncs } from '../../../shared/config/syncGraph.ts';

const sync = (name: string, parent?: string) =>
  ({ name, ...(parent ? { parent: { sync: parent, key: 'k' } } : {}) }) as SyncConfig;

describe('Function: orderSyncs', () => {
  it('puts every parent before its children, whatever the config order', () => {
    const { order, cycles } = orderSyncs([
      sync('lines', 'invoices'),
      sync('invoices', 'customers'),
      sync('customers'),
      sync('other'),
    ]);
    expect(order.map((s) => s.name)).toEqual(['customers', 'invoices', 'lines', 'other']);
    expect(cycles).toEqual([]);
  });

  it('reports a cycle as its chain of names', () => {
    expect(orderSyncs([sync('a', 'c'), sync('b', 'a'), sync('c', 'b')]).cycles).toEqual([
      ['a', 'c', 'b', 'a'],
    ]);
  });
});

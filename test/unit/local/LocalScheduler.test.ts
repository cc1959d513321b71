import { afterEach, describe, expect, it } from 'vitest';
import { LocalScheduler } from '../../../local/LocalScheduler.ts';
import type { SyncConfig } from '../../../shared/config/schema.ts';
import type { RunRecord } from '../../../shared/state/RunRecord.ts';

const sync = (name: string, schedule: string, parent?: string) =>
  ({
    name,
    schedule,
    enabled: true,
    ...(parent ? { parent: { sync: parent, key: 'k' } } : {}),
  }) as SyncConfig;

describe('Class: LocalScheduler', () => {
  let scheduler: LocalScheduler | undefined;
  afterEach(async () => scheduler?.stop());

  it('runs a child sharing its parent schedule after the parent in the same tick, others on their own', async () => {
    const order: string[] = [];
    let backlogs = 1;
    scheduler = new LocalScheduler({
      syncs: [
        sync('invoices', 'rate(5 minutes)', 'customers'),
        sync('customers', 'rate(5 minutes)'),
        sync('notes', 'rate(1 hour)', 'customers'),
      ],
      run: async (name) => {
        order.push(name);
        await new Promise((r) => setTimeout(r, 5));
        // the parent's first run stops with a backlog: it continues before the child starts
        const backlog = name === 'customers' && backlogs-- > 0;
        return { sync: name, backlog } as RunRecord;
      },
    });
    scheduler.start();
    await scheduler.idle();
    expect(order.filter((n) => n !== 'notes')).toEqual(['customers', 'customers', 'invoices']);
    expect(order).toContain('notes');
  });
});

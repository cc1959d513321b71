import { touchCustomers } from '../local/demoData.ts';
import { warehousePool } from '../shared/postgresPools.ts';
import { readDemoState } from './demoState.ts';

export async function runDemoTouch(count: number): Promise<void> {
  const state = readDemoState();
  // The demo warehouse: edited with the session every warehouse connection has.
  const sql = warehousePool(state.dwhUrl, { max: 1 });
  try {
    const ids = await touchCustomers(sql, count);
    process.stdout.write(
      `edited ${ids.length} customer(s) in crm.customers: ${ids.join(', ')}\n` +
        'the next crm-customers run writes exactly these to HubSpot; watch the demo output.\n',
    );
  } finally {
    await sql.end();
  }
}

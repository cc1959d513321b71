import postgres from 'postgres';
import { touchCustomers } from '../local/demoData.ts';
import { readDemoState } from './demoState.ts';

export async function runDemoTouch(count: number): Promise<void> {
  const state = readDemoState();
  const sql = postgres(state.dwhUrl, { max: 1, onnotice: () => undefined });
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

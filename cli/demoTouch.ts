import { touchPairContacts } from '../local/demoApps.ts';
import { touchCustomers } from '../local/demoData.ts';
import { UsageError } from '../shared/ops/errors.ts';
import { warehousePool } from '../shared/postgresPools.ts';
import { readDemoState } from './demoState.ts';

export interface DemoTouchOptions {
  /** Customers to edit in the warehouse (when no app is named). */
  readonly count: number;
  /** The two-way pair's contacts to edit in HubSpot, in Xero, or in both. */
  readonly hubspot?: number;
  readonly xero?: number;
  readonly both?: number;
}

export async function runDemoTouch(opts: DemoTouchOptions): Promise<void> {
  const state = readDemoState();
  // The demo warehouse: edited with the session every warehouse connection has.
  const sql = warehousePool(state.dwhUrl, { max: 1 });
  try {
    const inApps = (['hubspot', 'xero', 'both'] as const).filter((w) => opts[w] !== undefined);
    if (inApps.length === 0) {
      const ids = await touchCustomers(sql, opts.count);
      process.stdout.write(
        `edited ${ids.length} customer(s) in crm.customers: ${ids.join(', ')}\n` +
          'the next crm-customers run writes exactly these to HubSpot; watch the demo output.\n',
      );
      return;
    }
    if (!state.xero || !state.hubspotToken) {
      throw new UsageError(
        'the running demo has no Xero or HubSpot fake to edit in (start it with `./dev start`)',
      );
    }
    const apps = {
      hubspot: { url: state.hubspotUrl, token: state.hubspotToken },
      xero: state.xero,
    };
    for (const where of inApps) {
      const lines = await touchPairContacts(sql, apps, where, opts[where]!);
      for (const line of lines) process.stdout.write(`edited ${line}\n`);
    }
    process.stdout.write(
      "the pair's next runs carry each edit to the other app once (after the ELT stand-in loads it), and settle its echo without a call; watch contacts-to-hubspot and contacts-to-xero in the demo output.\n",
    );
  } finally {
    await sql.end();
  }
}

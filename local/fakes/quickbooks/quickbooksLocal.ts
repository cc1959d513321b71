import type { LocalConnector } from '../LocalConnector.ts';
import { startQuickBooksFake } from './QuickBooksFake.ts';

const BATCH = { method: 'POST', path: /\/batch$/ };

/** QuickBooks Online locally: its fake (one company), started by the stack when a connection needs it. */
export const quickbooksLocal: LocalConnector = {
  type: 'quickbooks',
  startFake: async () => {
    const fake = await startQuickBooksFake({ rateLimit: false });
    return {
      creds: { token: fake.accessToken, realmId: fake.realmId, baseUrl: fake.url },
      faults: {
        rateLimitNext: (seconds) => fake.failNext(1, 429, { match: BATCH, retryAfterSeconds: seconds }),
        serverErrorNext: (status) => fake.failNext(1, status, { match: BATCH }),
      },
      reset: async () => fake.reset(),
      stop: () => fake.stop(),
    };
  },
};

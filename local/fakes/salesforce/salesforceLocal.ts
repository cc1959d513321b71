import type { LocalConnector } from '../LocalConnector.ts';
import { startSalesforceFake } from './SalesforceFake.ts';

const UPSERT = { method: 'PATCH', path: '/composite/sobjects/' };

/** Salesforce locally: a fake org for the contract kit (the local stack starts one when a connection needs it). */
export const salesforceLocal: LocalConnector = {
  type: 'salesforce',
  startFake: async () => {
    const fake = await startSalesforceFake({ dailyLimit: false });
    return {
      creds: { token: fake.accessToken, baseUrl: fake.url },
      faults: {
        // Salesforce's limit answer: 403 REQUEST_LIMIT_EXCEEDED (the connector waits its window out).
        rateLimitNext: () => fake.failNext(1, 403, { match: UPSERT }),
        serverErrorNext: (status) => fake.failNext(1, status, { match: UPSERT }),
      },
      reset: async () => fake.reset(),
      stop: () => fake.stop(),
    };
  },
};

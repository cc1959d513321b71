import type { LocalConnector } from '../LocalConnector.ts';
import { startXeroFake } from './XeroFake.ts';

const WRITES = { method: 'POST', path: '/api.xro/2.0/' };

/** Xero locally: the stack's Xero fake (one organisation). No local loader of its copies yet. */
export const xeroLocal: LocalConnector = {
  type: 'xero',
  startFake: async () => {
    const fake = await startXeroFake({ rateLimit: false });
    return {
      creds: { token: fake.accessToken, tenantId: fake.tenantId, baseUrl: fake.url },
      faults: {
        rateLimitNext: (seconds) =>
          fake.failNext(1, 429, {
            match: WRITES,
            headers: { 'Retry-After': String(seconds), 'X-Rate-Limit-Problem': 'minute' },
          }),
        serverErrorNext: (status) => fake.failNext(1, status, { match: WRITES }),
      },
      reset: async () => fake.reset(),
      stop: () => fake.stop(),
    };
  },
  credentials: (_connection, { xero }) => ({
    token: xero.accessToken,
    baseUrl: xero.url,
    tenantId: xero.tenantId,
  }),
};

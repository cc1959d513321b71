import type { LocalConnector } from '../LocalConnector.ts';
import { startStripeFake } from './StripeFake.ts';

const WRITES = { method: 'POST', path: /^\/v1\/customers/ };

/** Stripe locally: a fake account for the contract kit (the local stack starts one when a connection needs it). */
export const stripeLocal: LocalConnector = {
  type: 'stripe',
  startFake: async () => {
    const fake = await startStripeFake({ rateLimit: false });
    return {
      creds: { token: fake.apiKey, baseUrl: fake.url },
      faults: {
        rateLimitNext: (seconds) =>
          fake.failNext(1, 429, { match: WRITES, headers: { 'Retry-After': String(seconds) } }),
        serverErrorNext: (status) => fake.failNext(1, status, { match: WRITES }),
      },
      reset: async () => fake.reset(),
      stop: () => fake.stop(),
    };
  },
};

import type { LocalConnector } from '../LocalConnector.ts';
import { startHttpApiFake } from './HttpApiFake.ts';

/** Writes of either shape: POST /api/{object}/batch and PUT /api/{object}/{externalId} (reads have other paths). */
const WRITES = { path: /^\/api\/[^/]+\/[^/]+$/ };

/** The generic HTTP connector locally: a typical REST API's fake (HttpApiFake), started by the stack when a connection needs it. */
export const httpApiLocal: LocalConnector = {
  type: 'http',
  startFake: async () => {
    const fake = await startHttpApiFake();
    return {
      creds: { token: fake.token, baseUrl: fake.url },
      faults: {
        rateLimitNext: (seconds) => fake.failNext(1, 429, { match: WRITES, retryAfterSeconds: seconds }),
        serverErrorNext: (status) => fake.failNext(1, status, { match: WRITES }),
      },
      reset: async () => fake.reset(),
      stop: () => fake.stop(),
    };
  },
};

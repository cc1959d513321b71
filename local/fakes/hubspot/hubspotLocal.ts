import { loadHubSpotCopy } from '../../loadTargetCopies.ts';
import type { LocalConnector } from '../LocalConnector.ts';
import { startHubSpotFake } from './HubSpotFake.ts';

const UPSERT = { method: 'POST', path: /\/batch\/upsert$/ };

/** HubSpot locally: the stack's HubSpot fake; copies loaded from its store or its list API. */
export const hubspotLocal: LocalConnector = {
  type: 'hubspot',
  startFake: async () => {
    const fake = await startHubSpotFake({ token: 'pat-contract-token', rateLimit: false });
    return {
      creds: { token: 'pat-contract-token', baseUrl: fake.url },
      faults: {
        rateLimitNext: (seconds) => fake.failNext(1, 429, { match: UPSERT, retryAfterSeconds: seconds }),
        serverErrorNext: (status) => fake.failNext(1, status, { match: UPSERT }),
      },
      reset: async () => fake.reset(),
      stop: () => fake.stop(),
    };
  },
  credentials: (_connection, services) => ({ token: services.hubspot.token, baseUrl: services.hubspot.url }),
  readBack: async ({ dwh, sync, table, sources }) => {
    if (!sources.hubspot) return undefined;
    const object = sync.target.object;
    const spec = sync.target.associate;
    const column = sync.verify?.parentColumn;
    const associations =
      spec && column && sources.hubspotAssociations
        ? { column, read: sources.hubspotAssociations(object, spec.with) }
        : undefined;
    const records = await loadHubSpotCopy(dwh, sources.hubspot(object), object, table, associations);
    return { records, from: `HubSpot ${object}` };
  },
};

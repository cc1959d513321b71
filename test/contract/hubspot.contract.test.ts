import { startHubSpotFake } from '../../local/fakes/hubspot/HubSpotFake.ts';
import { HubSpotConnector } from '../../shared/connectors/hubspot/HubSpotConnector.ts';
import { describeConnectorContract } from './connectorContract.ts';

const TOKEN = 'pat-contract-token';
const UPSERT = { method: 'POST', path: '/crm/v3/objects/contacts/batch/upsert' };

describeConnectorContract('HubSpot contacts', async () => {
  const fake = await startHubSpotFake({ token: TOKEN, rateLimit: false });
  const make = (timeoutMs?: number) =>
    new HubSpotConnector({
      baseUrl: fake.url,
      token: TOKEN,
      idProperty: 'dwh_customer_id',
      readProperties: ['firstname', 'lastname', 'email'],
      // Pacing is the rate-limit test's subject; here a 429's penalty would hold the next test back.
      rateLimit: false,
      ...(timeoutMs ? { timeoutMs, retry: false } : {}),
    });
  return {
    connector: make(),
    impatient: make(150),
    object: 'contacts',
    valid: (i) => ({ firstname: `First ${i}`, lastname: `Last ${i}`, email: `u${i}@example.com` }),
    invalid: () => ({ firstname: 'Broken', email: 'not-an-email' }),
    clearable: 'lastname',
    inject429: (seconds) => fake.failNext(1, 429, { match: UPSERT, retryAfterSeconds: seconds }),
    slowWrite: () => fake.delayNext(1, 600, { match: UPSERT, applyFirst: true }),
    settle: () => fake.settled(),
    count: async (ext) => fake.findRecords('contacts', 'dwh_customer_id', ext).length,
    read: async (ext, field) => fake.findRecords('contacts', 'dwh_customer_id', ext)[0]?.properties[field],
    reset: async () => fake.reset(),
    stop: () => fake.stop(),
  };
});

import { startStripeFake } from '../../local/fakes/stripe/StripeFake.ts';
import { StripeConnector } from '../../shared/connectors/stripe/StripeConnector.ts';
import { describeConnectorContract } from './connectorContract.ts';

const CREATE = { method: 'POST', path: /^\/v1\/customers$/ };

describeConnectorContract('Stripe customers', async () => {
  const fake = await startStripeFake({ rateLimit: false });
  const base = { baseUrl: fake.url, apiKey: fake.apiKey, rateLimit: false } as const;
  return {
    connector: new StripeConnector(base),
    impatient: new StripeConnector({ ...base, timeoutMs: 150, retry: false }),
    object: 'customers',
    valid: (i) => ({ name: `Customer ${i}`, email: `u${i}@example.com`, description: `note ${i}` }),
    invalid: () => ({ name: 'Broken', email: 'not-an-email' }),
    clearable: 'description',
    inject429: (seconds) =>
      fake.failNext(1, 429, { match: CREATE, headers: { 'Retry-After': String(seconds) } }),
    slowWrite: () => fake.delayNext(1, 600, { match: CREATE, applyFirst: true }),
    settle: () => fake.settled(),
    count: async (ext) => fake.byMetadata('customers', 'writeback_id', ext).length,
    read: async (ext, field) => fake.byMetadata('customers', 'writeback_id', ext)[0]?.[field],
    reset: async () => fake.reset(),
    stop: () => fake.stop(),
  };
});

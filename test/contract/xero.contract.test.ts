import { startXeroFake } from '../../local/fakes/xero/XeroFake.ts';
import { XeroConnector } from '../../shared/connectors/xero/XeroConnector.ts';
import { describeConnectorContract } from './connectorContract.ts';

const CONTACTS = { method: 'POST', path: '/api.xro/2.0/Contacts' };

describeConnectorContract('Xero contacts', async () => {
  const fake = await startXeroFake({ rateLimit: false });
  const base = {
    baseUrl: fake.url,
    tenantId: fake.tenantId,
    accessToken: fake.accessToken,
    rateLimit: false,
  } as const;
  return {
    connector: new XeroConnector(base),
    impatient: new XeroConnector({ ...base, timeoutMs: 150, retry: false }),
    object: 'Contacts',
    valid: (i) => ({ Name: `Contact ${i}`, FirstName: `First ${i}`, EmailAddress: `u${i}@example.com` }),
    invalid: (i) => ({ Name: `Broken ${i}`, EmailAddress: 'not-an-email' }),
    clearable: 'FirstName',
    inject429: (seconds) =>
      fake.failNext(1, 429, {
        match: CONTACTS,
        headers: { 'Retry-After': String(seconds), 'X-Rate-Limit-Problem': 'minute' },
      }),
    slowWrite: () => fake.delayNext(1, 600, { match: CONTACTS, applyFirst: true }),
    settle: () => fake.settled(),
    count: async (ext) => fake.contactsByNumber(ext).length,
    read: async (ext, field) => fake.contactsByNumber(ext)[0]?.[field],
    reset: async () => fake.reset(),
    stop: () => fake.stop(),
  };
});

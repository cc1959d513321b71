import { startSalesforceFake } from '../../local/fakes/salesforce/SalesforceFake.ts';
import { SalesforceConnector } from '../../shared/connectors/salesforce/SalesforceConnector.ts';
import { describeConnectorContract } from './connectorContract.ts';

const UPSERT = { method: 'PATCH', path: '/composite/sobjects/Contact/Ext_Id__c' };

describeConnectorContract('Salesforce Contact', async () => {
  const fake = await startSalesforceFake();
  const base = {
    instanceUrl: fake.url,
    accessToken: fake.accessToken,
    externalIdField: 'Ext_Id__c',
    readFields: ['LastName', 'FirstName', 'Email'],
    rateLimit: false,
  } as const;
  return {
    connector: new SalesforceConnector(base),
    impatient: new SalesforceConnector({ ...base, timeoutMs: 150, retry: false }),
    object: 'Contact',
    valid: (i) => ({ LastName: `Last ${i}`, FirstName: `First ${i}`, Email: `u${i}@example.com` }),
    invalid: () => ({ LastName: 'Broken', Email: 'not-an-email' }),
    clearable: 'FirstName',
    // Salesforce's limit answer: 403 REQUEST_LIMIT_EXCEEDED "TotalRequests Limit exceeded." (wait an hour).
    inject429: () => fake.failNext(1, 403, { match: UPSERT }),
    slowWrite: () => fake.delayNext(1, 600, { match: UPSERT, applyFirst: true }),
    settle: () => fake.settled(),
    count: async (ext) => fake.findBy('Contact', 'Ext_Id__c', ext).length,
    read: async (ext, field) => fake.findBy('Contact', 'Ext_Id__c', ext)[0]?.[field],
    reset: async () => fake.reset(),
    stop: () => fake.stop(),
  };
});

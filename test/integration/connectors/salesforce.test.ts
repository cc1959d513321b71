import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  SALESFORCE_FAKE_CLIENT_ID,
  SALESFORCE_FAKE_CLIENT_SECRET,
  type SalesforceFake,
  startSalesforceFake,
} from '../../../local/fakes/salesforce/SalesforceFake.ts';
import type { UpsertRecord } from '../../../shared/connectors/Connector.ts';
import { SalesforceConnector } from '../../../shared/connectors/salesforce/SalesforceConnector.ts';
import { failure, success } from '../../helpers/connectorResults.ts';

const UPSERT = { method: 'PATCH', path: '/composite/sobjects/Account/Ext_Id__c' };

const rec = (key: string, payload: Record<string, unknown>): UpsertRecord => ({
  key,
  externalId: `A-${key}`,
  idempotencyKey: `accounts:${key}:1`,
  payload,
});

describe('SalesforceConnector against the Salesforce fake', () => {
  let fake: SalesforceFake;
  let sf: SalesforceConnector;

  beforeAll(async () => {
    fake = await startSalesforceFake({ dailyLimit: 5 });
    sf = new SalesforceConnector({
      instanceUrl: fake.url,
      accessToken: fake.accessToken,
      externalIdField: { Account: 'Ext_Id__c' },
      readFields: ['Name', 'Phone'],
      rateLimit: false,
      retry: false,
    });
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.reset());

  it('upserts through sObject Collections with allOrNone false and the External ID in the path', async () => {
    const [first] = await sf.upsertBatch('Account', [rec('1', { Name: 'Acme', Phone: '555' })]);
    const [second] = await sf.upsertBatch('Account', [rec('1', { Name: 'Acme Corp', Phone: null })]);

    expect(success(first).created).toBe(true);
    expect(success(second)).toMatchObject({ created: false, targetId: success(first).targetId });
    expect(fake.findBy('Account', 'Ext_Id__c', 'A-1')).toEqual([
      { Id: success(first).targetId, Name: 'Acme Corp', Ext_Id__c: 'A-1' },
    ]);
    expect(fake.calls(UPSERT)[0]?.path).toBe('/services/data/v62.0/composite/sobjects/Account/Ext_Id__c');
  });

  it('maps each record error to its record: REQUIRED_FIELD_MISSING is permanent, the others land', async () => {
    const results = await sf.upsertBatch('Account', [
      rec('1', { Name: 'Acme' }),
      rec('2', { Phone: '1' }),
      rec('3', { Name: 'Beta' }),
    ]);

    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(failure(results[1])).toMatchObject({ code: 'SALESFORCE_RECORD_ERROR', disposition: 'permanent' });
    expect(failure(results[1]).message).toContain(
      'REQUIRED_FIELD_MISSING: Required fields are missing: [Name]',
    );
  });

  it('treats REQUEST_LIMIT_EXCEEDED (403, the 24-hour allocation) as retryable after an hour', async () => {
    for (let i = 0; i < 5; i++) await sf.upsertBatch('Account', [rec(String(i), { Name: `N${i}` })]);

    const [r] = await sf.upsertBatch('Account', [rec('9', { Name: 'late' })]);

    expect(failure(r)).toMatchObject({
      code: 'SALESFORCE_REQUEST_LIMIT_EXCEEDED',
      disposition: 'retryable',
      httpStatus: 403,
      retryAfterSeconds: 3600,
    });
    expect(failure(r).message).toContain('TotalRequests Limit exceeded.');
  });

  it('refuses an unknown field as a whole-call permanent error', async () => {
    const [r] = await sf.upsertBatch('Account', [rec('1', { Name: 'A', Colour__c: 'red' })]);
    expect(failure(r)).toMatchObject({
      code: 'SALESFORCE_REQUEST_REJECTED',
      disposition: 'permanent',
      httpStatus: 400,
    });
    expect(failure(r).message).toContain("No such column 'Colour__c' on sobject of type Account");
  });

  it('looks up by External ID, gets by Id and lists with SOQL', async () => {
    const [w] = await sf.upsertBatch('Account', [rec('1', { Name: 'Acme' })]);

    expect(await sf.lookup('Account', 'A-1')).toMatchObject({
      targetId: success(w).targetId,
      externalId: 'A-1',
      fields: { Name: 'Acme' },
    });
    expect(await sf.lookup('Account', 'A-404')).toBeUndefined();
    expect((await sf.get('Account', success(w).targetId))?.externalId).toBe('A-1');
    const seen = [];
    for await (const r of sf.list('Account')) seen.push(r.externalId);
    expect(seen).toEqual(['A-1']);
  });

  it('pauses the connection on REQUEST_LIMIT_EXCEEDED and hands the next records back without a call', async () => {
    const paced = new SalesforceConnector({
      instanceUrl: fake.url,
      accessToken: fake.accessToken,
      externalIdField: 'Ext_Id__c',
      limiterKey: 'sf-test-penalty',
    });
    fake.failNext(1, 403, { match: UPSERT });

    const [limited] = await paced.upsertBatch('Account', [rec('1', { Name: 'A' })]);
    const [held] = await paced.upsertBatch('Account', [rec('2', { Name: 'B' })]);

    expect(failure(limited).code).toBe('SALESFORCE_REQUEST_LIMIT_EXCEEDED');
    expect(failure(held)).toMatchObject({ code: 'SALESFORCE_RATE_LIMITED', disposition: 'retryable' });
    expect(fake.callCount(UPSERT)).toBe(1);
  });
});

describe('SalesforceConnector with the client-credentials flow', () => {
  let fake: SalesforceFake;
  beforeAll(async () => {
    fake = await startSalesforceFake();
  });
  afterAll(() => fake.stop());

  it('gets a token with client_id and client_secret in the form and writes with it', async () => {
    const sf = new SalesforceConnector({
      instanceUrl: fake.url,
      clientId: SALESFORCE_FAKE_CLIENT_ID,
      clientSecret: SALESFORCE_FAKE_CLIENT_SECRET,
      externalIdField: 'Ext_Id__c',
      rateLimit: false,
    });

    const [r] = await sf.upsertBatch('Account', [rec('1', { Name: 'Acme' })]);

    expect(success(r).created).toBe(true);
    expect(fake.callCount({ path: '/services/oauth2/token' })).toBe(1);
  });

  it('answers allOrNone true by rolling every record back when one fails', async () => {
    const res = await fetch(`${fake.url}/services/data/v62.0/composite/sobjects/Account/Ext_Id__c`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${fake.accessToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        allOrNone: true,
        records: [
          { attributes: { type: 'Account' }, Ext_Id__c: 'x1', Name: 'Good' },
          { attributes: { type: 'Account' }, Ext_Id__c: 'x2' },
        ],
      }),
    });

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([
      expect.objectContaining({
        success: false,
        errors: [expect.objectContaining({ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK' })],
      }),
      expect.objectContaining({
        success: false,
        errors: [expect.objectContaining({ statusCode: 'REQUIRED_FIELD_MISSING' })],
      }),
    ]);
    expect(fake.findBy('Account', 'Ext_Id__c', 'x1')).toHaveLength(0);
  });
});

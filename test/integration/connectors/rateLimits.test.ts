import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainBacklog, maxInAnyWindow } from '../../../local/drainBacklog.ts';
import { type HubSpotFake, startHubSpotFake } from '../../../local/fakes/hubspot/HubSpotFake.ts';
import { startSalesforceFake } from '../../../local/fakes/salesforce/SalesforceFake.ts';
import { startStripeFake } from '../../../local/fakes/stripe/StripeFake.ts';
import { startXeroFake, type XeroFake } from '../../../local/fakes/xero/XeroFake.ts';
import type { UpsertRecord } from '../../../shared/connectors/Connector.ts';
import { HubSpotConnector } from '../../../shared/connectors/hubspot/HubSpotConnector.ts';
import { SalesforceConnector } from '../../../shared/connectors/salesforce/SalesforceConnector.ts';
import { StripeConnector } from '../../../shared/connectors/stripe/StripeConnector.ts';
import { XeroConnector } from '../../../shared/connectors/xero/XeroConnector.ts';

/*
 * Several writers on one machine share a connection's limiter (RateLimiter.shared, keyed by the
 * connection) and drain a backlog against fakes that enforce the vendor's windows. Time is
 * compressed (a one-second "ten-secondly" or "minute" window) so the test stays short; the
 * limits are the vendors' own counts.
 */

const backlog = (n: number, payload: (i: number) => Record<string, unknown>): UpsertRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    key: String(i),
    externalId: `R-${i}`,
    idempotencyKey: `rl:${i}:1`,
    payload: payload(i),
  }));

describe('Rate limits with several concurrent writers', () => {
  let hubspot: HubSpotFake;
  let xero: XeroFake;

  beforeAll(async () => {
    [hubspot, xero] = await Promise.all([
      startHubSpotFake({ token: 'pat-rl', rateLimit: { max: 10, intervalMs: 1_000 } }),
      startXeroFake({ rateLimit: { perMinute: 10, minuteMs: 1_000, concurrent: 5 } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([hubspot.stop(), xero.stop()]);
  });

  it('HubSpot: 4 writers stay within the rolling window and land all 600 records, without a 429', async () => {
    // Prepare
    const writers = Array.from(
      { length: 4 },
      () =>
        new HubSpotConnector({
          baseUrl: hubspot.url,
          token: 'pat-rl',
          idProperty: 'dwh_customer_id',
          rateLimit: { windows: [{ name: 'ten-secondly', limit: 10, intervalMs: 1_000 }] },
          limiterKey: 'rl-test-hubspot',
        }),
    );

    // Act
    const report = await drainBacklog(
      writers,
      'contacts',
      backlog(600, (i) => ({ firstname: `n${i}` })),
      {
        batchSize: 20,
      },
    );

    // Assess
    const upserts = hubspot.calls({ path: 'batch/upsert' });
    expect(report.written.size).toBe(600);
    expect(report.failed.size).toBe(0);
    expect(upserts.filter((c) => c.status === 429)).toHaveLength(0);
    expect(
      maxInAnyWindow(
        upserts.map((c) => c.at),
        1_000,
      ),
    ).toBeLessThanOrEqual(10);
    expect(hubspot.records('contacts')).toHaveLength(600);
    expect(writers[0]?.metrics().limiter?.waitedMsByReason['ten-secondly']).toBeGreaterThan(0);
  });

  it('Xero: 8 writers stay within the minute and the 5-call concurrency, and land all 1000 records', async () => {
    // Prepare
    const writers = Array.from(
      { length: 8 },
      () =>
        new XeroConnector({
          baseUrl: xero.url,
          tenantId: xero.tenantId,
          accessToken: xero.accessToken,
          rateLimit: { windows: [{ name: 'minute', limit: 10, intervalMs: 1_000 }], maxConcurrency: 5 },
          limiterKey: 'rl-test-xero',
        }),
    );
    xero.delayNext(1_000, 30, { match: { method: 'POST' } });

    // Act
    const report = await drainBacklog(
      writers,
      'Contacts',
      backlog(1000, (i) => ({ Name: `Contact ${i}` })),
      {
        batchSize: 50,
      },
    );

    // Assess
    const writes = xero.calls({ method: 'POST', path: '/api.xro/2.0/Contacts' });
    expect(report.written.size).toBe(1000);
    expect(report.failed.size).toBe(0);
    expect(xero.rateLimitUsage().rateLimited).toBe(0);
    expect(
      maxInAnyWindow(
        writes.map((c) => c.at),
        1_000,
      ),
    ).toBeLessThanOrEqual(10);
    expect(xero.contacts()).toHaveLength(1000);
    expect(new Set(xero.contacts().map((c) => c.ContactNumber)).size).toBe(1000);
  });

  it('Xero: a 429 from elsewhere pauses every writer of the connection, and nothing is lost', async () => {
    // Prepare: another app instance spent the minute; the fake answers the next calls with 429.
    xero.reset();
    xero.failNext(2, 429, {
      match: { method: 'POST' },
      headers: { 'Retry-After': '1', 'X-Rate-Limit-Problem': 'minute' },
    });
    const writers = Array.from(
      { length: 3 },
      () =>
        new XeroConnector({
          baseUrl: xero.url,
          tenantId: xero.tenantId,
          accessToken: xero.accessToken,
          rateLimit: { windows: [{ name: 'minute', limit: 10, intervalMs: 1_000 }], maxConcurrency: 5 },
          limiterKey: 'rl-test-xero-429',
        }),
    );

    // Act
    const report = await drainBacklog(
      writers,
      'Contacts',
      backlog(300, (i) => ({ Name: `Contact ${i}` })),
      {
        batchSize: 50,
      },
    );

    // Assess
    expect(report.written.size).toBe(300);
    expect(xero.contacts()).toHaveLength(300);
    expect(writers[0]?.metrics().limiter?.penalties).toBeGreaterThan(0);
    expect(writers[0]?.metrics().limiter?.waitedMsByReason['penalty (429)']).toBeGreaterThan(0);
  });

  it('Stripe: 4 writers stay within the per-second limit, one customer per call, and land all 40', async () => {
    const fake = await startStripeFake({ rateLimit: { global: 10, perEndpoint: 10 } });
    try {
      const writers = Array.from(
        { length: 4 },
        () =>
          new StripeConnector({
            baseUrl: fake.url,
            apiKey: fake.apiKey,
            rateLimit: { windows: [{ name: 'second', limit: 10, intervalMs: 1_000 }], maxConcurrency: 10 },
            limiterKey: 'rl-test-stripe',
          }),
      );

      const report = await drainBacklog(
        writers,
        'customers',
        backlog(40, (i) => ({ name: `C${i}` })),
        {
          batchSize: 10,
        },
      );

      const creates = fake.calls({ method: 'POST', path: /^\/v1\/customers$/ });
      expect(report.written.size).toBe(40);
      expect(fake.stats().rateLimited).toBe(0);
      expect(
        maxInAnyWindow(
          creates.map((c) => c.at),
          1_000,
        ),
      ).toBeLessThanOrEqual(10);
      expect(fake.objects('customers')).toHaveLength(40);
    } finally {
      await fake.stop();
    }
  });

  it('Salesforce: writers spend the 24-hour allocation to the last call and then hand records back, not a 403', async () => {
    const fake = await startSalesforceFake({ dailyLimit: 6 });
    try {
      const writers = Array.from(
        { length: 3 },
        () =>
          new SalesforceConnector({
            instanceUrl: fake.url,
            accessToken: fake.accessToken,
            externalIdField: 'Ext_Id__c',
            dailyLimit: 6,
            limiterKey: 'rl-test-salesforce',
            maxLimiterWaitMs: 50,
          }),
      );
      const records = backlog(1600, (i) => ({ Name: `Account ${i}` }));

      const results = await Promise.all(
        [0, 1, 2, 3].map((w) =>
          writers[w % 3]!.upsertBatch('Account', records.slice(w * 400, (w + 1) * 400)),
        ),
      );

      const flat = results.flat();
      expect(fake.apiUsage()).toBe(6);
      expect(fake.calls().filter((c) => c.status === 403)).toHaveLength(0);
      expect(flat.filter((r) => r.ok)).toHaveLength(1200);
      expect(flat.filter((r) => !r.ok && r.error.code === 'SALESFORCE_RATE_LIMITED')).toHaveLength(400);
      expect(fake.all('Account')).toHaveLength(1200);
    } finally {
      await fake.stop();
    }
  });
});

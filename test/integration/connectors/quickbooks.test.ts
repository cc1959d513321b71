import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type QuickBooksFake, startQuickBooksFake } from '../../../local/fakes/quickbooks/QuickBooksFake.ts';
import { isAuthRefusal } from '../../../shared/connectors/authErrors.ts';
import type { UpsertRecord, UpsertResult } from '../../../shared/connectors/Connector.ts';
import { RateLimiter } from '../../../shared/connectors/http/RateLimiter.ts';
import {
  QuickBooksConnector,
  type QuickBooksConnectorOptions,
} from '../../../shared/connectors/quickbooks/QuickBooksConnector.ts';

const BATCH = { method: 'POST', path: /\/batch$/ };
const record = (key: string, payload: Record<string, unknown>, targetId?: string): UpsertRecord => ({
  key,
  externalId: key,
  idempotencyKey: `k-${key}`,
  payload,
  ...(targetId ? { targetId } : {}),
});
const ok = (r: UpsertResult | undefined) => {
  if (!r?.ok) throw new Error(`expected success, got ${JSON.stringify(r)}`);
  return r;
};

describe('QuickBooksConnector against the QuickBooks fake', () => {
  let fake: QuickBooksFake;
  let qbo: QuickBooksConnector;
  const make = (o: Partial<QuickBooksConnectorOptions> = {}) =>
    new QuickBooksConnector({
      baseUrl: fake.url,
      realmId: fake.realmId,
      accessToken: fake.accessToken,
      rateLimit: false,
      ...o,
    });

  beforeAll(async () => {
    fake = await startQuickBooksFake({ rateLimit: false });
    qbo = make();
  });
  afterAll(async () => {
    await fake.stop();
  });
  beforeEach(() => {
    fake.reset();
    RateLimiter.resetShared();
  });

  it('writes customers, then invoices with embedded lines that reference their customer (parent before child)', async () => {
    // Prepare
    const [c] = await qbo.upsertBatch('Customer', [
      record('cust-1', { GivenName: 'Ada', FamilyName: 'Lovelace' }),
    ]);
    const customerId = ok(c).targetId;
    const invoice = (lines: number[]) => ({
      CustomerRef: { value: customerId },
      Line: lines.map((amount, n) => ({
        Amount: amount,
        DetailType: 'SalesItemLineDetail',
        Description: `line ${n + 1}`,
        SalesItemLineDetail: { ItemRef: { value: '1' } },
      })),
    });

    // Act
    const [created] = await qbo.upsertBatch('Invoice', [record('inv-1', invoice([10, 2.5]))]);
    const [updated] = await qbo.upsertBatch('Invoice', [record('inv-1', invoice([7]), ok(created).targetId)]);

    // Assess
    expect(ok(updated).targetId).toBe(ok(created).targetId);
    const [stored] = fake.findBy('Invoice', 'DocNumber', 'inv-1');
    expect(stored).toMatchObject({ CustomerRef: { value: customerId }, TotalAmt: 7, SyncToken: '1' });
    expect(stored!.Line).toHaveLength(1);
    expect(fake.findBy('Customer', 'DisplayName', 'cust-1')).toHaveLength(1);
  });

  it('refuses an invoice whose customer is gone (2500 Invalid Reference Id) for that record alone', async () => {
    const line = [
      { Amount: 1, DetailType: 'SalesItemLineDetail', SalesItemLineDetail: { ItemRef: { value: '1' } } },
    ];

    const results = await qbo.upsertBatch('Invoice', [
      record('inv-x', { CustomerRef: { value: '999' }, Line: line }),
    ]);

    expect(results[0]).toMatchObject({
      ok: false,
      error: { code: 'QBO_NOT_FOUND', disposition: 'permanent' },
    });
  });

  it('re-reads a stale SyncToken (5010, edited in between) and sends the update again instead of failing', async () => {
    const [c] = await qbo.upsertBatch('Customer', [record('s-1', { GivenName: 'Sam', CompanyName: 'Old' })]);
    fake.editBehindNextBatch();
    const before = fake.callCount(BATCH);

    const [r] = await qbo.upsertBatch('Customer', [
      record('s-1', { GivenName: 'Sam', CompanyName: 'New' }, ok(c).targetId),
    ]);

    expect(ok(r).targetId).toBe(ok(c).targetId);
    expect(fake.findBy('Customer', 'DisplayName', 's-1')[0]).toMatchObject({
      CompanyName: 'New',
      SyncToken: '2',
    });
    expect(fake.stats().staleRejected).toBe(1);
    // The update, then the same update with the SyncToken read again.
    expect(fake.callCount(BATCH) - before).toBe(2);
  });

  it('hands a record back as retryable (QBO_STALE_OBJECT) when it is stale again after the re-read', async () => {
    const [c] = await qbo.upsertBatch('Customer', [record('s-2', { GivenName: 'Sue' })]);
    fake.editBehindNextBatch(2);

    const [r] = await qbo.upsertBatch('Customer', [
      record('s-2', { GivenName: 'Sue', CompanyName: 'X' }, ok(c).targetId),
    ]);

    expect(r).toMatchObject({ ok: false, error: { code: 'QBO_STALE_OBJECT', disposition: 'retryable' } });
  });

  it('maps a batch answer back per bId: a display name taken by another customer (6240) fails its record alone', async () => {
    // The external id kept in CompanyName (target.externalId), the display name mapped from the source.
    const byCompany = make({ externalIdField: 'CompanyName' });
    await byCompany.upsertBatch('Customer', [record('hand-made', { DisplayName: 'Ada Lovelace' })]);
    const before = fake.callCount(BATCH);

    const results = await byCompany.upsertBatch('Customer', [
      record('d-1', { DisplayName: 'Grace Hopper' }),
      record('d-2', { DisplayName: 'Ada Lovelace' }),
      record('d-3', { DisplayName: 'Alan Turing' }),
    ]);

    expect(results.map((r) => [r.key, r.ok])).toEqual([
      ['d-1', true],
      ['d-2', false],
      ['d-3', true],
    ]);
    expect(results[1]).toMatchObject({ error: { code: 'QBO_DUPLICATE_NAME', disposition: 'permanent' } });
    expect(fake.callCount(BATCH) - before).toBe(1);
  });

  it('sends at most 30 payloads a batch request', async () => {
    const records = Array.from({ length: 31 }, (_, i) => record(`b-${i}`, { GivenName: `G${i}` }));

    const results = await qbo.upsertBatch('Customer', records);

    expect(results.every((r) => r.ok)).toBe(true);
    expect(fake.calls(BATCH).map((c) => c.elements)).toEqual([30, 1]);
  });

  it('resends a batch whose answer was lost with the same requestid: QuickBooks answers it again, one customer', async () => {
    fake.dropNext(1, { match: BATCH, applyFirst: true });

    const [r] = await qbo.upsertBatch('Customer', [record('r-1', { GivenName: 'Rae' })]);

    ok(r);
    expect(fake.findBy('Customer', 'DisplayName', 'r-1')).toHaveLength(1);
    expect(fake.stats().replays).toBe(1);
    const ids = fake.calls(BATCH).map((c) => c.query.requestid);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[0]!.length).toBeLessThanOrEqual(36);
  });

  it('asks for minorversion 75 on every call', async () => {
    await qbo.upsertBatch('Customer', [record('m-1', { GivenName: 'Mo' })]);
    await qbo.lookup('Customer', 'm-1');

    expect(new Set(fake.minorVersions())).toEqual(new Set(['75']));
  });

  it('reads a record back by external id and by its own id, and lists them', async () => {
    const [c] = await qbo.upsertBatch('Customer', [record('l-1', { GivenName: 'Lu' })]);

    const byExt = await qbo.lookup('Customer', 'l-1');
    const byId = await qbo.get('Customer', ok(c).targetId);
    const none = await qbo.get('Customer', '424242');
    const all = [];
    for await (const r of qbo.list('Customer')) all.push(r);

    expect(byExt).toMatchObject({ targetId: ok(c).targetId, externalId: 'l-1', fields: { GivenName: 'Lu' } });
    expect(byId?.externalId).toBe('l-1');
    expect(none).toBeUndefined();
    expect(all.map((r) => r.externalId)).toEqual(['l-1']);
  });

  it('classifies a refused access token (401 AuthenticationFailed) as an auth refusal', async () => {
    const [r] = await make({ accessToken: 'expired' }).upsertBatch('Customer', [
      record('a-1', { GivenName: 'A' }),
    ]);

    expect(r).toMatchObject({ ok: false, error: { code: 'QBO_UNAUTHORIZED', httpStatus: 401 } });
    expect(isAuthRefusal(r!.ok ? undefined : r!.error)).toBe(true);
  });
});

describe('QuickBooksConnector pacing against the fake’s throttles', () => {
  let fake: QuickBooksFake;
  afterAll(async () => {
    await fake.stop();
  });

  it('keeps to 10 calls at once: 40 concurrent lookups, no 429', async () => {
    fake = await startQuickBooksFake();
    RateLimiter.resetShared();
    const qbo = new QuickBooksConnector({
      baseUrl: fake.url,
      realmId: fake.realmId,
      accessToken: fake.accessToken,
    });
    fake.delayNext(40, 20, { match: { path: /\/query$/ } });

    await Promise.all(Array.from({ length: 40 }, (_, i) => qbo.lookup('Customer', `p-${i}`)));

    expect(fake.stats().throttled).toBe(0);
    expect(fake.callCount({ path: /\/query$/ })).toBe(40);
  });

  it('hands records back with a minute to wait when QuickBooks throttles without Retry-After', async () => {
    await fake.stop();
    fake = await startQuickBooksFake({ rateLimit: { batchPerMinute: 1 } });
    RateLimiter.resetShared();
    const qbo = new QuickBooksConnector({
      baseUrl: fake.url,
      realmId: fake.realmId,
      accessToken: fake.accessToken,
      rateLimit: false,
      retry: false,
    });

    await qbo.upsertBatch('Customer', [record('t-1', { GivenName: 'T' })]);
    const [limited] = await qbo.upsertBatch('Customer', [record('t-2', { GivenName: 'U' })]);

    expect(limited).toMatchObject({
      ok: false,
      error: { code: 'QBO_RATE_LIMITED', disposition: 'retryable', retryAfterSeconds: 60 },
    });
    expect(fake.stats().throttled).toBe(1);
  });
});

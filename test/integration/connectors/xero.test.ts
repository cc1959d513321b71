import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  startXeroFake,
  XERO_FAKE_CLIENT_ID,
  XERO_FAKE_CLIENT_SECRET,
  type XeroFake,
} from '../../../local/fakes/xero/XeroFake.ts';
import type { UpsertRecord } from '../../../shared/connectors/Connector.ts';
import { XeroConnector } from '../../../shared/connectors/xero/XeroConnector.ts';
import { describeError } from '../../../shared/errors.ts';
import { failure, success } from '../../helpers/connectorResults.ts';

const CONTACTS = { method: 'POST', path: '/api.xro/2.0/Contacts' };
const INVOICES = { method: 'POST', path: '/api.xro/2.0/Invoices' };

function rec(key: string, payload: Record<string, unknown>, extra: Partial<UpsertRecord> = {}): UpsertRecord {
  return { key, externalId: `C-${key}`, idempotencyKey: `contacts:${key}:1`, payload, ...extra };
}

describe('XeroConnector against the Xero fake', () => {
  let fake: XeroFake;
  let xero: XeroConnector;

  beforeAll(async () => {
    fake = await startXeroFake({ rateLimit: false });
    xero = new XeroConnector({
      baseUrl: fake.url,
      tenantId: fake.tenantId,
      accessToken: fake.accessToken,
      rateLimit: false,
    });
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.reset());

  describe('Contacts', () => {
    it('creates a contact by ContactNumber, then updates that same contact', async () => {
      // Act
      const [first] = await xero.upsertBatch('Contacts', [
        rec('1', { Name: 'Ada Ltd', EmailAddress: 'ada@example.com' }),
      ]);
      const [second] = await xero.upsertBatch('Contacts', [
        rec('1', { Name: 'Ada Lovelace Ltd' }, { idempotencyKey: 'contacts:1:2' }),
      ]);

      // Assess
      expect(success(first).created).toBe(true);
      expect(success(second).targetId).toBe(success(first).targetId);
      const stored = fake.contactsByNumber('C-1');
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ Name: 'Ada Lovelace Ltd', EmailAddress: 'ada@example.com' });
    });

    it('sends the tenant, an Idempotency-Key and summarizeErrors=false with the plural envelope', async () => {
      await xero.upsertBatch('contacts', [rec('1', { Name: 'Ada Ltd' }), rec('2', { Name: 'Bob Ltd' })]);

      const [call] = fake.calls(CONTACTS);
      expect(call?.query).toEqual({ summarizeErrors: 'false' });
      expect(call?.headers['xero-tenant-id']).toBe(fake.tenantId);
      expect(call?.headers['idempotency-key']).toMatch(/^wb-[0-9a-f]{48}$/);
      expect(call?.elements).toBe(2);
    });

    it('clears an element when the payload holds null, and keeps it with nulls: keep', async () => {
      // Prepare
      const keeping = new XeroConnector({
        baseUrl: fake.url,
        tenantId: fake.tenantId,
        accessToken: fake.accessToken,
        rateLimit: false,
        nulls: { default: 'clear', fields: { FirstName: 'keep' } },
      });
      await xero.upsertBatch('Contacts', [
        rec('1', { Name: 'Ada Ltd', FirstName: 'Ada', LastName: 'Lovelace' }),
      ]);

      // Act
      await keeping.upsertBatch('Contacts', [
        rec('1', { FirstName: null, LastName: null }, { idempotencyKey: 'k2' }),
      ]);

      // Assess
      const [stored] = fake.contactsByNumber('C-1');
      expect(stored?.FirstName).toBe('Ada');
      expect(stored).not.toHaveProperty('LastName');
    });

    it('maps per-element ValidationErrors to the failed records and writes the others', async () => {
      fake.seedContact({ Name: 'Taken Ltd', ContactNumber: 'someone-else' });

      const results = await xero.upsertBatch('Contacts', [
        rec('1', { Name: 'Good Ltd' }),
        rec('2', { Name: 'Bad Mail Ltd', EmailAddress: 'not-an-email' }),
        rec('3', { Name: 'Taken Ltd' }),
      ]);

      expect(success(results[0]).created).toBe(true);
      expect(failure(results[1])).toMatchObject({ code: 'XERO_VALIDATION_ERROR', disposition: 'permanent' });
      expect(failure(results[1]).message).toContain('Email address must be valid.');
      expect(failure(results[2]).message).toContain(
        'The contact name Taken Ltd is already assigned to another contact. The contact name must be unique across all active contacts.',
      );
      expect(
        fake
          .contacts()
          .map((c) => c.ContactNumber)
          .sort(),
      ).toEqual(['C-1', 'someone-else']);
    });

    it('writes records sharing one external id in successive calls, the last one winning', async () => {
      const results = await xero.upsertBatch('Contacts', [
        rec('a', { Name: 'First' }, { externalId: 'C-same' }),
        rec('b', { Name: 'Second' }, { externalId: 'C-same' }),
      ]);

      expect(success(results[1]).targetId).toBe(success(results[0]).targetId);
      expect(fake.callCount(CONTACTS)).toBe(2);
      expect(fake.contactsByNumber('C-same').map((c) => c.Name)).toEqual(['Second']);
    });

    it('sends 120 records as calls of at most 50 elements', async () => {
      const records = Array.from({ length: 120 }, (_, i) => rec(String(i), { Name: `Contact ${i}` }));

      const results = await xero.upsertBatch('Contacts', records);

      expect(results.every((r) => r.ok)).toBe(true);
      expect(fake.calls(CONTACTS).map((c) => c.elements)).toEqual([50, 50, 20]);
    });
  });

  describe('Invoices with embedded LineItems', () => {
    const invoice = (key: string, lines: { Description: string; Quantity: number; UnitAmount: number }[]) =>
      rec(
        key,
        {
          Contact: { ContactNumber: 'C-1' },
          Date: new Date('2024-03-01T00:00:00Z'),
          DueDate: '2024-03-31',
          LineItems: lines,
        },
        { externalId: `INV-${key}`, idempotencyKey: `invoices:${key}:${lines.length}` },
      );

    it('creates an invoice for the contact by number, then replaces its lines on update', async () => {
      // Prepare
      await xero.upsertBatch('Contacts', [rec('1', { Name: 'Ada Ltd' })]);

      // Act
      const [created] = await xero.upsertBatch('Invoices', [
        invoice('7', [
          { Description: 'Widget', Quantity: 2, UnitAmount: 10 },
          { Description: 'Gadget', Quantity: 1, UnitAmount: 5.5 },
        ]),
      ]);
      const [updated] = await xero.upsertBatch('Invoices', [
        invoice('7', [{ Description: 'Widget', Quantity: 3, UnitAmount: 10 }]),
      ]);

      // Assess
      expect(success(updated).targetId).toBe(success(created).targetId);
      const [stored] = fake.invoicesByNumber('INV-7');
      expect(fake.invoicesByNumber('INV-7')).toHaveLength(1);
      expect(stored).toMatchObject({
        Type: 'ACCREC',
        Status: 'DRAFT',
        DateString: '2024-03-01T00:00:00',
        Total: 30,
      });
      expect(stored?.LineItems).toEqual([
        expect.objectContaining({ Description: 'Widget', Quantity: 3, LineAmount: 30 }),
      ]);
      expect(stored?.Contact).toMatchObject({ ContactNumber: 'C-1', Name: 'Ada Ltd' });
      expect(fake.calls(INVOICES).map((c) => c.query.summarizeErrors)).toEqual(['false', 'false']);
    });

    it('fails an invoice whose contact does not exist, and a line without a description', async () => {
      const results = await xero.upsertBatch('Invoices', [
        invoice('1', [{ Description: 'x', Quantity: 1, UnitAmount: 1 }]),
        rec(
          '2',
          { Contact: { Name: 'New Co' }, LineItems: [{ Quantity: 1, UnitAmount: 1 }] },
          { externalId: 'INV-2' },
        ),
      ]);

      expect(failure(results[0]).message).toContain('ContactNumber C-1 could not be found');
      expect(failure(results[1]).message).toContain('Description needs to be at least 1 char long');
    });

    it('finds a bill (ACCPAY, numbers not unique) before writing it again, so a replay does not duplicate it', async () => {
      await xero.upsertBatch('Contacts', [rec('1', { Name: 'Supplier Ltd' })]);
      const bill = rec(
        'b1',
        {
          Type: 'ACCPAY',
          Contact: { ContactNumber: 'C-1' },
          LineItems: [{ Description: 'Paper', Quantity: 1, UnitAmount: 9 }],
        },
        { externalId: 'BILL-1' },
      );

      const [first] = await xero.upsertBatch('Invoices', [bill]);
      fake.expireIdempotencyKeys();
      const [again] = await xero.upsertBatch('Invoices', [bill]);

      expect(success(again).targetId).toBe(success(first).targetId);
      expect(fake.invoices().filter((i) => i.InvoiceNumber === 'BILL-1')).toHaveLength(1);
    });
  });

  describe('idempotency and replays', () => {
    it('replays a timed-out write with the same Idempotency-Key: Xero answers from its cache, one contact', async () => {
      // Prepare
      const impatient = new XeroConnector({
        baseUrl: fake.url,
        tenantId: fake.tenantId,
        accessToken: fake.accessToken,
        rateLimit: false,
        timeoutMs: 150,
      });
      fake.delayNext(1, 600, { match: CONTACTS, applyFirst: true });

      // Act
      const [r] = await impatient.upsertBatch('Contacts', [rec('1', { Name: 'Ada Ltd' })]);

      // Assess
      expect(success(r).targetId).toBe(fake.contactsByNumber('C-1')[0]?.ContactID);
      const keys = fake.calls(CONTACTS).map((c) => c.headers['idempotency-key']);
      expect(keys).toHaveLength(2);
      expect(keys[1]).toBe(keys[0]);
      expect(fake.rateLimitUsage().idempotentReplays).toBe(1);
      expect(fake.contactsByNumber('C-1')).toHaveLength(1);
    });

    it('resends under another key when Xero says the key was used with a different request', async () => {
      // Prepare: a create whose commit was lost, sent again with a payload that changed in between.
      await xero.upsertBatch('Contacts', [rec('1', { Name: 'Ada Ltd' })]);

      // Act
      const [r] = await xero.upsertBatch('Contacts', [rec('1', { Name: 'Ada Lovelace Ltd' })]);

      // Assess
      expect(success(r).created).toBe(true);
      expect(fake.calls(CONTACTS).map((c) => c.status)).toEqual([200, 400, 200]);
      expect(fake.contactsByNumber('C-1')[0]?.Name).toBe('Ada Lovelace Ltd');
    });

    it('writes every update of a record at once, a revert to earlier content included: updates carry no key', async () => {
      const [created] = await xero.upsertBatch('Contacts', [rec('1', { Name: 'Ada Ltd' })]);
      const targetId = success(created).targetId;
      for (const name of ['Ada Lovelace Ltd', 'Ada Lovelace & Co', 'Ada Ltd']) {
        const [r] = await xero.upsertBatch('Contacts', [rec('1', { Name: name }, { targetId })]);
        expect(r?.ok).toBe(true);
      }

      expect(fake.calls(CONTACTS).map((c) => c.status)).toEqual([200, 200, 200, 200]);
      expect(
        fake
          .calls(CONTACTS)
          .slice(1)
          .map((c) => c.headers['idempotency-key']),
      ).toEqual([undefined, undefined, undefined]);
      expect(fake.contactsByNumber('C-1')[0]?.Name).toBe('Ada Ltd');
    });
  });

  describe('error classification', () => {
    it('classifies a 429 as retryable after Retry-After, naming the limit', async () => {
      fake.failNext(3, 429, {
        match: CONTACTS,
        headers: { 'Retry-After': '42', 'X-Rate-Limit-Problem': 'minute' },
      });

      const [r] = await xero.upsertBatch('Contacts', [rec('1', { Name: 'Ada Ltd' })]);

      expect(failure(r)).toMatchObject({
        code: 'XERO_RATE_LIMITED',
        disposition: 'retryable',
        httpStatus: 429,
        retryAfterSeconds: 42,
      });
      expect(failure(r).message).toContain('minute limit');
      expect(fake.callCount(CONTACTS)).toBe(1);
    });

    it('retries a 503 inline and succeeds', async () => {
      fake.failNext(1, 503, { match: CONTACTS });

      const [r] = await xero.upsertBatch('Contacts', [rec('1', { Name: 'Ada Ltd' })]);

      expect(success(r).created).toBe(true);
      expect(fake.calls(CONTACTS).map((c) => c.status)).toEqual([503, 200]);
    });

    it('classifies a 500 as retryable without replaying it inline', async () => {
      fake.failNext(1, 500, { match: CONTACTS });

      const [r] = await xero.upsertBatch('Contacts', [rec('1', { Name: 'Ada Ltd' })]);

      expect(failure(r)).toMatchObject({
        code: 'XERO_SERVER_ERROR',
        disposition: 'retryable',
        httpStatus: 500,
      });
      expect(fake.callCount(CONTACTS)).toBe(1);
    });

    it('classifies an unknown tenant as a permanent XERO_FORBIDDEN and the wrong token as XERO_UNAUTHORIZED', async () => {
      const secret = 'xero-SECRET-token-0001';
      const wrongTenant = new XeroConnector({
        baseUrl: fake.url,
        tenantId: 'nope',
        accessToken: fake.accessToken,
        rateLimit: false,
      });
      const wrongToken = new XeroConnector({
        baseUrl: fake.url,
        tenantId: fake.tenantId,
        accessToken: secret,
        rateLimit: false,
      });

      const [a] = await wrongTenant.upsertBatch('Contacts', [rec('1', { Name: 'A' })]);
      const [b] = await wrongToken.upsertBatch('Contacts', [rec('1', { Name: 'A' })]);

      expect(failure(a)).toMatchObject({ code: 'XERO_FORBIDDEN', disposition: 'permanent', httpStatus: 403 });
      expect(failure(a).message).toContain('AuthenticationUnsuccessful');
      expect(failure(b)).toMatchObject({
        code: 'XERO_UNAUTHORIZED',
        disposition: 'permanent',
        httpStatus: 401,
      });
      expect(JSON.stringify(describeError(failure(b)))).not.toContain(secret);
    });

    it('refuses an object it does not write as permanent', async () => {
      const [r] = await xero.upsertBatch('Payments', [rec('1', {})]);
      expect(failure(r)).toMatchObject({ code: 'XERO_UNKNOWN_OBJECT', disposition: 'permanent' });
    });
  });

  describe('reads', () => {
    it('looks up by ContactNumber and InvoiceNumber, gets by id, and lists every page', async () => {
      await xero.upsertBatch(
        'Contacts',
        Array.from({ length: 130 }, (_, i) => rec(String(i), { Name: `Contact ${i}` })),
      );
      await xero.upsertBatch('Invoices', [
        rec(
          '9',
          {
            Contact: { ContactNumber: 'C-1' },
            LineItems: [{ Description: 'x', Quantity: 1, UnitAmount: 2 }],
          },
          { externalId: 'INV-9' },
        ),
      ]);

      const contact = await xero.lookup('Contacts', 'C-7');
      const missing = await xero.lookup('Contacts', 'C-404');
      const inv = await xero.lookup('Invoices', 'INV-9');
      const byId = await xero.get('Invoices', inv?.targetId ?? '');
      const seen: string[] = [];
      for await (const r of xero.list('Contacts')) seen.push(r.externalId ?? '');

      expect(contact).toMatchObject({ externalId: 'C-7', fields: { Name: 'Contact 7' } });
      expect(missing).toBeUndefined();
      expect(inv?.fields.LineItems).toHaveLength(1);
      expect(byId?.externalId).toBe('INV-9');
      expect(new Set(seen).size).toBe(130);
    });
  });
});

describe('XeroConnector archive', () => {
  let fake: XeroFake;
  beforeAll(async () => {
    fake = await startXeroFake({ rateLimit: false });
  });
  afterAll(() => fake.stop());

  it('archives contacts by ContactID, one result per id', async () => {
    const xero = new XeroConnector({
      baseUrl: fake.url,
      tenantId: fake.tenantId,
      accessToken: fake.accessToken,
      rateLimit: false,
    });
    const [a] = await xero.upsertBatch('Contacts', [rec('1', { Name: 'Ada Ltd' })]);

    const results = await xero.archive('Contacts', [success(a).targetId, 'no-such-id']);

    expect(results.map((r) => r.ok)).toEqual([true, false]);
    expect(fake.contactsByNumber('C-1')[0]?.ContactStatus).toBe('ARCHIVED');
  });
});

describe('XeroConnector with client credentials (custom connection)', () => {
  let fake: XeroFake;
  let clock = 1_700_000_000_000;

  beforeAll(async () => {
    fake = await startXeroFake({ rateLimit: false, now: () => clock, tokenTtlSeconds: 1800 });
  });
  afterAll(() => fake.stop());

  it('fetches a token once, reuses it, and fetches a new one when Xero says it expired', async () => {
    // Prepare
    const xero = new XeroConnector({
      baseUrl: fake.url,
      identityUrl: fake.url,
      tenantId: fake.tenantId,
      clientId: XERO_FAKE_CLIENT_ID,
      clientSecret: XERO_FAKE_CLIENT_SECRET,
      rateLimit: false,
    });

    // Act
    await xero.upsertBatch('Contacts', [rec('1', { Name: 'Ada Ltd' })]);
    await xero.upsertBatch('Contacts', [rec('2', { Name: 'Bob Ltd' })]);
    clock += 1_801_000; // the connector still trusts its token; Xero's clock says it is gone
    const [late] = await xero.upsertBatch('Contacts', [rec('3', { Name: 'Cy Ltd' })]);

    // Assess
    expect(success(late).created).toBe(true);
    expect(fake.callCount({ path: '/connect/token' })).toBe(2);
  });

  it('reports refused client credentials as permanent, without the secret', async () => {
    const xero = new XeroConnector({
      baseUrl: fake.url,
      identityUrl: fake.url,
      tenantId: fake.tenantId,
      clientId: XERO_FAKE_CLIENT_ID,
      clientSecret: 'wrong-secret-value',
      rateLimit: false,
    });

    const [r] = await xero.upsertBatch('Contacts', [rec('1', { Name: 'A' })]);

    expect(failure(r)).toMatchObject({ code: 'XERO_UNAUTHORIZED', disposition: 'permanent' });
    expect(failure(r).message).toContain('invalid_client');
    expect(failure(r).message).not.toContain('wrong-secret-value');
  });
});

describe('XeroConnector under Xero rate limits', () => {
  let fake: XeroFake;

  beforeAll(async () => {
    fake = await startXeroFake({ rateLimit: { perMinute: 4, concurrent: 2 } });
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.reset());

  it('keeps concurrent writers within the concurrency cap: no concurrent 429', async () => {
    // Prepare
    const xero = new XeroConnector({
      baseUrl: fake.url,
      tenantId: fake.tenantId,
      accessToken: fake.accessToken,
      rateLimit: { perMinute: 4, concurrency: 2 },
      limiterKey: 'test-concurrency',
    });
    fake.delayNext(4, 100, { match: CONTACTS });

    // Act
    const results = await Promise.all(
      ['1', '2', '3', '4'].map((k) => xero.upsertBatch('Contacts', [rec(k, { Name: `N${k}` })])),
    );

    // Assess
    expect(results.flat().every((r) => r.ok)).toBe(true);
    expect(fake.rateLimitUsage().rateLimited).toBe(0);
    expect(xero.metrics().limiter?.waitedMsByReason.concurrency).toBeGreaterThan(0);
  });

  it('hands records back as rate limited, without a call, when the minute is spent', async () => {
    // Prepare
    const xero = new XeroConnector({
      baseUrl: fake.url,
      tenantId: fake.tenantId,
      accessToken: fake.accessToken,
      rateLimit: { perMinute: 4 },
      limiterKey: 'test-minute',
      maxLimiterWaitMs: 100,
    });
    for (const k of ['1', '2', '3', '4']) await xero.upsertBatch('Contacts', [rec(k, { Name: `N${k}` })]);

    // Act
    const [r] = await xero.upsertBatch('Contacts', [rec('5', { Name: 'N5' })]);

    // Assess
    expect(failure(r)).toMatchObject({ code: 'XERO_RATE_LIMITED', disposition: 'retryable' });
    expect(failure(r).retryAfterSeconds).toBeGreaterThan(50);
    expect(fake.callCount(CONTACTS)).toBe(4);
    expect(fake.rateLimitUsage().rateLimited).toBe(0);
  });

  it('answers Xero’s 429 with X-Rate-Limit-Problem and Retry-After, and the limit headers on every call', async () => {
    const call = () =>
      fetch(`${fake.url}/api.xro/2.0/Contacts`, {
        headers: { Authorization: `Bearer ${fake.accessToken}`, 'xero-tenant-id': fake.tenantId },
      });
    const first = await call();
    for (let i = 0; i < 3; i++) await call();

    const limited = await call();

    expect(first.headers.get('x-minlimit-remaining')).toBe('3');
    expect(first.headers.get('x-daylimit-remaining')).toBe('4999');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-rate-limit-problem')).toBe('minute');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(55);
  });
});

describe('the Xero fake', () => {
  let fake: XeroFake;
  const put = (path: string, body: unknown, query = '') =>
    fetch(`${fake.url}/api.xro/2.0/${path}${query}`, {
      method: 'PUT',
      headers: {
        Authorization: `Bearer ${fake.accessToken}`,
        'xero-tenant-id': fake.tenantId,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    fake = await startXeroFake({ rateLimit: false });
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.reset());

  it('fails a whole call with a 400 ValidationException when summarizeErrors is left on, writing nothing', async () => {
    const res = await put('Contacts', { Contacts: [{ Name: 'Good' }, { Name: 'Bad', EmailAddress: 'x' }] });

    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      ErrorNumber: 10,
      Type: 'ValidationException',
      Message: 'A validation exception occurred',
      Elements: [{ Name: 'Good' }, { ValidationErrors: [{ Message: 'Email address must be valid.' }] }],
    });
    expect(fake.contacts()).toHaveLength(0);
  });

  it('refuses a PUT of an existing InvoiceNumber: "Invoice # must be unique."', async () => {
    fake.seedContact({ Name: 'Ada Ltd' });
    const inv = {
      Type: 'ACCREC',
      InvoiceNumber: 'INV-1',
      Contact: { Name: 'Ada Ltd' },
      LineItems: [{ Description: 'x' }],
    };
    await put('Invoices', { Invoices: [inv] });

    const res = await put('Invoices', { Invoices: [inv] }, '?summarizeErrors=false');

    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      Invoices: [
        { StatusAttributeString: 'ERROR', ValidationErrors: [{ Message: 'Invoice # must be unique.' }] },
      ],
    });
  });

  it('answers a request without a tenant with the 403 problem body', async () => {
    const res = await fetch(`${fake.url}/api.xro/2.0/Contacts`, {
      headers: { Authorization: `Bearer ${fake.accessToken}` },
    });

    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      Title: 'Forbidden',
      Status: 403,
      Detail: 'AuthenticationUnsuccessful',
    });
  });

  it('filters with where and pages with a pagination object', async () => {
    for (let i = 0; i < 5; i++) fake.seedContact({ Name: `C${i}`, ContactNumber: `N${i}` });
    const get = (q: string) =>
      fetch(`${fake.url}/api.xro/2.0/Contacts?${q}`, {
        headers: { Authorization: `Bearer ${fake.accessToken}`, 'xero-tenant-id': fake.tenantId },
      }).then((r) => r.json() as Promise<{ Contacts: { Name: string }[]; pagination?: unknown }>);

    const one = await get(new URLSearchParams({ where: 'ContactNumber=="n3"' }).toString());
    const page = await get('page=2&pageSize=2');

    expect(one.Contacts.map((c) => c.Name)).toEqual(['C3']);
    expect(page.Contacts.map((c) => c.Name)).toEqual(['C2', 'C3']);
    expect(page.pagination).toEqual({ page: 2, pageSize: 2, pageCount: 3, itemCount: 5 });
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type HubSpotFake, startHubSpotFake } from '../../../local/fakes/hubspot/HubSpotFake.ts';
import type { UpsertRecord } from '../../../shared/connectors/Connector.ts';
import { HubSpotConnector } from '../../../shared/connectors/hubspot/HubSpotConnector.ts';
import { describeError, TargetError } from '../../../shared/errors.ts';
import { byKey, failure, success } from '../../helpers/connectorResults.ts';

const TOKEN = 'pat-na1-0f1e2d3c-test-token';
const UPSERT = { method: 'POST', path: '/crm/v3/objects/contacts/batch/upsert' };

function rec(key: string, payload: Record<string, unknown>, externalId = `c-${key}`): UpsertRecord {
  return { key, externalId, idempotencyKey: `sync:${key}:1`, payload };
}

describe('HubSpotConnector against the HubSpot fake', () => {
  let fake: HubSpotFake;
  let hubspot: HubSpotConnector;

  beforeAll(async () => {
    fake = await startHubSpotFake({ token: TOKEN, rateLimit: false });
    // Inline retries and pacing off: these tests look at how each answer is classified.
    hubspot = new HubSpotConnector({
      baseUrl: fake.url,
      token: TOKEN,
      idProperty: 'dwh_customer_id',
      readProperties: ['email', 'firstname', 'lastname'],
      retry: false,
      rateLimit: false,
    });
  });

  afterAll(async () => {
    await hubspot.close();
    await fake.stop();
  });

  beforeEach(() => fake.reset());

  describe('archive', () => {
    it('archives records by HubSpot id, and archiving them again is harmless', async () => {
      // Prepare
      const written = await hubspot.upsertBatch('contacts', [
        { key: '1', externalId: '1', idempotencyKey: 'k1', payload: { email: 'a@example.com' } },
        { key: '2', externalId: '2', idempotencyKey: 'k2', payload: { email: 'b@example.com' } },
      ]);
      const ids = written.map((r) => (r.ok ? r.targetId : ''));
      // Act
      const first = await hubspot.archive('contacts', [ids[0]!]);
      const again = await hubspot.archive('contacts', [ids[0]!]);
      // Assess
      expect(first).toEqual([{ key: ids[0], ok: true, targetId: ids[0], created: false }]);
      expect(again.every((r) => r.ok)).toBe(true);
      expect(fake.records('contacts').map((r) => r.id)).toEqual([ids[1]]);
      expect(fake.records('contacts', { archived: true }).map((r) => r.id)).toEqual([ids[0]]);
    });

    it('classifies a rate-limited archive as retryable', async () => {
      fake.failNext(1, 429);
      const [res] = await hubspot.archive('contacts', ['123']);
      expect(res).toMatchObject({
        ok: false,
        error: { disposition: 'retryable', code: 'HUBSPOT_RATE_LIMITED' },
      });
    });
  });

  describe('upsert', () => {
    it('creates a record, then updates that same record: one record per external id', async () => {
      const [first] = await hubspot.upsertBatch('contacts', [
        rec('1', { email: 'ada@example.com', firstname: 'Ada' }),
      ]);
      const [second] = await hubspot.upsertBatch('contacts', [
        rec('1', { email: 'ada@example.com', firstname: 'Augusta' }),
      ]);

      expect(success(first).created).toBe(true);
      expect(success(second).created).toBe(false);
      expect(success(second).targetId).toBe(success(first).targetId);
      const stored = fake.findRecords('contacts', 'dwh_customer_id', 'c-1');
      expect(stored).toHaveLength(1);
      expect(stored[0]?.properties).toMatchObject({ firstname: 'Augusta', email: 'ada@example.com' });
      expect(fake.records('contacts')).toHaveLength(1);
    });

    it('sends the idProperty inside properties and one objectWriteTraceId per input', async () => {
      const seen: unknown[] = [];
      const spying = new HubSpotConnector({
        baseUrl: fake.url,
        token: TOKEN,
        idProperty: { contacts: 'dwh_customer_id' },
        fetch: (input, init) => {
          seen.push(JSON.parse(String(init?.body)));
          return fetch(input, init);
        },
      });
      await spying.upsertBatch('contacts', [rec('1', { firstname: 'Ada' }), rec('2', { firstname: 'Bob' })]);

      expect(seen).toEqual([
        {
          inputs: [
            {
              idProperty: 'dwh_customer_id',
              id: 'c-1',
              objectWriteTraceId: '0',
              properties: { firstname: 'Ada', dwh_customer_id: 'c-1' },
            },
            {
              idProperty: 'dwh_customer_id',
              id: 'c-2',
              objectWriteTraceId: '1',
              properties: { firstname: 'Bob', dwh_customer_id: 'c-2' },
            },
          ],
        },
      ]);
    });

    it('clears a property when the payload holds null', async () => {
      await hubspot.upsertBatch('contacts', [rec('1', { firstname: 'Ada', lastname: 'Lovelace' })]);
      await hubspot.upsertBatch('contacts', [rec('1', { firstname: 'Ada', lastname: null })]);

      const [stored] = fake.findRecords('contacts', 'dwh_customer_id', 'c-1');
      expect(stored?.properties.firstname).toBe('Ada');
      expect(stored?.properties).not.toHaveProperty('lastname');
    });

    it('maps a 207 partial failure to the record that failed and writes the others', async () => {
      const results = byKey(
        await hubspot.upsertBatch('contacts', [
          rec('1', { email: 'ada@example.com' }),
          rec('2', { email: 'not-an-email' }),
          rec('3', { email: 'bob@example.com' }),
        ]),
      );

      expect(fake.calls(UPSERT).map((c) => c.status)).toEqual([207]);
      expect(success(results.get('1')).created).toBe(true);
      expect(success(results.get('3')).created).toBe(true);
      const bad = failure(results.get('2'));
      expect(bad).toBeInstanceOf(TargetError);
      expect(bad.code).toBe('HUBSPOT_VALIDATION_ERROR');
      expect(bad.disposition).toBe('permanent');
      expect(bad.message).toContain('Email address not-an-email is invalid');
      expect(fake.records('contacts').map((r) => r.properties.dwh_customer_id)).toEqual(['c-1', 'c-3']);
    });

    it('refuses an unknown property as a permanent validation error naming it', async () => {
      const [r] = await hubspot.upsertBatch('contacts', [rec('1', { favourite_colour: 'green' })]);

      const error = failure(r);
      expect(error.code).toBe('HUBSPOT_VALIDATION_ERROR');
      expect(error.disposition).toBe('permanent');
      expect(error.message).toContain('Property "favourite_colour" does not exist');
      expect(fake.records('contacts')).toHaveLength(0);
    });

    it('refuses a unique value another record holds as a permanent conflict', async () => {
      const other = fake.seed('contacts', { email: 'taken@example.com', dwh_customer_id: 'someone-else' });

      const [r] = await hubspot.upsertBatch('contacts', [rec('1', { email: 'taken@example.com' })]);

      const error = failure(r);
      expect(error.code).toBe('HUBSPOT_CONFLICT');
      expect(error.disposition).toBe('permanent');
      expect(error.message).toContain(`Existing ID: ${other.id}`);
    });

    it('refuses an idProperty that is not a unique property', async () => {
      const byName = new HubSpotConnector({ baseUrl: fake.url, token: TOKEN, idProperty: 'firstname' });

      const results = await byName.upsertBatch('contacts', [rec('1', {}), rec('2', {})]);

      expect(results.map((r) => failure(r).code)).toEqual([
        'HUBSPOT_VALIDATION_ERROR',
        'HUBSPOT_VALIDATION_ERROR',
      ]);
      expect(results.every((r) => !r.ok && r.error.disposition === 'permanent')).toBe(true);
      expect(failure(results[0]).message).toContain('non-unique');
    });

    it('writes records sharing one external id in successive calls, last one winning', async () => {
      const results = await hubspot.upsertBatch('contacts', [
        rec('a', { firstname: 'First' }, 'c-same'),
        rec('b', { firstname: 'Second' }, 'c-same'),
      ]);

      expect(results.map((r) => success(r).targetId)).toEqual([
        success(results[0]).targetId,
        success(results[0]).targetId,
      ]);
      expect(fake.callCount(UPSERT)).toBe(2);
      expect(
        fake.findRecords('contacts', 'dwh_customer_id', 'c-same').map((r) => r.properties.firstname),
      ).toEqual(['Second']);
    });

    it('sends 150 records as calls of at most 100 inputs', async () => {
      const records = Array.from({ length: 150 }, (_, i) => rec(String(i), { firstname: `n${i}` }));

      const results = await hubspot.upsertBatch('contacts', records);

      expect(results.every((r) => r.ok)).toBe(true);
      expect(fake.calls(UPSERT).map((c) => c.inputs)).toEqual([100, 50]);
      expect(fake.records('contacts')).toHaveLength(150);
    });
  });

  describe('the fake', () => {
    const post = (path: string, body: unknown, token = TOKEN) =>
      fetch(`${fake.url}${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });

    it('refuses a batch of 101 inputs with HubSpot’s VALIDATION_ERROR body', async () => {
      const inputs = Array.from({ length: 101 }, (_, i) => ({
        idProperty: 'dwh_customer_id',
        id: `c-${i}`,
        properties: {},
      }));

      const res = await post('/crm/v3/objects/contacts/batch/upsert', { inputs });

      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        status: 'error',
        category: 'VALIDATION_ERROR',
        message:
          'The maximum number of inputs supported in a batch is 100. Please reduce the number of items and try again',
        correlationId: expect.any(String),
      });
      expect(fake.records('contacts')).toHaveLength(0);
    });

    it('answers a missing token with 401 INVALID_AUTHENTICATION', async () => {
      const res = await fetch(`${fake.url}/crm/v3/objects/contacts`);

      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({
        status: 'error',
        category: 'INVALID_AUTHENTICATION',
        message: expect.stringContaining('Authentication credentials not found'),
      });
    });

    it('fails the whole batch with a 400 when inputs carry no objectWriteTraceId', async () => {
      const res = await post('/crm/v3/objects/contacts/batch/upsert', {
        inputs: [
          { idProperty: 'dwh_customer_id', id: 'c-1', properties: { email: 'ok@example.com' } },
          { idProperty: 'dwh_customer_id', id: 'c-2', properties: { email: 'broken' } },
        ],
      });

      expect(res.status).toBe(400);
      const body = (await res.json()) as { category: string; message: string };
      expect(body.category).toBe('VALIDATION_ERROR');
      expect(body.message).toMatch(/^Property values were not valid: \[.*"error":"INVALID_EMAIL".*\]$/);
      expect(fake.records('contacts')).toHaveLength(0);
    });

    it('refuses duplicate ids in one batch', async () => {
      const input = { idProperty: 'dwh_customer_id', id: 'c-1', properties: {} };

      const res = await post('/crm/v3/objects/contacts/batch/upsert', { inputs: [input, input] });

      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        message: 'Duplicate IDs found in batch input: [c-1]. IDs must be unique',
        context: { ids: ['c-1'] },
      });
    });

    it('reports ids a batch read cannot find as OBJECT_NOT_FOUND in a 207', async () => {
      fake.seed('contacts', { dwh_customer_id: 'c-1' });

      const res = await post('/crm/v3/objects/contacts/batch/read', {
        idProperty: 'dwh_customer_id',
        inputs: [{ id: 'c-1' }, { id: 'c-missing' }],
        properties: ['dwh_customer_id'],
        propertiesWithHistory: [],
      });

      expect(res.status).toBe(207);
      const body = (await res.json()) as { results: unknown[]; errors: unknown[] };
      expect(body.results).toHaveLength(1);
      expect(body.errors).toEqual([
        expect.objectContaining({ category: 'OBJECT_NOT_FOUND', context: { ids: ['c-missing'] } }),
      ]);
    });
  });

  describe('error classification', () => {
    it('classifies a 500 as retryable and gives every record a result', async () => {
      fake.failNext(1, 500, { match: UPSERT });

      const results = await hubspot.upsertBatch('contacts', [rec('1', {}), rec('2', {})]);

      expect(results.map((r) => r.key)).toEqual(['1', '2']);
      for (const r of results) {
        expect(failure(r)).toMatchObject({
          code: 'HUBSPOT_SERVER_ERROR',
          disposition: 'retryable',
          httpStatus: 500,
        });
      }
      expect(fake.records('contacts')).toHaveLength(0);
    });

    it('retries a 502 blip inline when retries are on, and paces by the shared limiter', async () => {
      const retrying = new HubSpotConnector({
        baseUrl: fake.url,
        token: TOKEN,
        idProperty: 'dwh_customer_id',
        limiterKey: 'hubspot-test-blip',
      });
      fake.failNext(1, 502, { match: UPSERT });

      const [r] = await retrying.upsertBatch('contacts', [rec('1', { firstname: 'Ada' })]);

      expect(success(r).created).toBe(true);
      expect(fake.calls(UPSERT).map((c) => c.status)).toEqual([502, 200]);
      expect(retrying.metrics()).toMatchObject({
        http: { requests: 2, retries: 1 },
        limiter: { acquired: 2 },
      });
    });

    it('classifies a gateway’s HTML 502 as retryable', async () => {
      fake.failNext(1, 502);

      const [r] = await hubspot.upsertBatch('contacts', [rec('1', {})]);

      expect(failure(r)).toMatchObject({
        code: 'HUBSPOT_SERVER_ERROR',
        disposition: 'retryable',
        httpStatus: 502,
      });
      expect(failure(r).message).toContain('Bad Gateway');
    });

    it('classifies a call slower than timeoutMs as retryable; the late write and the replay leave one record', async () => {
      const impatient = new HubSpotConnector({
        baseUrl: fake.url,
        token: TOKEN,
        idProperty: 'dwh_customer_id',
        timeoutMs: 150,
      });
      fake.delayNext(1, 600, { match: UPSERT });

      const [r] = await impatient.upsertBatch('contacts', [rec('1', { firstname: 'Ada' })]);

      expect(failure(r)).toMatchObject({ code: 'HUBSPOT_TIMEOUT', disposition: 'retryable' });
      await fake.settled();
      const [replay] = await impatient.upsertBatch('contacts', [rec('1', { firstname: 'Ada' })]);
      expect(success(replay).created).toBe(false);
      expect(fake.findRecords('contacts', 'dwh_customer_id', 'c-1')).toHaveLength(1);
    });

    it('classifies a connection dropped after the write as retryable; the replay updates, not duplicates', async () => {
      fake.dropNext(1, { match: UPSERT, applyFirst: true });

      const [r] = await hubspot.upsertBatch('contacts', [rec('1', { firstname: 'Ada' })]);
      const [replay] = await hubspot.upsertBatch('contacts', [rec('1', { firstname: 'Ada' })]);

      expect(failure(r)).toMatchObject({ code: 'HUBSPOT_NETWORK_ERROR', disposition: 'retryable' });
      expect(success(replay).created).toBe(false);
      expect(fake.findRecords('contacts', 'dwh_customer_id', 'c-1')).toHaveLength(1);
    });

    it('classifies a 429 carrying Retry-After as retryable after that many seconds', async () => {
      fake.failNext(1, 429, { retryAfterSeconds: 7 });

      const [r] = await hubspot.upsertBatch('contacts', [rec('1', {})]);

      expect(failure(r)).toMatchObject({
        code: 'HUBSPOT_RATE_LIMITED',
        disposition: 'retryable',
        httpStatus: 429,
        retryAfterSeconds: 7,
      });
      expect(failure(r).message).toContain('TEN_SECONDLY_ROLLING');
    });

    it('classifies a 401 as permanent HUBSPOT_UNAUTHORIZED without the token in the message', async () => {
      const secret = 'pat-na1-SECRET-0000-1111';
      const wrong = new HubSpotConnector({ baseUrl: fake.url, token: secret, idProperty: 'dwh_customer_id' });

      const [r] = await wrong.upsertBatch('contacts', [rec('1', {})]);

      const error = failure(r);
      expect(error).toMatchObject({
        code: 'HUBSPOT_UNAUTHORIZED',
        disposition: 'permanent',
        httpStatus: 401,
      });
      expect(error.message).toContain('Authentication credentials not found');
      expect(JSON.stringify(describeError(error))).not.toContain(secret);
      expect(error.message).not.toContain('SECRET');
      await expect(wrong.lookup('contacts', 'c-1')).rejects.toMatchObject({ code: 'HUBSPOT_UNAUTHORIZED' });
    });

    it('keeps the token out of the message even when the API echoes it', async () => {
      fake.failNext(1, 400, {
        body: {
          status: 'error',
          message: `token ${TOKEN} / Bearer ${TOKEN} refused`,
          category: 'VALIDATION_ERROR',
        },
      });

      const [r] = await hubspot.upsertBatch('contacts', [rec('1', {})]);

      expect(failure(r).code).toBe('HUBSPOT_VALIDATION_ERROR');
      expect(failure(r).message).not.toContain(TOKEN);
      expect(failure(r).message).toContain('[redacted]');
    });
  });

  describe('reads', () => {
    it('looks a record up by external id, and finds nothing for an unknown one', async () => {
      const [written] = await hubspot.upsertBatch('contacts', [
        rec('1', { email: 'ada@example.com', firstname: 'Ada', lastname: 'Lovelace' }),
      ]);

      const found = await hubspot.lookup('contacts', 'c-1');
      const missing = await hubspot.lookup('contacts', 'c-404');

      expect(found).toMatchObject({
        targetId: success(written).targetId,
        externalId: 'c-1',
        fields: { email: 'ada@example.com', firstname: 'Ada', lastname: 'Lovelace', dwh_customer_id: 'c-1' },
      });
      expect(missing).toBeUndefined();
      expect(fake.calls({ method: 'GET', path: '/crm/v3/objects/contacts/c-1' })[0]?.query).toMatchObject({
        idProperty: 'dwh_customer_id',
      });
    });

    it('throws a retryable TargetError when a lookup meets a 503', async () => {
      fake.failNext(1, 503);

      await expect(hubspot.lookup('contacts', 'c-1')).rejects.toMatchObject({
        code: 'HUBSPOT_SERVER_ERROR',
        disposition: 'retryable',
      });
    });

    it('lists every record by paging with after', async () => {
      for (let i = 0; i < 250; i++) fake.seed('contacts', { dwh_customer_id: `c-${i}`, firstname: `n${i}` });

      const seen: string[] = [];
      for await (const r of hubspot.list('contacts')) seen.push(r.externalId ?? '');

      expect(seen).toHaveLength(250);
      expect(new Set(seen).size).toBe(250);
      expect(
        fake.calls({ method: 'GET', path: /^\/crm\/v3\/objects\/contacts$/ }).map((c) => c.query.after),
      ).toEqual([undefined, expect.any(String), expect.any(String)]);
    });
  });
});

describe('HubSpotConnector when HubSpot refuses whole batches', () => {
  let fake: HubSpotFake;
  let hubspot: HubSpotConnector;

  beforeAll(async () => {
    fake = await startHubSpotFake({ token: TOKEN, rateLimit: false, multiStatus: 'never' });
    hubspot = new HubSpotConnector({ baseUrl: fake.url, token: TOKEN, idProperty: 'dwh_customer_id' });
  });

  afterAll(() => fake.stop());

  it('splits an all-or-nothing 400 until only the invalid record fails', async () => {
    const records = Array.from({ length: 8 }, (_, i) =>
      rec(String(i), { email: i === 5 ? 'nope' : `u${i}@example.com` }),
    );

    const results = byKey(await hubspot.upsertBatch('contacts', records));

    expect(failure(results.get('5'))).toMatchObject({
      code: 'HUBSPOT_VALIDATION_ERROR',
      disposition: 'permanent',
    });
    for (const k of ['0', '1', '2', '3', '4', '6', '7']) expect(success(results.get(k)).created).toBe(true);
    expect(fake.records('contacts')).toHaveLength(7);
    expect(fake.callCount(UPSERT)).toBeLessThanOrEqual(7);
  });
});

describe('HubSpotConnector under HubSpot rate limits', () => {
  let fake: HubSpotFake;
  let clock = 1_700_000_000_000;
  let hubspot: HubSpotConnector;

  beforeAll(async () => {
    fake = await startHubSpotFake({
      token: TOKEN,
      rateLimit: { max: 2, intervalMs: 10_000, daily: 5 },
      now: () => clock,
    });
    // Our own pacing off (it runs on real time, the fake on a test clock): the fake's 429s are under test.
    hubspot = new HubSpotConnector({
      baseUrl: fake.url,
      token: TOKEN,
      idProperty: 'dwh_customer_id',
      rateLimit: false,
      retry: false,
    });
  });

  afterAll(() => fake.stop());

  beforeEach(() => fake.reset());

  it('answers every call with the X-HubSpot-RateLimit headers', async () => {
    const res = await fetch(`${fake.url}/crm/v3/objects/contacts`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });

    expect(res.status).toBe(200);
    expect(Object.fromEntries([...res.headers].filter(([k]) => k.startsWith('x-hubspot-ratelimit')))).toEqual(
      {
        'x-hubspot-ratelimit-daily': '5',
        'x-hubspot-ratelimit-daily-remaining': '4',
        'x-hubspot-ratelimit-interval-milliseconds': '10000',
        'x-hubspot-ratelimit-max': '2',
        'x-hubspot-ratelimit-remaining': '1',
      },
    );
  });

  it('classifies the burst window’s 429 as retryable after the ten-second window', async () => {
    await hubspot.upsertBatch('contacts', [rec('1', {})]);
    await hubspot.upsertBatch('contacts', [rec('2', {})]);

    const [r] = await hubspot.upsertBatch('contacts', [rec('3', {})]);

    expect(failure(r)).toMatchObject({
      code: 'HUBSPOT_RATE_LIMITED',
      disposition: 'retryable',
      httpStatus: 429,
      retryAfterSeconds: 10,
    });
    expect(failure(r).message).toContain('You have reached your ten_secondly_rolling limit.');
    expect(fake.records('contacts')).toHaveLength(2);

    clock += 10_000;
    const [later] = await hubspot.upsertBatch('contacts', [rec('3', {})]);
    expect(success(later).created).toBe(true);
  });

  it('classifies the daily limit’s 429 as retryable after an hour', async () => {
    for (let i = 0; i < 5; i++) {
      clock += 10_000;
      await hubspot.upsertBatch('contacts', [rec(String(i), {})]);
    }
    clock += 10_000;

    const [r] = await hubspot.upsertBatch('contacts', [rec('5', {})]);

    expect(failure(r)).toMatchObject({ code: 'HUBSPOT_RATE_LIMITED', retryAfterSeconds: 3600 });
    expect(failure(r).message).toContain('You have reached your daily limit.');
  });
});

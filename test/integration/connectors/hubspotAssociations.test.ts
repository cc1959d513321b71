import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type HubSpotFake, startHubSpotFake } from '../../../local/fakes/hubspot/HubSpotFake.ts';
import type { UpsertRecord } from '../../../shared/connectors/Connector.ts';
import { HubSpotConnector } from '../../../shared/connectors/hubspot/HubSpotConnector.ts';
import { failure, success } from '../../helpers/connectorResults.ts';

const TOKEN = 'pat-na1-assoc-test-token';
const DEFAULT = { method: 'POST', path: '/crm/v4/associations/line_items/deals/batch/associate/default' };
/** The external-id properties of the two syncs (parent deals, child line items). */
const OBJECTS = {
  deals: { uniqueProperties: ['dwh_deal_id'] },
  line_items: { uniqueProperties: ['dwh_line_id'] },
};

function rec(key: string, externalId: string, payload: Record<string, unknown>): UpsertRecord {
  return { key, externalId, idempotencyKey: `sync:${key}:1`, payload };
}

describe('HubSpot associations v4: connector against the fake', () => {
  let fake: HubSpotFake;
  let hubspot: HubSpotConnector;

  /** Upserts one deal and `n` line items through the connector; returns their HubSpot ids. */
  async function dealWithLines(n: number): Promise<{ dealId: string; lineIds: string[] }> {
    const [deal] = await hubspot.upsertBatch('deals', [
      rec('d1', 'deal-1', {
        dealname: 'Big deal',
        amount: 1200,
        dealstage: 'appointmentscheduled',
        pipeline: 'default',
      }),
    ]);
    const lines = await hubspot.upsertBatch(
      'line_items',
      Array.from({ length: n }, (_, i) =>
        rec(`l${i}`, `line-${i}`, { name: `Widget ${i}`, quantity: 2, price: 300, hs_sku: `SKU-${i}` }),
      ),
    );
    if (!deal?.ok || !lines.every((l) => l.ok)) throw new Error('setup upsert failed');
    return { dealId: deal.targetId, lineIds: lines.map((l) => (l.ok ? l.targetId : '')) };
  }

  beforeAll(async () => {
    fake = await startHubSpotFake({ token: TOKEN, rateLimit: false, objects: OBJECTS });
    hubspot = new HubSpotConnector({
      baseUrl: fake.url,
      token: TOKEN,
      idProperty: { deals: 'dwh_deal_id', line_items: 'dwh_line_id' },
      retry: false,
      rateLimit: false,
    });
  });

  afterAll(async () => {
    await hubspot.close();
    await fake.stop();
  });

  beforeEach(() => fake.reset());

  it('associates a line item to its deal with the default association, seen from both sides', async () => {
    const { dealId, lineIds } = await dealWithLines(1);
    const lineId = lineIds[0] ?? '';

    const [r] = await hubspot.associate('line_items', 'deals', [{ key: 'l0', fromId: lineId, toId: dealId }]);

    expect(success(r)).toEqual({ key: 'l0', fromId: lineId, toId: dealId, ok: true });
    expect(fake.associations('line_items', lineId, 'deals')).toEqual([
      { toObjectType: 'deals', toId: dealId, typeIds: [20] },
    ]);
    expect(fake.associations('deals', dealId)).toEqual([
      { toObjectType: 'line_items', toId: lineId, typeIds: [19] },
    ]);
    expect(await hubspot.listAssociations('deals', dealId, 'line_items')).toEqual([
      { toId: lineId, types: [{ category: 'HUBSPOT_DEFINED', typeId: 19, label: null }] },
    ]);
    expect(fake.calls(DEFAULT).map((c) => [c.status, c.inputs])).toEqual([[200, 1]]);
  });

  it('replaying the same association leaves one association', async () => {
    const { dealId, lineIds } = await dealWithLines(1);
    const pair = { fromId: lineIds[0] ?? '', toId: dealId };

    const first = await hubspot.associate('line_items', 'deals', [pair]);
    const replay = await hubspot.associate('line_items', 'deals', [pair, pair]);

    expect([...first, ...replay].every((r) => r.ok)).toBe(true);
    expect(replay.map((r) => r.key)).toEqual([`${pair.fromId}->${dealId}`, `${pair.fromId}->${dealId}`]);
    expect(fake.associations('deals', dealId, 'line_items')).toHaveLength(1);
    expect(fake.associations('line_items', pair.fromId, 'deals')).toEqual([
      { toObjectType: 'deals', toId: dealId, typeIds: [20] },
    ]);
    // The duplicate pair went out once.
    expect(fake.calls(DEFAULT).map((c) => c.inputs)).toEqual([1, 1]);
  });

  it('fails only the pair naming an unknown record (207), permanently, and associates the others', async () => {
    const { dealId, lineIds } = await dealWithLines(2);

    const results = await hubspot.associate('line_items', 'deals', [
      { key: 'a', fromId: lineIds[0] ?? '', toId: dealId },
      { key: 'ghost', fromId: '999999', toId: dealId },
      { key: 'b', fromId: lineIds[1] ?? '', toId: dealId },
    ]);

    expect(results.map((r) => [r.key, r.ok])).toEqual([
      ['a', true],
      ['ghost', false],
      ['b', true],
    ]);
    expect(failure(results[1])).toMatchObject({
      code: 'HUBSPOT_NOT_FOUND',
      disposition: 'permanent',
      httpStatus: 400,
    });
    expect(failure(results[1]).message).toContain('LINE_ITEM=999999 is not valid');
    expect(fake.calls(DEFAULT).map((c) => c.status)).toEqual([207]);
    expect(fake.associations('deals', dealId, 'line_items').map((a) => a.toId)).toEqual(lineIds);
  });

  it('classifies a 429 as retryable with its Retry-After, and a 500 as retryable; nothing is associated', async () => {
    const { dealId, lineIds } = await dealWithLines(1);
    const pairs = [{ fromId: lineIds[0] ?? '', toId: dealId }];
    fake.failNext(1, 429, { match: DEFAULT, retryAfterSeconds: 7 });
    fake.failNext(1, 500, { match: DEFAULT });

    const [throttled] = await hubspot.associate('line_items', 'deals', pairs);
    const [broken] = await hubspot.associate('line_items', 'deals', pairs);

    expect(failure(throttled)).toMatchObject({
      code: 'HUBSPOT_RATE_LIMITED',
      disposition: 'retryable',
      httpStatus: 429,
      retryAfterSeconds: 7,
    });
    expect(failure(broken)).toMatchObject({ code: 'HUBSPOT_SERVER_ERROR', disposition: 'retryable' });
    expect(fake.associations('deals', dealId)).toEqual([]);
    const [later] = await hubspot.associate('line_items', 'deals', pairs);
    expect(later?.ok).toBe(true);
  });

  it('sends 150 pairs as calls of at most 100 inputs', async () => {
    const deal = fake.seed('deals', { dealname: 'Bulk', dwh_deal_id: 'deal-bulk' });
    const lines = Array.from({ length: 150 }, (_, i) => fake.seed('line_items', { name: `L${i}` }));

    const results = await hubspot.associate(
      'line_items',
      'deals',
      lines.map((l) => ({ fromId: l.id, toId: deal.id })),
    );

    expect(results.every((r) => r.ok)).toBe(true);
    expect(fake.calls(DEFAULT).map((c) => c.inputs)).toEqual([100, 50]);
    expect(fake.associations('deals', deal.id, 'line_items')).toHaveLength(150);
    expect(await hubspot.listAssociations('deals', deal.id, 'line_items')).toHaveLength(150);
  });

  it('sets labelled types with batch/create, and dissociates', async () => {
    const contact = fake.seed('contacts', { email: 'ada@example.com' });
    const company = fake.seed('companies', { name: 'Analytical Engines' });
    const pair = { fromId: contact.id, toId: company.id };

    const [typed] = await hubspot.associate('contacts', 'companies', [pair], {
      types: [
        { category: 'HUBSPOT_DEFINED', typeId: 279 },
        { category: 'HUBSPOT_DEFINED', typeId: 1 },
      ],
    });
    expect(success(typed).ok).toBe(true);
    expect(fake.calls({ path: 'batch/create' }).map((c) => c.status)).toEqual([201]);
    expect(await hubspot.listAssociations('companies', company.id, 'contacts')).toEqual([
      {
        toId: contact.id,
        types: [
          { category: 'HUBSPOT_DEFINED', typeId: 2, label: 'Primary' },
          { category: 'HUBSPOT_DEFINED', typeId: 280, label: null },
        ],
      },
    ]);

    const [gone] = await hubspot.dissociate('contacts', 'companies', [pair]);
    const [again] = await hubspot.dissociate('contacts', 'companies', [pair]);
    expect([gone?.ok, again?.ok]).toEqual([true, true]);
    expect(fake.associations('companies', company.id)).toEqual([]);
  });

  it('refuses an association type the pair does not have as a permanent validation error', async () => {
    const deal = fake.seed('deals', { dealname: 'D' });
    const line = fake.seed('line_items', { name: 'L' });

    const [r] = await hubspot.associate('line_items', 'deals', [{ fromId: line.id, toId: deal.id }], {
      types: [{ category: 'HUBSPOT_DEFINED', typeId: 279 }],
    });

    expect(failure(r)).toMatchObject({ code: 'HUBSPOT_VALIDATION_ERROR', disposition: 'permanent' });
    expect(fake.associations('deals', deal.id)).toEqual([]);
  });
});

describe('HubSpot associations v4: a batch refused as a whole', () => {
  let fake: HubSpotFake;
  let hubspot: HubSpotConnector;

  beforeAll(async () => {
    fake = await startHubSpotFake({ token: TOKEN, rateLimit: false, associationErrors: 'reject-batch' });
    hubspot = new HubSpotConnector({ baseUrl: fake.url, token: TOKEN, retry: false, rateLimit: false });
  });

  afterAll(() => fake.stop());

  it('isolates the pairs the 400 names and associates the rest in a second call', async () => {
    const deal = fake.seed('deals', { dealname: 'D' });
    const lines = [fake.seed('line_items', { name: 'A' }), fake.seed('line_items', { name: 'B' })];

    const results = await hubspot.associate('line_items', 'deals', [
      { key: 'a', fromId: lines[0]?.id ?? '', toId: deal.id },
      { key: 'orphan', fromId: lines[1]?.id ?? '', toId: '424242' },
      { key: 'b', fromId: lines[1]?.id ?? '', toId: deal.id },
    ]);

    expect(results.map((r) => [r.key, r.ok])).toEqual([
      ['a', true],
      ['orphan', false],
      ['b', true],
    ]);
    expect(failure(results[1])).toMatchObject({ code: 'HUBSPOT_NOT_FOUND', disposition: 'permanent' });
    expect(fake.calls(DEFAULT).map((c) => [c.status, c.inputs])).toEqual([
      [400, 3],
      [200, 2],
    ]);
    expect(fake.associations('deals', deal.id, 'line_items')).toHaveLength(2);
  });
});

describe('the HubSpot fake’s associations v4 API', () => {
  let fake: HubSpotFake;
  let clock = 1_700_000_000_000;
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${fake.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    fake = await startHubSpotFake({ token: TOKEN, rateLimit: { max: 2, daily: 1000 }, now: () => clock });
  });

  afterAll(() => fake.stop());

  beforeEach(() => {
    fake.reset();
    clock += 60_000;
  });

  it('PUT …/associations/default/… associates one pair (singular names too) and answers both directions', async () => {
    const contact = fake.seed('contacts', { email: 'a@example.com' });
    const company = fake.seed('companies', { name: 'Acme' });

    const res = await call(
      'PUT',
      `/crm/v4/objects/contact/${contact.id}/associations/default/company/${company.id}`,
    );

    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; results: unknown[] };
    expect(body.status).toBe('COMPLETE');
    expect(body.results).toEqual([
      {
        from: { id: contact.id },
        to: { id: company.id },
        associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 279 },
      },
      {
        from: { id: company.id },
        to: { id: contact.id },
        associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 280 },
      },
    ]);
    const missing = await call(
      'PUT',
      `/crm/v4/objects/contacts/${contact.id}/associations/default/companies/1`,
    );
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({
      status: 'error',
      category: 'VALIDATION_ERROR',
      message: 'One or more associations are invalid',
      context: { INVALID_OBJECT_IDS: ['COMPANY=1 is not valid'], objectId: ['1'], objectType: ['COMPANY'] },
    });
  });

  it('refuses a batch of 101 inputs, and answers 401 without a token', async () => {
    const inputs = Array.from({ length: 101 }, (_, i) => ({ from: { id: String(i) }, to: { id: '1' } }));

    const big = await call('POST', '/crm/v4/associations/line_items/deals/batch/associate/default', {
      inputs,
    });
    const anonymous = await fetch(`${fake.url}/crm/v4/objects/deals/1/associations/line_items`);

    expect(big.status).toBe(400);
    expect(await big.json()).toMatchObject({
      category: 'VALIDATION_ERROR',
      message:
        'The maximum number of inputs supported in a batch is 100. Please reduce the number of items and try again',
    });
    expect(anonymous.status).toBe(401);
  });

  it('pages GET associations with limit and after, and batch-reads with a 207 for records without any', async () => {
    const deal = fake.seed('deals', { dealname: 'D' });
    const lines = [1, 2, 3].map((i) => fake.seed('line_items', { name: `L${i}` }));
    for (const l of lines) fake.seedAssociation('deals', deal.id, 'line_items', l.id);

    const first = (await (
      await call('GET', `/crm/v4/objects/deals/${deal.id}/associations/line_items?limit=2`)
    ).json()) as {
      results: { toObjectId: number }[];
      paging: { next: { after: string } };
    };
    const q = new URLSearchParams({ limit: '2', after: first.paging.next.after });
    const second = (await (
      await call('GET', `/crm/v4/objects/deals/${deal.id}/associations/line_items?${q}`)
    ).json()) as {
      results: { toObjectId: number }[];
      paging?: unknown;
    };
    const read = await call('POST', '/crm/v4/associations/deals/line_items/batch/read', {
      inputs: [{ id: deal.id }, { id: '777' }],
    });

    expect([...first.results, ...second.results].map((r) => String(r.toObjectId))).toEqual(
      lines.map((l) => l.id),
    );
    expect(second.paging).toBeUndefined();
    expect(read.status).toBe(207);
    const body = (await read.json()) as {
      results: { from: { id: string }; to: unknown[] }[];
      errors: unknown[];
    };
    expect(body.results.map((r) => [r.from.id, r.to.length])).toEqual([[deal.id, 3]]);
    expect(body.errors).toEqual([
      expect.objectContaining({ category: 'OBJECT_NOT_FOUND', context: { fromObjectId: ['777'] } }),
    ]);
  });

  it('leaves the batch endpoints out of the ten-secondly window, as the spec’s exemption says', async () => {
    const deal = fake.seed('deals', { dealname: 'D' });
    const line = fake.seed('line_items', { name: 'L' });
    const inputs = [{ from: { id: line.id }, to: { id: deal.id } }];

    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(
        (await call('POST', '/crm/v4/associations/line_items/deals/batch/associate/default', { inputs }))
          .status,
      );
    }
    for (let i = 0; i < 3; i++) statuses.push((await call('GET', '/crm/v3/objects/deals')).status);

    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(fake.rateLimitUsage()).toEqual({ windowUsed: 2, dailyUsed: 5 });
  });

  it('archives associations in batch, removing both directions', async () => {
    const deal = fake.seed('deals', { dealname: 'D' });
    const line = fake.seed('line_items', { name: 'L' });
    fake.seedAssociation('line_items', line.id, 'deals', deal.id);

    const res = await call('POST', '/crm/v4/associations/deals/line_items/batch/archive', {
      inputs: [{ from: { id: deal.id }, to: [{ id: line.id }] }],
    });

    expect(res.status).toBe(204);
    expect(fake.associations('line_items', line.id)).toEqual([]);
    expect(fake.associations('deals', deal.id)).toEqual([]);
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type HubSpotFake, startHubSpotFake } from '../../../local/fakes/hubspot/HubSpotFake.ts';
import {
  HUBSPOT_ASSOCIATION_READ_BATCH_SIZE,
  HubSpotConnector,
} from '../../../shared/connectors/hubspot/HubSpotConnector.ts';
import { TargetError } from '../../../shared/errors.ts';

const TOKEN = 'pat-na1-read-assoc-token';
const READ = { method: 'POST', path: '/crm/v4/associations/line_items/deals/batch/read' };

describe('HubSpotConnector.readAssociations: batch read against the fake', () => {
  let fake: HubSpotFake;
  let hubspot: HubSpotConnector;
  /** Bodies of the batch reads the connector sent, in order. */
  const sent: { inputs: { id: string; after?: string }[] }[] = [];

  const seedDeal = (n: number) =>
    fake.seed('deals', { dealname: `deal ${n}`, dealstage: 'appointmentscheduled', pipeline: 'default' }).id;
  const seedLines = (n: number) =>
    Array.from({ length: n }, (_, i) => fake.seed('line_items', { name: `line ${i}`, quantity: 1 }).id);
  const readCalls = () => fake.calls(READ);

  beforeAll(async () => {
    fake = await startHubSpotFake({ token: TOKEN, rateLimit: false });
    hubspot = new HubSpotConnector({
      baseUrl: fake.url,
      token: TOKEN,
      idProperty: { deals: 'dwh_deal_id', line_items: 'dwh_line_id' },
      rateLimit: false,
      retry: false,
      fetch: async (input, init) => {
        if (String(input).includes('/batch/read') && typeof init?.body === 'string') {
          sent.push(JSON.parse(init.body) as (typeof sent)[number]);
        }
        return globalThis.fetch(input, init);
      },
    });
  });
  beforeEach(() => {
    fake.reset();
    sent.length = 0;
  });
  afterAll(async () => fake?.stop());

  it('reads N children in ceil(N / 1000) calls, each child once, with their deals', async () => {
    // Prepare: 2,500 line items; every fifth has no deal, the others one of two deals
    const [a, b] = [seedDeal(1), seedDeal(2)];
    const lines = seedLines(2500);
    lines.forEach((id, i) => {
      if (i % 5 !== 0) fake.seedAssociation('line_items', id, 'deals', i % 2 === 0 ? a : b);
    });
    // Act: every id asked twice, as a caller with duplicates would
    const read = await hubspot.readAssociations('line_items', [...lines, ...lines.slice(0, 10)], 'deals');
    // Assess
    expect(HUBSPOT_ASSOCIATION_READ_BATCH_SIZE).toBe(1000);
    expect(readCalls().map((c) => c.inputs)).toEqual([1000, 1000, 500]);
    expect(readCalls().map((c) => c.status)).toEqual([207, 207, 207]);
    expect(read.size).toBe(2500);
    expect(read.get(lines[0]!)).toEqual([]);
    expect(read.get(lines[1]!)!.map((r) => r.toId)).toEqual([b]);
    expect(read.get(lines[2]!)!.map((r) => r.toId)).toEqual([a]);
    expect(read.get(lines[2]!)![0]!.types).toEqual([
      { category: 'HUBSPOT_DEFINED', typeId: 20, label: null },
    ]);
    expect([...read.values()].filter((r) => r.length === 0)).toHaveLength(500);
  });

  it('takes a 207 whose every input has no association (NO_ASSOCIATIONS_FOUND) as none, in one call', async () => {
    const lines = seedLines(3);
    const read = await hubspot.readAssociations('line_items', lines, 'deals');
    expect(readCalls()).toEqual([expect.objectContaining({ inputs: 3, status: 207 })]);
    expect([...read.entries()]).toEqual(lines.map((id) => [id, []]));
  });

  it('asks again from its cursor for a record with more associations than one answer holds', async () => {
    // Prepare: a deal with 600 line items (500 per answer), and one with 2
    const [big, small] = [seedDeal(1), seedDeal(2)];
    const lines = seedLines(602);
    lines.forEach((id, i) => {
      fake.seedAssociation('deals', i < 600 ? big : small, 'line_items', id);
    });
    // Act
    const read = await hubspot.readAssociations('deals', [big, small], 'line_items');
    // Assess: the second call carries only the big deal, from where the first answer stopped
    expect(sent.map((b) => b.inputs.map((i) => i.id))).toEqual([[big, small], [big]]);
    expect(sent[1]!.inputs[0]!.after).toEqual(expect.any(String));
    expect(read.get(big)!.map((r) => r.toId)).toEqual(lines.slice(0, 600));
    expect(read.get(small)!.map((r) => r.toId)).toEqual(lines.slice(600));
  });

  it('throws rather than guess when an input fails otherwise, an id is left out, or the call fails', async () => {
    const [deal] = [seedDeal(1)];
    const lines = seedLines(2);
    fake.seedAssociation('line_items', lines[0]!, 'deals', deal);
    const read = () => hubspot.readAssociations('line_items', lines, 'deals');
    // An input error that is not "no associations": the caller cannot tell what the record has.
    fake.failNext(1, 207, {
      match: READ,
      body: {
        status: 'COMPLETE',
        results: [{ from: { id: lines[0] }, to: [{ toObjectId: Number(deal), associationTypes: [] }] }],
        errors: [
          {
            status: 'error',
            category: 'MISSING_SCOPES',
            message: 'scope',
            context: { fromObjectId: [lines[1]] },
          },
        ],
      },
    });
    await expect(read()).rejects.toMatchObject({ code: 'HUBSPOT_FORBIDDEN' });
    // A 200 that does not mention one of the records asked for.
    fake.failNext(1, 200, {
      match: READ,
      body: {
        status: 'COMPLETE',
        results: [{ from: { id: lines[0] }, to: [{ toObjectId: deal, associationTypes: [] }] }],
      },
    });
    await expect(read()).rejects.toThrow(/did not mention record/);
    fake.failNext(1, 429, { match: READ, retryAfterSeconds: 1 });
    const limited = await read().catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(TargetError);
    expect(limited).toMatchObject({ code: 'HUBSPOT_RATE_LIMITED', disposition: 'retryable' });
    // And then, the fault gone, the real answer.
    expect((await read()).get(lines[0]!)!.map((r) => r.toId)).toEqual([deal]);
  });

  it('sends nothing for no ids', async () => {
    expect((await hubspot.readAssociations('line_items', [], 'deals')).size).toBe(0);
    expect(readCalls()).toHaveLength(0);
  });
});

import { describe, expect, it } from 'vitest';
import {
  namedIds,
  resultIds,
  sameObjectType,
} from '../../../shared/connectors/hubspot/HubSpotAssociations.ts';
import { HubSpotConnector } from '../../../shared/connectors/hubspot/HubSpotConnector.ts';

describe('namedIds', () => {
  it('reads HubSpot’s INVALID_OBJECT_IDS and the parallel objectId / objectType lists', () => {
    expect(
      namedIds({
        message: 'One or more associations are invalid',
        context: {
          INVALID_OBJECT_IDS: ['CONTACT=38374264688 is not valid'],
          objectId: ['38374264688'],
          objectType: ['CONTACT'],
        },
      }),
    ).toEqual([
      { id: '38374264688', objectType: 'CONTACT' },
      { id: '38374264688', objectType: 'CONTACT' },
    ]);
  });

  it('reads fromObjectId / toObjectId with their side, and ids; nothing from a body without context', () => {
    expect(namedIds({ context: { fromObjectId: ['1'], toObjectId: ['2'], ids: ['3'] } })).toEqual([
      { id: '1', side: 'from' },
      { id: '2', side: 'to' },
      { id: '3' },
    ]);
    expect(namedIds({ message: 'x' })).toEqual([]);
    expect(namedIds(undefined)).toEqual([]);
  });
});

describe('resultIds', () => {
  it('reads default results ({from:{id}}) and labelled ones (numeric fromObjectId)', () => {
    expect(resultIds({ from: { id: '1' }, to: { id: '2' }, associationSpec: {} })).toEqual({
      fromId: '1',
      toId: '2',
    });
    expect(resultIds({ fromObjectId: 1, toObjectId: 2, labels: [] })).toEqual({ fromId: '1', toId: '2' });
    expect(resultIds({ from: {} })).toBeUndefined();
  });
});

describe('sameObjectType', () => {
  it('matches HubSpot’s labels, names and type ids of one object type, and anything unknown', () => {
    expect(sameObjectType('LINE_ITEM', 'line_items')).toBe(true);
    expect(sameObjectType('0-3', 'deals')).toBe(true);
    expect(sameObjectType('COMPANY', 'companies')).toBe(true);
    expect(sameObjectType('DEAL', 'line_items')).toBe(false);
    expect(sameObjectType('P_CARS', 'line_items')).toBe(true);
    expect(sameObjectType(undefined, 'deals')).toBe(true);
  });
});

describe('HubSpotConnector.associate answer mapping', () => {
  const connector = (answer: () => Response | Promise<Response>, bodies: unknown[] = []) =>
    new HubSpotConnector({
      token: 'pat-unit',
      baseUrl: 'http://hubspot.invalid',
      retry: false,
      rateLimit: false,
      fetch: async (_url, init) => {
        bodies.push(JSON.parse(String(init?.body)));
        return answer();
      },
    });
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

  it('counts only the asked direction: a pair answered by its inverse alone is retryable', async () => {
    const hs = connector(() =>
      json(200, {
        status: 'COMPLETE',
        results: [{ from: { id: '2' }, to: { id: '1' }, associationSpec: {} }],
      }),
    );

    const [r] = await hs.associate('line_items', 'deals', [{ fromId: '1', toId: '2' }]);

    expect(r).toMatchObject({ ok: false, error: { code: 'HUBSPOT_BAD_RESPONSE', disposition: 'retryable' } });
  });

  it('keeps a pair an error does not name retryable, with the unattributed error as a hint', async () => {
    const hs = connector(() =>
      json(207, {
        status: 'COMPLETE',
        results: [{ from: { id: '1' }, to: { id: '9' } }],
        errors: [{ status: 'error', category: 'VALIDATION_ERROR', message: 'something odd', context: {} }],
      }),
    );

    const results = await hs.associate('line_items', 'deals', [
      { fromId: '1', toId: '9' },
      { fromId: '2', toId: '9' },
    ]);

    expect(results[0]?.ok).toBe(true);
    expect(results[1]).toMatchObject({
      ok: false,
      error: { code: 'HUBSPOT_BAD_RESPONSE', disposition: 'retryable' },
    });
    expect(results[1]?.ok === false && results[1].error.message).toContain('something odd');
  });

  it('fails every pair of a 2xx whose body is not JSON as retryable, and refuses empty ids locally', async () => {
    const bodies: unknown[] = [];
    const hs = connector(() => new Response('<html>ok</html>', { status: 200 }), bodies);

    const results = await hs.associate('line_items', 'deals', [
      { fromId: '1', toId: '2' },
      { key: 'empty', fromId: '', toId: '2' },
    ]);

    expect(results.map((r) => [r.key, r.ok === false && r.error.code])).toEqual([
      ['1->2', 'HUBSPOT_BAD_RESPONSE'],
      ['empty', 'HUBSPOT_VALIDATION_ERROR'],
    ]);
    expect(bodies).toEqual([{ inputs: [{ from: { id: '1' }, to: { id: '2' } }] }]);
  });

  it('classifies a connection failure as retryable for every pair', async () => {
    const hs = connector(() => {
      throw new TypeError('fetch failed');
    });

    const results = await hs.associate('line_items', 'deals', [
      { fromId: '1', toId: '2' },
      { fromId: '3', toId: '2' },
    ]);

    expect(results.map((r) => r.ok === false && [r.error.code, r.error.disposition])).toEqual([
      ['HUBSPOT_NETWORK_ERROR', 'retryable'],
      ['HUBSPOT_NETWORK_ERROR', 'retryable'],
    ]);
  });
});

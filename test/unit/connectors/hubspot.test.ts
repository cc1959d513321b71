import { describe, expect, it } from 'vitest';
import {
  retryAfterSeconds,
  toHubSpotProperties,
  waves,
} from '../../../shared/connectors/hubspot/HubSpotConnector.ts';

describe('toHubSpotProperties', () => {
  it('turns null into an empty string, which clears the property in HubSpot', () => {
    expect(toHubSpotProperties({ phone: null })).toEqual({ phone: '' });
  });

  it('leaves undefined fields out', () => {
    expect(toHubSpotProperties({ phone: undefined, firstname: 'Ada' })).toEqual({ firstname: 'Ada' });
  });

  it('writes numbers, booleans, dates and arrays the way HubSpot reads them', () => {
    expect(
      toHubSpotProperties({
        amount: 12.5,
        big: 10n,
        vip: true,
        closedate: new Date('2024-03-01T10:00:00.000Z'),
        tags: ['a', 'b'],
        meta: { x: 1 },
      }),
    ).toEqual({
      amount: '12.5',
      big: '10',
      vip: 'true',
      closedate: '2024-03-01T10:00:00.000Z',
      tags: 'a;b',
      meta: '{"x":1}',
    });
  });
});

describe('retryAfterSeconds', () => {
  it('prefers a Retry-After header in seconds', () => {
    expect(retryAfterSeconds(new Headers({ 'Retry-After': '7' }), 'DAILY')).toBe(7);
  });

  it('reads a Retry-After HTTP date', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(
      retryAfterSeconds(new Headers({ 'Retry-After': 'Mon, 01 Jan 2024 00:00:30 GMT' }), undefined, now),
    ).toBe(30);
  });

  it('waits out the rolling window for TEN_SECONDLY_ROLLING', () => {
    expect(retryAfterSeconds(new Headers(), 'TEN_SECONDLY_ROLLING')).toBe(10);
    expect(
      retryAfterSeconds(
        new Headers({ 'X-HubSpot-RateLimit-Interval-Milliseconds': '1000' }),
        'TEN_SECONDLY_ROLLING',
      ),
    ).toBe(1);
  });

  it('waits a second for SECONDLY and an hour for DAILY', () => {
    expect(retryAfterSeconds(new Headers(), 'SECONDLY')).toBe(1);
    expect(retryAfterSeconds(new Headers(), 'DAILY')).toBe(3600);
  });
});

describe('waves', () => {
  const r = (key: string, externalId: string) => ({ key, externalId, idempotencyKey: key, payload: {} });

  it('puts repeated external ids into later groups, keeping order', () => {
    const groups = waves([r('a', 'x'), r('b', 'y'), r('c', 'x'), r('d', 'x')]);
    expect(groups.map((g) => g.map((x) => x.key))).toEqual([['a', 'b'], ['c'], ['d']]);
  });
});

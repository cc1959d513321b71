import { describe, expect, it } from 'vitest';
import { chunks, waves } from '../../../shared/connectors/batching.ts';
import type { UpsertRecord } from '../../../shared/connectors/Connector.ts';
import { applyNullPolicy } from '../../../shared/connectors/nullPolicy.ts';
import { salesforceRetryAfterMs } from '../../../shared/connectors/salesforce/SalesforceConnector.ts';
import {
  idempotencyKey,
  toXeroFields,
  xeroRetryAfterMs,
} from '../../../shared/connectors/xero/XeroConnector.ts';

const rec = (key: string, externalId: string, version = 1): UpsertRecord => ({
  key,
  externalId,
  idempotencyKey: `s:${key}:${version}`,
  payload: {},
});
const answer = (status: number, headers: Record<string, string> = {}, text = '') => ({
  status,
  headers: new Headers(headers),
  text,
});

describe('Function: applyNullPolicy', () => {
  it('keeps nulls that clear, drops those that must leave the target untouched, and always drops undefined', () => {
    const payload = { a: null, b: null, c: 1, d: undefined };
    expect(applyNullPolicy(payload)).toEqual({ a: null, b: null, c: 1 });
    expect(applyNullPolicy(payload, 'keep')).toEqual({ c: 1 });
    expect(applyNullPolicy(payload, { default: 'clear', fields: { b: 'keep' } })).toEqual({ a: null, c: 1 });
  });
});

describe('Function: waves', () => {
  it('puts a repeated external id in a later call, keeping order', () => {
    const out = waves([rec('1', 'x'), rec('2', 'y'), rec('3', 'x')]);
    expect(out.map((w) => w.map((r) => r.key))).toEqual([['1', '2'], ['3']]);
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});

describe('Xero helpers', () => {
  it('sends null as "" (clears the element) and Dates as days', () => {
    expect(
      toXeroFields({ Phone: null, Date: new Date('2024-03-01T00:00:00Z'), n: 2n, skip: undefined }),
    ).toEqual({
      Phone: '',
      Date: '2024-03-01',
      n: '2',
    });
  });

  it('derives the same Idempotency-Key for the same records and versions, another for a new version', () => {
    const a = idempotencyKey('Contacts', [rec('1', 'x'), rec('2', 'y')]);
    expect(idempotencyKey('Contacts', [rec('1', 'x'), rec('2', 'y')])).toBe(a);
    expect(idempotencyKey('Contacts', [rec('1', 'x', 2), rec('2', 'y')])).not.toBe(a);
    expect(a!.length).toBeLessThanOrEqual(128);
  });

  it('keys only the creates of a batch: updates by id carry none, a batch of updates no key at all', () => {
    const update = { ...rec('2', 'y'), targetId: 'c-2' };
    expect(idempotencyKey('Contacts', [rec('1', 'x'), update])).toBe(
      idempotencyKey('Contacts', [rec('1', 'x')]),
    );
    expect(idempotencyKey('Contacts', [update])).toBeUndefined();
  });

  it('waits by Retry-After, else by X-Rate-Limit-Problem', () => {
    expect(xeroRetryAfterMs(answer(429, { 'Retry-After': '12' }), 0)).toBe(12_000);
    expect(xeroRetryAfterMs(answer(429, { 'X-Rate-Limit-Problem': 'concurrent' }), 0)).toBe(1_000);
    expect(xeroRetryAfterMs(answer(429, { 'X-Rate-Limit-Problem': 'day' }), 0)).toBe(3_600_000);
  });
});

describe('Salesforce helpers', () => {
  it('waits an hour for the 24-hour allocation and 20 s for the long-running cap', () => {
    const limit = (message: string) => JSON.stringify([{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message }]);
    expect(salesforceRetryAfterMs(answer(403, {}, limit('TotalRequests Limit exceeded.')), 0)).toBe(
      3_600_000,
    );
    expect(salesforceRetryAfterMs(answer(403, {}, limit('ConcurrentPerOrgLongTxn Limit exceeded.')), 0)).toBe(
      20_000,
    );
    expect(
      salesforceRetryAfterMs(answer(403, {}, '[{"errorCode":"INSUFFICIENT_ACCESS"}]'), 0),
    ).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { isAuthRefusal } from '../../../shared/connectors/authErrors.ts';
import { errorForStatus } from '../../../shared/connectors/http/statusError.ts';
import { HubSpotErrorCode } from '../../../shared/connectors/hubspot/hubspotErrors.ts';
import { SalesforceErrorCode } from '../../../shared/connectors/salesforce/SalesforceConnector.ts';
import { StripeErrorCode } from '../../../shared/connectors/stripe/StripeConnector.ts';
import { XeroErrorCode } from '../../../shared/connectors/xero/XeroConnector.ts';

const VENDORS = [
  ['HubSpot', { ...HubSpotErrorCode, refused: HubSpotErrorCode.rejected }],
  ['Xero', { ...XeroErrorCode, refused: XeroErrorCode.rejected }],
  ['Salesforce', { ...SalesforceErrorCode, refused: SalesforceErrorCode.rejected }],
  ['Stripe', { ...StripeErrorCode, refused: StripeErrorCode.invalid, notFound: StripeErrorCode.notFound }],
] as const;

describe('Function: isAuthRefusal', () => {
  it.each(VENDORS)(
    'takes %s 401 and 403 answers for refused credentials, and no other status',
    (_, codes) => {
      // Act
      const verdict = (status: number) => isAuthRefusal(errorForStatus(status, `HTTP ${status}`, codes));
      // Assess
      expect([401, 403].map(verdict)).toEqual([true, true]);
      expect([400, 404, 408, 409, 422, 500, 503].map(verdict)).toEqual(Array(7).fill(false));
    },
  );

  it('takes a Postgres failed login (SQLSTATE class 28) for refused credentials, not a missing grant', () => {
    expect(isAuthRefusal({ code: 'PG_28P01' })).toBe(true);
    expect(isAuthRefusal({ code: 'PG_28000' })).toBe(true);
    expect(isAuthRefusal({ code: 'PG_42501' })).toBe(false);
    expect(isAuthRefusal({ code: 'PG_ECONNREFUSED' })).toBe(false);
  });

  it('leaves out a token endpoint that is down, rate limits and our own codes', () => {
    for (const code of [
      XeroErrorCode.authUnavailable,
      'SALESFORCE_AUTH_UNAVAILABLE',
      SalesforceErrorCode.requestLimit,
      HubSpotErrorCode.rateLimited,
      'WB_RATE_LIMIT_WAIT',
      'WB_TARGET_CALL_FAILED',
    ])
      expect(isAuthRefusal({ code }), code).toBe(false);
    expect(isAuthRefusal(undefined)).toBe(false);
  });

  it("reads a link's lastError as well (what the redrive looks at)", () => {
    expect(
      isAuthRefusal({ code: 'XERO_UNAUTHORIZED', message: 'x', at: '2026-01-01T00:00:00Z' } as never),
    ).toBe(true);
  });
});

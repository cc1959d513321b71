import type { FakeCall, Reply } from '../common/FakeServer.ts';
import { errorBody } from './bodies.ts';

/** Who the fake's private app token belongs to, and what its app may do. */
export interface HubSpotIdentityOptions {
  /** The account (Hub ID). @default 24_681_357 */
  readonly portalId?: number;
  /** The scopes the private app was given. @default read and write of every standard CRM object and custom objects */
  readonly scopes?: readonly string[];
  /** @default 'STANDARD' (also DEVELOPER_TEST, SANDBOX, APP_DEVELOPER) */
  readonly accountType?: string;
}

const OBJECTS = ['contacts', 'companies', 'deals', 'tickets', 'line_items', 'products', 'quotes', 'custom'];

/** Every CRM object scope, read and write: what a private app ticked for everything has. */
export const ALL_CRM_SCOPES: readonly string[] = OBJECTS.flatMap((o) => [
  `crm.objects.${o}.read`,
  `crm.objects.${o}.write`,
]);

/**
 * The account and token endpoints HubSpot answers for a private app, as the fake plays them:
 * - `GET /account-info/v3/details` (any valid token): `portalId`, `accountType`, `timeZone`,
 *   `companyCurrency`, `additionalCurrencies`, `utcOffset`, `utcOffsetMilliseconds`, `uiDomain`,
 *   `dataHostingLocation`;
 * - `POST /oauth/v2/private-apps/get/access-token-info` with `{"tokenKey": "<token>"}` (the token
 *   is the credential: no Authorization header): `userId`, `hubId`, `appId`, `scopes`; an unknown
 *   token is a 401 INVALID_AUTHENTICATION.
 */
export class HubSpotIdentity {
  private readonly opts: HubSpotIdentityOptions;

  public constructor(opts: HubSpotIdentityOptions = {}) {
    this.opts = opts;
  }

  public get portalId(): number {
    return this.opts.portalId ?? 24_681_357;
  }

  /** The token-info answer, for a call to its path; undefined for any other call. */
  public tokenInfo(call: FakeCall, raw: string, token: string): Reply | undefined {
    if (call.method !== 'POST' || call.path !== '/oauth/v2/private-apps/get/access-token-info')
      return undefined;
    let key: unknown;
    try {
      key = (JSON.parse(raw) as { tokenKey?: unknown }).tokenKey;
    } catch {
      return { status: 400, body: errorBody('Invalid input JSON', 'VALIDATION_ERROR') };
    }
    if (key !== token) {
      return {
        status: 401,
        body: errorBody('The access token provided is invalid or expired.', 'INVALID_AUTHENTICATION'),
      };
    }
    return {
      status: 200,
      body: {
        userId: 7_654_321,
        hubId: this.portalId,
        appId: 3_141_592,
        scopes: this.opts.scopes ?? ALL_CRM_SCOPES,
      },
    };
  }

  /** The account-details answer, for an authorised call to its path; undefined for any other call. */
  public details(call: FakeCall): Reply | undefined {
    if (call.method !== 'GET' || call.path !== '/account-info/v3/details') return undefined;
    return {
      status: 200,
      body: {
        portalId: this.portalId,
        accountType: this.opts.accountType ?? 'STANDARD',
        timeZone: 'Europe/London',
        companyCurrency: 'GBP',
        additionalCurrencies: [],
        utcOffset: '+00:00',
        utcOffsetMilliseconds: 0,
        uiDomain: 'app-eu1.hubspot.com',
        dataHostingLocation: 'eu1',
      },
    };
  }
}

import { scopeBase } from '../../../shared/connectors/hubspot/hubspotCredentials.ts';
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

  /** The scopes of the private app's token. */
  public get scopes(): readonly string[] {
    return this.opts.scopes ?? ALL_CRM_SCOPES;
  }

  /**
   * HubSpot's 403 MISSING_SCOPES for a CRM objects call (v3 objects; v4 associations by the object
   * they start from) whose token lacks the object's read scope (GET, batch/read, search) or write
   * scope (anything else); undefined when the token may. `objectName` resolves a type or its id
   * (0-1) to its name.
   */
  public scopeRefusal(
    call: FakeCall,
    granted: readonly string[],
    objectName: (typeOrId: string) => string | undefined,
  ): Reply | undefined {
    const m = /^\/crm\/v[34]\/(?:objects|associations)\/([^/]+)(\/.*)?$/.exec(call.path);
    if (!m) return undefined;
    const name = objectName(decodeURIComponent(m[1]!));
    if (name === undefined) return undefined;
    const reads = call.method === 'GET' || /\/batch\/read$|\/search$/.test(m[2] ?? '');
    const scope = `${scopeBase(name)}.${reads ? 'read' : 'write'}`;
    if (granted.includes(scope)) return undefined;
    return {
      status: 403,
      body: {
        ...errorBody(
          "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
          'MISSING_SCOPES',
          {
            errors: [
              {
                message: 'One or more of the following scopes are required.',
                context: { requiredGranularScopes: [scope] },
              },
            ],
          },
        ),
        links: { scopes: 'https://developers.hubspot.com/scopes' },
      },
    };
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

import { randomUUID } from 'node:crypto';
import { AuthCodes, isLoopbackUri, opaqueToken, redirectBack } from '../common/authCodes.ts';
import type { FakeCall, Reply } from '../common/FakeServer.ts';
import { ALL_CRM_SCOPES } from './hubspotIdentity.ts';

/** A public app registered with the fake. */
export interface HubSpotFakeApp {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Redirect URLs registered with the app (matched exactly). @default any loopback http URL */
  readonly redirectUris?: readonly string[];
}

export interface HubSpotOAuthOptions {
  readonly apps?: readonly HubSpotFakeApp[];
  /** Scopes the installing user grants, of those asked for. @default every one asked for that HubSpot knows */
  readonly consentScopes?: readonly string[];
  /** @default 1800 (HubSpot: 30 minutes) */
  readonly accessTokenTtlSeconds?: number;
  readonly portalId: number;
  readonly now: () => number;
}

export const HUBSPOT_FAKE_CLIENT_ID = '5f4dcc3b-aaaa-4bbb-8ccc-000000000001';
export const HUBSPOT_FAKE_CLIENT_SECRET = 'hubspot-fake-client-secret';

const KNOWN = new Set(['oauth', ...ALL_CRM_SCOPES]);

/**
 * HubSpot's OAuth 2.0 endpoints for a public app, as the fake plays them (developers.hubspot.com,
 * OAuth): `GET /oauth/authorize` (app.hubspot.com: the user picks the account and consents at
 * once, headless; a 302 to `redirect_uri` with `code` and `state`; an unknown client or redirect
 * URL is an error page), `POST /oauth/v1/token` (`authorization_code` and `refresh_token`, client
 * id and secret in the form; `{token_type, refresh_token, access_token, expires_in}`, no scope; a
 * refresh answers the SAME refresh token; errors are 400 `{"status":"BAD_AUTH_CODE" |
 * "BAD_REFRESH_TOKEN" | "BAD_CLIENT_ID" | "BAD_CLIENT_SECRET" | "BAD_REDIRECT_URI", "message"}`),
 * and `GET /oauth/v1/access-tokens/{token}` (the token's hub, user and scopes; 404 when unknown or
 * expired).
 */
export class HubSpotOAuthFake {
  private readonly opts: HubSpotOAuthOptions;
  private readonly codes: AuthCodes;
  private readonly refreshTokens = new Map<string, { scope: string; revoked: boolean }>();
  private readonly accessTokens = new Map<string, { scope: string; expiresAt: number }>();
  /** Successful refresh_token grants. */
  public refreshes = 0;

  public constructor(opts: HubSpotOAuthOptions) {
    this.opts = opts;
    this.codes = new AuthCodes(opts.now);
  }

  private get apps(): readonly HubSpotFakeApp[] {
    return this.opts.apps ?? [{ clientId: HUBSPOT_FAKE_CLIENT_ID, clientSecret: HUBSPOT_FAKE_CLIENT_SECRET }];
  }

  /** An access token this fake issued that has not expired: the CRM API takes it. */
  public accepts(accessToken: string): boolean {
    const t = this.accessTokens.get(accessToken);
    return t !== undefined && t.expiresAt > this.opts.now();
  }

  /** The scopes an access token of this fake carries (none for a token it did not issue). */
  public scopesOf(accessToken: string): readonly string[] {
    return (this.accessTokens.get(accessToken)?.scope ?? '').split(' ').filter(Boolean);
  }

  /** The account uninstalls the app: its refresh tokens and access tokens stop working. */
  public revokeAll(): void {
    for (const r of this.refreshTokens.values()) r.revoked = true;
    this.accessTokens.clear();
  }

  /** The answer to an OAuth call; undefined for any other call. */
  public answer(call: FakeCall, raw: string): Reply | undefined {
    if (call.method === 'GET' && call.path === '/oauth/authorize') return this.authorize(call.query);
    if (call.method === 'POST' && call.path === '/oauth/v1/token')
      return this.token(new URLSearchParams(raw));
    const meta = /^\/oauth\/v1\/access-tokens\/([^/]+)$/.exec(call.path);
    if (call.method === 'GET' && meta) return this.metadata(decodeURIComponent(meta[1]!));
    return undefined;
  }

  private authorize(q: Readonly<Record<string, string>>): Reply {
    const app = this.apps.find((a) => a.clientId === q.client_id);
    const uri = q.redirect_uri ?? '';
    const allowed = app && (app.redirectUris ? app.redirectUris.includes(uri) : isLoopbackUri(uri));
    if (!app || !allowed) {
      return {
        status: 400,
        text: `<html><body><h1>Couldn't complete the connection</h1><p>${app ? 'The redirect URL does not match the app' : 'The app could not be found'}.</p></body></html>`,
        headers: { 'Content-Type': 'text/html' },
      };
    }
    const asked = (q.scope ?? '').split(/[\s+]+/).filter(Boolean);
    if (asked.some((s) => !KNOWN.has(s))) return redirectBack(uri, { error: 'invalid_scope' }, q.state);
    const consent = this.opts.consentScopes;
    const scope = (consent ? asked.filter((s) => consent.includes(s)) : asked).join(' ');
    return redirectBack(
      uri,
      { code: this.codes.issue({ clientId: app.clientId, scope }, uri, undefined) },
      q.state,
    );
  }

  private token(form: URLSearchParams): Reply {
    const app = this.apps.find((a) => a.clientId === form.get('client_id'));
    if (!app) return hubspotOAuthError('BAD_CLIENT_ID', 'missing or invalid client id');
    if (app.clientSecret !== form.get('client_secret'))
      return hubspotOAuthError('BAD_CLIENT_SECRET', 'missing or invalid client secret');
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      const uri = form.get('redirect_uri');
      if (app.redirectUris && !app.redirectUris.includes(uri ?? ''))
        return hubspotOAuthError('BAD_REDIRECT_URI', 'redirect uri does not match the app');
      const grant = this.codes.redeem(form.get('code') ?? '', app.clientId, uri, null);
      if (!grant) return hubspotOAuthError('BAD_AUTH_CODE', 'missing or unknown auth code');
      const refreshToken = opaqueToken('na1-');
      this.refreshTokens.set(refreshToken, { scope: grant.scope, revoked: false });
      return this.issue(refreshToken, grant.scope);
    }
    if (grantType === 'refresh_token') {
      const refreshToken = form.get('refresh_token') ?? '';
      const record = this.refreshTokens.get(refreshToken);
      if (!record || record.revoked)
        return hubspotOAuthError('BAD_REFRESH_TOKEN', 'missing or invalid refresh token');
      this.refreshes++;
      return this.issue(refreshToken, record.scope);
    }
    return hubspotOAuthError('BAD_GRANT_TYPE', 'unsupported grant_type');
  }

  private issue(refreshToken: string, scope: string): Reply {
    const ttl = this.opts.accessTokenTtlSeconds ?? 1800;
    const accessToken = opaqueToken('CJ');
    this.accessTokens.set(accessToken, { scope, expiresAt: this.opts.now() + ttl * 1000 });
    return {
      status: 200,
      body: { token_type: 'bearer', refresh_token: refreshToken, access_token: accessToken, expires_in: ttl },
    };
  }

  private metadata(token: string): Reply {
    const t = this.accessTokens.get(token);
    if (!t || t.expiresAt <= this.opts.now()) {
      return hubspotOAuthError('error', 'Token not found', 404);
    }
    return {
      status: 200,
      body: {
        token,
        user: 'admin@example.com',
        hub_domain: 'writeback-fake.hubspot.com',
        scopes: t.scope.split(' ').filter(Boolean),
        hub_id: this.opts.portalId,
        app_id: 3_141_593,
        expires_in: Math.max(0, Math.round((t.expiresAt - this.opts.now()) / 1000)),
        user_id: 7_654_321,
        token_type: 'access',
      },
    };
  }
}

/** HubSpot's OAuth error body: `{"status":"BAD_REFRESH_TOKEN","message":…,"correlationId":…}`. */
function hubspotOAuthError(status: string, message: string, http = 400): Reply {
  return { status: http, body: { status, message, correlationId: randomUUID() } };
}

import { AuthCodes, isLoopbackUri, opaqueToken, redirectBack } from '../common/authCodes.ts';
import type { FakeCall, Reply } from '../common/FakeServer.ts';

/** A connected app enabled for the web-server flow. */
export interface SalesforceFakeApp {
  readonly clientId: string;
  /** Absent: "Require Secret for Web Server Flow" is off, PKCE proves the client. */
  readonly clientSecret?: string;
  /** Callback URLs (matched exactly). @default any loopback http URL */
  readonly callbackUrls?: readonly string[];
}

export interface SalesforceOAuthOptions {
  readonly apps: readonly SalesforceFakeApp[];
  /** Scopes the user approves, of those asked for. @default every one asked for */
  readonly consentScopes?: readonly string[];
  readonly organizationId: string;
  readonly now: () => number;
}

/** How long the fake keeps an access token valid (Salesforce: the org's session timeout). */
const SESSION_MS = 2 * 3_600_000;

/**
 * The web-server flow of a Salesforce org, as the fake plays it (help.salesforce.com, OAuth 2.0
 * Web Server Flow): `GET /services/oauth2/authorize` (the user logs in and approves at once,
 * headless: a 302 to `redirect_uri` with `code` and `state`; an unknown client id or callback URL
 * is an error page, never a redirect) and `POST /services/oauth2/token` with `authorization_code`
 * (client id, and secret or PKCE verifier) and `refresh_token` grants. Answers carry
 * `access_token`, `signature`, `scope`, `instance_url`, `id`, `token_type`, `issued_at` (no
 * `expires_in`); a refresh token only with the `refresh_token` (or `offline_access`) scope, and
 * only from the code: a refresh answers no new one. Errors: 400 `invalid_grant` ("authentication
 * failure", "expired access/refresh token", "invalid code verifier"), `invalid_client`.
 * Client-credentials grants are the fake's own (undefined here).
 */
export class SalesforceOAuthFake {
  private readonly opts: SalesforceOAuthOptions;
  private readonly codes: AuthCodes;
  private readonly refreshTokens = new Map<string, { clientId: string; scope: string; revoked: boolean }>();
  private readonly accessTokens = new Map<string, number>();
  public refreshes = 0;

  public constructor(opts: SalesforceOAuthOptions) {
    this.opts = opts;
    this.codes = new AuthCodes(opts.now, 15 * 60_000);
  }

  /** An access token of this flow that the session timeout has not ended. */
  public accepts(accessToken: string): boolean {
    return (this.accessTokens.get(accessToken) ?? 0) > this.opts.now();
  }

  /** An admin revokes the app's tokens (or the user its access): every refresh token stops working. */
  public revokeAll(): void {
    for (const r of this.refreshTokens.values()) r.revoked = true;
    this.accessTokens.clear();
  }

  /** The answer to an authorize call or an authorization-code or refresh grant; undefined otherwise. */
  public answer(call: FakeCall, raw: string, baseUrl: string): Reply | undefined {
    if (call.method === 'GET' && call.path === '/services/oauth2/authorize')
      return this.authorize(call.query);
    if (call.method !== 'POST' || call.path !== '/services/oauth2/token') return undefined;
    const form = new URLSearchParams(raw);
    const grantType = form.get('grant_type');
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token') return undefined;
    const app = this.opts.apps.find((a) => a.clientId === form.get('client_id'));
    const secretOk =
      app && (app.clientSecret === undefined || app.clientSecret === form.get('client_secret'));
    const pkceOnly = app && form.get('client_secret') === null && form.get('code_verifier') !== null;
    if (!app || !(secretOk || (pkceOnly && grantType === 'authorization_code')))
      return oauthError('invalid_client', 'invalid client credentials');
    if (grantType === 'authorization_code') {
      const grant = this.codes.redeem(
        form.get('code') ?? '',
        app.clientId,
        form.get('redirect_uri'),
        form.get('code_verifier'),
      );
      if (!grant) return oauthError('invalid_grant', 'authentication failure');
      const scopes = grant.scope.split(' ');
      const refresh = scopes.includes('refresh_token') || scopes.includes('offline_access');
      const refreshToken = refresh ? opaqueToken('5Aep861') : undefined;
      if (refreshToken)
        this.refreshTokens.set(refreshToken, { clientId: app.clientId, scope: grant.scope, revoked: false });
      return this.issue(grant.scope, baseUrl, refreshToken);
    }
    const record = this.refreshTokens.get(form.get('refresh_token') ?? '');
    if (!record || record.revoked || record.clientId !== app.clientId)
      return oauthError('invalid_grant', 'expired access/refresh token');
    this.refreshes++;
    return this.issue(record.scope, baseUrl, undefined);
  }

  private authorize(q: Readonly<Record<string, string>>): Reply {
    const app = this.opts.apps.find((a) => a.clientId === q.client_id);
    const uri = q.redirect_uri ?? '';
    if (!app) return errorPage('invalid_client_id', 'client identifier invalid');
    if (!(app.callbackUrls ? app.callbackUrls.includes(uri) : isLoopbackUri(uri)))
      return errorPage('redirect_uri_mismatch', 'redirect_uri must match configuration');
    if (q.response_type !== 'code') return redirectBack(uri, { error: 'unsupported_response_type' }, q.state);
    if (q.code_challenge !== undefined && (q.code_challenge_method ?? 'S256') !== 'S256')
      return redirectBack(
        uri,
        { error: 'invalid_request', error_description: 'invalid code_challenge_method' },
        q.state,
      );
    const asked = (q.scope ?? 'api refresh_token').split(/\s+/).filter(Boolean);
    const consent = this.opts.consentScopes;
    const scope = (consent ? asked.filter((s) => consent.includes(s)) : asked).join(' ');
    const code = this.codes.issue({ clientId: app.clientId, scope }, uri, q.code_challenge);
    return redirectBack(uri, { code }, q.state);
  }

  private issue(scope: string, baseUrl: string, refreshToken: string | undefined): Reply {
    const accessToken = `${this.opts.organizationId}!${opaqueToken('')}`;
    this.accessTokens.set(accessToken, this.opts.now() + SESSION_MS);
    return {
      status: 200,
      body: {
        access_token: accessToken,
        ...(refreshToken ? { refresh_token: refreshToken } : {}),
        signature: opaqueToken(''),
        scope,
        instance_url: baseUrl,
        id: `${baseUrl}/id/${this.opts.organizationId}/0055g00000FAKEUAAW`,
        token_type: 'Bearer',
        issued_at: String(this.opts.now()),
      },
    };
  }
}

function oauthError(error: string, description: string): Reply {
  return { status: 400, body: { error, error_description: description } };
}

/** Salesforce shows an error page, not a redirect, when the client or its callback URL is wrong. */
function errorPage(error: string, description: string): Reply {
  return {
    status: 400,
    text: `<html><body><p>error=${error}&amp;error_description=${description}</p></body></html>`,
    headers: { 'Content-Type': 'text/html' },
  };
}

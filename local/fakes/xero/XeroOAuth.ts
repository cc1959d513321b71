import { createHash, randomBytes } from 'node:crypto';
import type { Reply } from '../common/FakeServer.ts';

/** An OAuth 2.0 app registered with the fake (Xero's "Auth Code" or "Auth Code with PKCE" app). */
export interface XeroFakeApp {
  readonly clientId: string;
  /** Absent for a PKCE app (no secret: the code verifier proves the client). */
  readonly clientSecret?: string;
  /**
   * Redirect URIs registered for the app; Xero matches them exactly (no wildcards; http only on
   * localhost). @default any http URI on 127.0.0.1 or localhost (a loopback client on a random port)
   */
  readonly redirectUris?: readonly string[];
}

export interface XeroOAuthOptions {
  readonly apps: readonly XeroFakeApp[];
  /** Access token lifetime. @default 1800 (Xero: 30 minutes) */
  readonly accessTokenTtlSeconds?: number;
  /** How long a rotated refresh token can still be used (Xero: a lost answer can be retried). @default 30 minutes */
  readonly refreshGraceMs?: number;
  /** Unused refresh tokens expire after this long. @default 60 days */
  readonly refreshTokenTtlMs?: number;
  /** Scopes the consenting user grants, of those asked for. @default every scope asked for */
  readonly consentScopes?: readonly string[];
  readonly now: () => number;
}

/** What the OAuth side of the fake did: what a test counts. */
export interface XeroOAuthStats {
  /** Successful refresh_token grants. */
  refreshes: number;
  /** Of those, uses of a refresh token already rotated (within the grace period). */
  graceRetries: number;
  /** refresh_token grants answered 400 invalid_grant. */
  invalidGrants: number;
  /** authorization_code grants that issued tokens. */
  codeExchanges: number;
  /** Each refresh: when, and which refresh token generation it used. */
  readonly refreshLog: { readonly at: number; readonly generation: number }[];
}

interface Grant {
  readonly clientId: string;
  readonly scope: string;
}

interface RefreshRecord {
  readonly grant: Grant;
  readonly issuedAt: number;
  readonly generation: number;
  /** When it was first used (it was rotated then). */
  rotatedAt?: number;
  revoked?: boolean;
}

interface CodeRecord {
  readonly grant: Grant;
  readonly redirectUri: string;
  readonly challenge: string | undefined;
  readonly expiresAt: number;
  used: boolean;
}

/** Scopes Xero knows (a subset: the ones Writeback asks for, plus OpenID's). */
const KNOWN_SCOPES = new Set([
  'openid',
  'profile',
  'email',
  'offline_access',
  'accounting.contacts',
  'accounting.contacts.read',
  'accounting.transactions',
  'accounting.transactions.read',
  'accounting.settings',
  'accounting.settings.read',
]);

const CODE_TTL_MS = 5 * 60_000;

/**
 * Xero's identity server as the fake plays it (developer.xero.com/documentation/oauth2, the FAQ):
 * - `GET /identity/connect/authorize` (login.xero.com): the user is assumed to log in and consent
 *   at once (headless), so a valid request is answered with a 302 to `redirect_uri` carrying
 *   `code`, `scope` and `state`. An unknown client or a redirect URI not registered is an error
 *   page (never a redirect: the URI is not trusted); other problems redirect with `error`.
 * - `POST /connect/token` (identity.xero.com): `authorization_code` (the code once, within 5
 *   minutes, the same redirect_uri, and for PKCE the code_verifier whose S256 is the challenge),
 *   `refresh_token`: every refresh answers a NEW refresh token; the one used is rotated but can be
 *   used again for the grace period (a lost answer), then `400 {"error":"invalid_grant"}`; unused
 *   refresh tokens expire after 60 days. A refresh token is issued only with `offline_access`.
 * Client authentication: HTTP Basic, or client_id (and client_secret) in the form.
 */
export class XeroOAuth {
  private readonly opts: XeroOAuthOptions;
  private readonly codes = new Map<string, CodeRecord>();
  private readonly refreshTokens = new Map<string, RefreshRecord>();
  /** Access token → expiry (ms) and the scopes it carries. */
  public readonly accessTokens = new Map<string, { expiresAt: number; scope: string }>();
  private readonly counters: XeroOAuthStats = {
    refreshes: 0,
    graceRetries: 0,
    invalidGrants: 0,
    codeExchanges: 0,
    refreshLog: [],
  };

  public constructor(opts: XeroOAuthOptions) {
    this.opts = opts;
  }

  public stats(): XeroOAuthStats {
    return { ...this.counters, refreshLog: [...this.counters.refreshLog] };
  }

  /** The user disconnects the app (or an admin revokes it): every refresh token stops working. */
  public revokeAll(): void {
    for (const r of this.refreshTokens.values()) r.revoked = true;
    this.accessTokens.clear();
  }

  public authorize(query: Readonly<Record<string, string>>): Reply {
    const app = this.opts.apps.find((a) => a.clientId === query.client_id);
    if (!app) return errorPage('unauthorized_client', 'Unknown client or client not enabled');
    const redirectUri = query.redirect_uri ?? '';
    if (!redirectAllowed(app, redirectUri)) return errorPage('invalid_request', 'Invalid redirect_uri');
    const back = (params: Record<string, string>): Reply => {
      const url = new URL(redirectUri);
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      if (query.state !== undefined) url.searchParams.set('state', query.state);
      return { status: 302, text: '', headers: { Location: url.toString() } };
    };
    if (query.response_type !== 'code') return back({ error: 'unsupported_response_type' });
    const asked = (query.scope ?? '').split(/\s+/).filter(Boolean);
    if (asked.length === 0 || asked.some((s) => !KNOWN_SCOPES.has(s)))
      return back({ error: 'invalid_scope' });
    const challenge = query.code_challenge;
    if (challenge !== undefined && query.code_challenge_method !== 'S256') {
      return back({ error: 'invalid_request', error_description: 'code_challenge_method must be S256' });
    }
    if (!app.clientSecret && challenge === undefined) {
      return back({ error: 'invalid_request', error_description: 'code challenge required' });
    }
    const consent = this.opts.consentScopes;
    const scope = (consent ? asked.filter((s) => consent.includes(s)) : asked).join(' ');
    const code = opaque(32);
    this.codes.set(code, {
      grant: { clientId: app.clientId, scope },
      redirectUri,
      challenge,
      expiresAt: this.opts.now() + CODE_TTL_MS,
      used: false,
    });
    return back({ code, scope, session_state: opaque(16) });
  }

  public token(form: URLSearchParams, authorization: string | undefined): Reply {
    const client = this.client(form, authorization);
    if (!client) return oauthError(400, 'invalid_client');
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') return this.exchangeCode(form, client);
    if (grantType === 'refresh_token') return this.refresh(form, client);
    return oauthError(400, 'unsupported_grant_type');
  }

  private exchangeCode(form: URLSearchParams, client: XeroFakeApp): Reply {
    const record = this.codes.get(form.get('code') ?? '');
    if (!record || record.used || record.expiresAt <= this.opts.now())
      return oauthError(400, 'invalid_grant');
    if (record.grant.clientId !== client.clientId || record.redirectUri !== form.get('redirect_uri')) {
      return oauthError(400, 'invalid_grant');
    }
    if (record.challenge !== undefined) {
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== record.challenge)
        return oauthError(400, 'invalid_grant');
    }
    record.used = true;
    this.counters.codeExchanges++;
    return this.issue(record.grant, 0);
  }

  private refresh(form: URLSearchParams, client: XeroFakeApp): Reply {
    const record = this.refreshTokens.get(form.get('refresh_token') ?? '');
    const now = this.opts.now();
    const rejected =
      !record ||
      record.revoked ||
      record.grant.clientId !== client.clientId ||
      now - record.issuedAt > (this.opts.refreshTokenTtlMs ?? 60 * 86_400_000) ||
      (record.rotatedAt !== undefined && now - record.rotatedAt > (this.opts.refreshGraceMs ?? 30 * 60_000));
    if (rejected) {
      this.counters.invalidGrants++;
      return oauthError(400, 'invalid_grant');
    }
    if (record.rotatedAt === undefined) record.rotatedAt = now;
    else this.counters.graceRetries++;
    this.counters.refreshes++;
    this.counters.refreshLog.push({ at: now, generation: record.generation });
    return this.issue(record.grant, record.generation + 1);
  }

  private issue(grant: Grant, generation: number): Reply {
    const now = this.opts.now();
    const ttl = this.opts.accessTokenTtlSeconds ?? 1800;
    const accessToken = `xat-${opaque(24)}`;
    this.accessTokens.set(accessToken, { expiresAt: now + ttl * 1000, scope: grant.scope });
    const offline = grant.scope.split(' ').includes('offline_access');
    const refreshToken = offline ? `xrt-${opaque(24)}` : undefined;
    if (refreshToken) this.refreshTokens.set(refreshToken, { grant, issuedAt: now, generation });
    return {
      status: 200,
      body: {
        access_token: accessToken,
        expires_in: ttl,
        token_type: 'Bearer',
        ...(refreshToken ? { refresh_token: refreshToken } : {}),
        scope: grant.scope,
      },
    };
  }

  /** The app the request authenticates as: Basic credentials, or client_id (+ client_secret) in the form. */
  private client(form: URLSearchParams, authorization: string | undefined): XeroFakeApp | undefined {
    let id = form.get('client_id') ?? undefined;
    let secret = form.get('client_secret') ?? undefined;
    const basic = /^Basic\s+(.+)$/i.exec(authorization ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      id = decoded.slice(0, colon);
      secret = decoded.slice(colon + 1);
    }
    const app = this.opts.apps.find((a) => a.clientId === id);
    if (!app) return undefined;
    // A PKCE app has no secret; a confidential app must present its own.
    if (app.clientSecret !== undefined && app.clientSecret !== secret) return undefined;
    return app;
  }
}

function redirectAllowed(app: XeroFakeApp, uri: string): boolean {
  if (app.redirectUris) return app.redirectUris.includes(uri);
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === 'localhost');
  } catch {
    return false;
  }
}

function opaque(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** Xero's token endpoint errors: `{"error":"invalid_grant"}` and the like. */
function oauthError(status: number, error: string): Reply {
  return { status, body: { error } };
}

/** Xero shows an error page, not a redirect, when the client or the redirect URI is wrong. */
function errorPage(error: string, description: string): Reply {
  return {
    status: 400,
    text: `<html><body><h1>Sorry, something went wrong</h1><p>Error: ${error}</p><p>${description}</p></body></html>`,
    headers: { 'Content-Type': 'text/html' },
  };
}

import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startXeroFake,
  XERO_FAKE_CLIENT_ID,
  XERO_FAKE_CLIENT_SECRET,
  XERO_FAKE_PKCE_CLIENT_ID,
  type XeroFake,
} from '../../../local/fakes/xero/XeroFake.ts';

const MINUTE = 60_000;
const REDIRECT = 'http://127.0.0.1:53682/callback';
const SCOPE = 'offline_access accounting.contacts accounting.transactions';

/** Xero's OAuth 2.0 endpoints on the fake, over HTTP, on a clock the test moves. */
describe('XeroFake OAuth 2.0 (authorize, authorization_code, rotating refresh_token)', () => {
  let fake: XeroFake;
  let offset = 0;

  beforeAll(async () => {
    fake = await startXeroFake({ rateLimit: false, tokenTtlSeconds: 60, now: () => Date.now() + offset });
  });
  afterAll(async () => {
    await fake?.stop();
  });

  const authorize = (params: Record<string, string>) =>
    fetch(`${fake.url}/identity/connect/authorize?${new URLSearchParams(params)}`, { redirect: 'manual' });
  const token = (form: Record<string, string>, basic?: [string, string]) =>
    fetch(`${fake.url}/connect/token`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        ...(basic ? { Authorization: `Basic ${Buffer.from(basic.join(':')).toString('base64')}` } : {}),
      },
      body: new URLSearchParams(form),
    });
  const pkce = () => {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  };
  /** Authorizes the PKCE app and exchanges the code: the token answer. */
  const connect = async (scope = SCOPE) => {
    const { verifier, challenge } = pkce();
    const res = await authorize({
      response_type: 'code',
      client_id: XERO_FAKE_PKCE_CLIENT_ID,
      redirect_uri: REDIRECT,
      scope,
      state: 's1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    const answer = await token({
      grant_type: 'authorization_code',
      client_id: XERO_FAKE_PKCE_CLIENT_ID,
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    return (await answer.json()) as Record<string, string | number>;
  };
  const refresh = (refreshToken: string) =>
    token({ grant_type: 'refresh_token', client_id: XERO_FAKE_PKCE_CLIENT_ID, refresh_token: refreshToken });

  it('redirects a valid authorize request to the redirect URI with a code, the scope and the state', async () => {
    // Act
    const res = await authorize({
      response_type: 'code',
      client_id: XERO_FAKE_CLIENT_ID,
      redirect_uri: REDIRECT,
      scope: SCOPE,
      state: 'xyz',
    });
    // Assess
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('state')).toBe('xyz');
    expect(location.searchParams.get('scope')).toBe(SCOPE);
    expect(location.searchParams.get('code')).toMatch(/^[\w-]{20,}$/);
  });

  it('shows an error page (no redirect) for an unknown client or a redirect URI not allowed', async () => {
    const unknown = await authorize({
      response_type: 'code',
      client_id: 'nope',
      redirect_uri: REDIRECT,
      scope: SCOPE,
    });
    const remote = await authorize({
      response_type: 'code',
      client_id: XERO_FAKE_CLIENT_ID,
      redirect_uri: 'http://evil.example.com/cb',
      scope: SCOPE,
    });
    expect(unknown.status).toBe(400);
    expect(remote.status).toBe(400);
    expect(await remote.text()).toMatch(/redirect_uri/);
  });

  it('requires a code challenge from a PKCE app and redirects with error=invalid_request without one', async () => {
    const res = await authorize({
      response_type: 'code',
      client_id: XERO_FAKE_PKCE_CLIENT_ID,
      redirect_uri: REDIRECT,
      scope: SCOPE,
      state: 'st',
    });
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('state')).toBe('st');
  });

  it('exchanges a code once, only with the matching code_verifier', async () => {
    // Prepare
    const { verifier, challenge } = pkce();
    const res = await authorize({
      response_type: 'code',
      client_id: XERO_FAKE_PKCE_CLIENT_ID,
      redirect_uri: REDIRECT,
      scope: SCOPE,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    const form = {
      grant_type: 'authorization_code',
      client_id: XERO_FAKE_PKCE_CLIENT_ID,
      code,
      redirect_uri: REDIRECT,
    };
    // Act
    const wrong = await token({ ...form, code_verifier: pkce().verifier });
    const right = await token({ ...form, code_verifier: verifier });
    const again = await token({ ...form, code_verifier: verifier });
    // Assess
    expect([wrong.status, await wrong.json()]).toEqual([400, { error: 'invalid_grant' }]);
    expect(right.status).toBe(200);
    expect(await right.json()).toMatchObject({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      expires_in: 60,
      token_type: 'Bearer',
      scope: SCOPE,
    });
    expect([again.status, await again.json()]).toEqual([400, { error: 'invalid_grant' }]);
  });

  it('authenticates a confidential app with Basic credentials and refuses a wrong secret', async () => {
    const res = await authorize({
      response_type: 'code',
      client_id: XERO_FAKE_CLIENT_ID,
      redirect_uri: REDIRECT,
      scope: SCOPE,
    });
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT };
    const bad = await token(form, [XERO_FAKE_CLIENT_ID, 'wrong']);
    const good = await token(form, [XERO_FAKE_CLIENT_ID, XERO_FAKE_CLIENT_SECRET]);
    expect([bad.status, await bad.json()]).toEqual([400, { error: 'invalid_client' }]);
    expect(good.status).toBe(200);
  });

  it('issues no refresh token without offline_access', async () => {
    const answer = await connect('accounting.contacts');
    expect(answer.refresh_token).toBeUndefined();
    expect(answer.access_token).toEqual(expect.any(String));
  });

  it('rotates the refresh token on every refresh; the old one works for the grace period, then invalid_grant', async () => {
    // Prepare
    const first = await connect();
    const before = fake.oauthStats();
    // Act
    const r1 = await refresh(String(first.refresh_token));
    const next = (await r1.json()) as Record<string, string>;
    offset += 29 * MINUTE;
    const retried = await refresh(String(first.refresh_token)); // a lost answer, retried in the grace period
    offset += 2 * MINUTE;
    const late = await refresh(String(first.refresh_token));
    const rotated = await refresh(next.refresh_token!);
    // Assess
    expect(r1.status).toBe(200);
    expect(next.refresh_token).not.toBe(first.refresh_token);
    expect(retried.status).toBe(200);
    expect([late.status, await late.json()]).toEqual([400, { error: 'invalid_grant' }]);
    expect(rotated.status).toBe(200);
    const after = fake.oauthStats();
    expect(after.refreshes - before.refreshes).toBe(3);
    expect(after.graceRetries - before.graceRetries).toBe(1);
    expect(after.invalidGrants - before.invalidGrants).toBe(1);
  });

  it('accepts an access token for its lifetime, then answers 401 TokenExpired', async () => {
    const { access_token } = await connect();
    const call = () =>
      fetch(`${fake.url}/api.xro/2.0/Contacts`, {
        headers: { Authorization: `Bearer ${access_token}`, 'xero-tenant-id': fake.tenantId },
      });
    expect((await call()).status).toBe(200);
    offset += 61_000;
    const expired = await call();
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ Detail: 'TokenExpired' });
  });

  it('lists the connected tenants and refuses calls outside the granted scopes', async () => {
    const { access_token } = await connect('offline_access accounting.contacts');
    const auth = { Authorization: `Bearer ${access_token}`, 'xero-tenant-id': fake.tenantId };
    const connections = await (await fetch(`${fake.url}/connections`, { headers: auth })).json();
    const invoices = await fetch(`${fake.url}/api.xro/2.0/Invoices`, { headers: auth });
    expect(connections).toEqual([
      expect.objectContaining({
        tenantId: fake.tenantId,
        tenantType: 'ORGANISATION',
        tenantName: expect.any(String),
      }),
    ]);
    expect(invoices.status).toBe(401);
    expect(await invoices.json()).toMatchObject({ Detail: 'AuthorizationUnsuccessful' });
  });

  it('answers invalid_grant for every refresh token once the user revokes the app', async () => {
    const { refresh_token } = await connect();
    fake.revokeOAuth();
    const res = await refresh(String(refresh_token));
    expect([res.status, await res.json()]).toEqual([400, { error: 'invalid_grant' }]);
  });
});

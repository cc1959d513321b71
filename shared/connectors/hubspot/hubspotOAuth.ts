import { identityCall, refusal, trimSlash } from '../../oauth/identityCall.ts';
import type { OAuthApp } from '../../oauth/OAuthApp.ts';
import { hubspotScopeNeeds } from './hubspotCredentials.ts';

/** The parts of a HubSpot connection's config the OAuth flow reads. */
interface HubSpotEndpoints {
  readonly baseUrl?: string | undefined;
  readonly loginUrl?: string | undefined;
}

/** What GET /oauth/v1/access-tokens/{token} answers. */
interface TokenMetadata {
  hub_id?: number;
  hub_domain?: string;
  scopes?: string[];
  user?: string;
}

/** The access token's metadata: the account it reaches and its scopes (the token endpoint names neither). */
async function metadata(
  c: HubSpotEndpoints,
  accessToken: string,
  fetchImpl?: typeof fetch,
): Promise<TokenMetadata> {
  const call = { vendor: 'HubSpot', codePrefix: 'HUBSPOT', secrets: [accessToken], fetch: fetchImpl };
  const answer = await identityCall({
    ...call,
    url: `${trimSlash(c.baseUrl ?? 'https://api.hubapi.com')}/oauth/v1/access-tokens/${encodeURIComponent(accessToken)}`,
  });
  // An unknown or expired token is a 404 here, not a 401: still the access token that is refused.
  if (answer.status !== 200)
    throw refusal(answer.status === 404 ? { ...answer, status: 401 } : answer, call, 'the access token');
  return answer.json as TokenMetadata;
}

/**
 * A HubSpot public (OAuth) app: the user authorises it at app.hubspot.com/oauth/authorize (no
 * PKCE; the redirect URL must be registered with the app exactly), the code and refresh tokens
 * go to api.hubapi.com/oauth/v1/token with the client id and secret in the form. Access tokens
 * live 30 minutes; the refresh token does not rotate (the same one comes back) and lives until the
 * app is uninstalled. The token answer names no scopes and no account:
 * GET /oauth/v1/access-tokens/{token} does (`hub_id`, `hub_domain`, `scopes`). HubSpot rejects a
 * bad code or refresh token with 400 `{"status":"BAD_AUTH_CODE"}` / `BAD_REFRESH_TOKEN`, not
 * RFC 6749's `invalid_grant`.
 */
export const hubspotOAuth: OAuthApp<HubSpotEndpoints> = {
  authorizeUrl: (c) => `${trimSlash(c.loginUrl ?? c.baseUrl ?? 'https://app.hubspot.com')}/oauth/authorize`,
  tokenUrl: (c) => `${trimSlash(c.baseUrl ?? 'https://api.hubapi.com')}/oauth/v1/token`,
  pkce: false,
  clientAuth: 'body',
  scopesFor: (uses) => [
    { scope: 'oauth', for: 'the OAuth app (HubSpot grants it to every app)' },
    ...hubspotScopeNeeds(uses),
  ],
  scopesOf: async (c, accessToken, fetchImpl) =>
    ((await metadata(c, accessToken, fetchImpl)).scopes ?? []).join(' '),
  invalidGrant: (body) =>
    body.error === 'invalid_grant' || body.status === 'BAD_REFRESH_TOKEN' || body.status === 'BAD_AUTH_CODE',
  async accounts(c, accessToken, fetchImpl) {
    const m = await metadata(c, accessToken, fetchImpl);
    if (m.hub_id === undefined) return [];
    return [{ id: String(m.hub_id), name: m.hub_domain ?? `HubSpot account ${m.hub_id}` }];
  },
  accountFields: (account) => ({ hubId: account.id }),
  accountOf: (fields) => fields.hubId,
};

import { identityCall, refusal, trimSlash } from '../../oauth/identityCall.ts';
import type { OAuthApp, ScopeNeed } from '../../oauth/OAuthApp.ts';
import { objectPermissionsMissing } from './salesforceCredentials.ts';

/** The parts of a Salesforce connection's config the OAuth flow reads. */
interface SalesforceEndpoints {
  readonly instanceUrl?: string | undefined;
  readonly apiVersion?: string | undefined;
}

/** Where the user logs in: the org's My Domain when the config names it, else login.salesforce.com. */
const loginBase = (c: SalesforceEndpoints) => trimSlash(c.instanceUrl ?? 'https://login.salesforce.com');

const NEEDS: readonly ScopeNeed[] = [
  { scope: 'api', for: 'the REST API every sync writes through' },
  { scope: 'refresh_token', for: 'refresh tokens (the writers renew access tokens)' },
];

/**
 * A Salesforce connected app's web-server flow (OAuth 2.0 authorization code with PKCE):
 * `/services/oauth2/authorize` and `/services/oauth2/token` at login.salesforce.com or the org's My
 * Domain, the client id and secret in the form. The token answer names the scopes and the org's
 * `instance_url`; it has no `expires_in` (the org's session timeout decides, 2 hours by default),
 * so access tokens are renewed every 30 minutes. The refresh token is not rotated unless the app
 * turns rotation on, and lives until revoked or the app's refresh token policy expires it;
 * Salesforce rejects it with 400 `invalid_grant` ("expired access/refresh token"). The account is
 * the org, from GET /services/oauth2/userinfo (`organization_id`, and `urls.custom_domain`: where
 * the API is). Object permissions are not scopes: they are asked of each object's describe.
 */
export const salesforceOAuth: OAuthApp<SalesforceEndpoints> = {
  authorizeUrl: (c) => `${loginBase(c)}/services/oauth2/authorize`,
  tokenUrl: (c) => `${loginBase(c)}/services/oauth2/token`,
  pkce: true,
  clientAuth: 'body',
  scopesFor: () => [...NEEDS],
  async accounts(c, accessToken, fetchImpl) {
    const call = { vendor: 'Salesforce', codePrefix: 'SALESFORCE', secrets: [accessToken], fetch: fetchImpl };
    const answer = await identityCall({
      ...call,
      url: `${loginBase(c)}/services/oauth2/userinfo`,
      headers: { Authorization: `Bearer ${accessToken}` },
    });
    if (answer.status !== 200) throw refusal(answer, call, 'the access token');
    const user = answer.json as {
      organization_id?: string;
      preferred_username?: string;
      urls?: { custom_domain?: string; rest?: string };
    };
    if (!user.organization_id) return [];
    const rest = user.urls?.rest ? new URL(user.urls.rest).origin : undefined;
    const url = user.urls?.custom_domain ?? rest;
    return [
      {
        id: user.organization_id,
        name: `${user.preferred_username ?? 'user'} in org ${user.organization_id}`,
        ...(url ? { url } : {}),
      },
    ];
  },
  permissionsMissing: (c, account, accessToken, uses, fetchImpl) =>
    objectPermissionsMissing(account.url ?? loginBase(c), c.apiVersion, accessToken, uses, fetchImpl),
  accountFields: (account) => ({
    organizationId: account.id,
    ...(account.url ? { instanceUrl: account.url } : {}),
  }),
  accountOf: (fields) => fields.organizationId,
};

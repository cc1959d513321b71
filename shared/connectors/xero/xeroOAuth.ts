import { TargetError } from '../../errors.ts';
import type { OAuthAccount, OAuthApp, ScopeNeed } from '../../oauth/OAuthApp.ts';
import { bodyExcerpt } from '../http/statusError.ts';

/** The parts of a Xero connection's config the OAuth flow reads. */
interface XeroEndpoints {
  readonly baseUrl?: string | undefined;
  readonly identityUrl?: string | undefined;
  readonly loginUrl?: string | undefined;
}

/** The scope each object needs to be written (developer.xero.com/documentation/guides/oauth2/scopes). */
const OBJECT_SCOPES: Readonly<Record<string, string>> = {
  Contacts: 'accounting.contacts',
  Invoices: 'accounting.transactions',
};

const trim = (url: string) => url.replace(/\/+$/, '');

/**
 * Xero's OAuth 2.0 app flow: authorize at login.xero.com/identity/connect/authorize (PKCE S256),
 * tokens at identity.xero.com/connect/token (Basic client authentication), refresh tokens only
 * with `offline_access`, and the organisations a token reaches at api.xero.com/connections, the
 * cheapest identity call there is (no tenant, no rate limit of the Accounting API). A connection's
 * baseUrl (a fake) serves all three.
 */
export const xeroOAuth: OAuthApp<XeroEndpoints> = {
  authorizeUrl: (c) =>
    `${trim(c.loginUrl ?? c.baseUrl ?? 'https://login.xero.com')}/identity/connect/authorize`,
  tokenUrl: (c) => `${trim(c.identityUrl ?? c.baseUrl ?? 'https://identity.xero.com')}/connect/token`,
  pkce: true,
  clientAuth: 'basic',
  scopesFor(objects) {
    const needs: ScopeNeed[] = [
      { scope: 'offline_access', for: 'refresh tokens (the writers renew access tokens)' },
    ];
    for (const { sync, object } of objects) {
      const scope = OBJECT_SCOPES[object];
      if (scope) needs.push({ scope, for: `sync ${sync} (${object})` });
    }
    return needs;
  },
  async accounts(c, accessToken, fetchImpl = fetch) {
    const url = `${trim(c.baseUrl ?? 'https://api.xero.com')}/connections`;
    let res: Response;
    let text: string;
    try {
      res = await fetchImpl(url, {
        headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' },
        signal: AbortSignal.timeout(15_000),
      });
      text = await res.text();
    } catch (err) {
      throw new TargetError(
        'XERO_NETWORK_ERROR',
        `Xero GET /connections failed before an answer: ${String(err)}`,
        {
          disposition: 'retryable',
          cause: err,
        },
      );
    }
    if (!res.ok) {
      const code =
        res.status === 401
          ? 'XERO_UNAUTHORIZED'
          : res.status === 403
            ? 'XERO_FORBIDDEN'
            : 'XERO_REQUEST_REJECTED';
      throw new TargetError(
        code,
        `Xero GET /connections answered ${res.status}: ${bodyExcerpt(text, res.status)}`,
        {
          disposition: res.status >= 500 || res.status === 429 ? 'retryable' : 'permanent',
          httpStatus: res.status,
        },
      );
    }
    const list = JSON.parse(text) as { tenantId?: string; tenantName?: string; tenantType?: string }[];
    return list
      .filter((t) => t.tenantType === 'ORGANISATION' && t.tenantId)
      .map((t): OAuthAccount => ({ id: t.tenantId!, name: t.tenantName ?? t.tenantId! }));
  },
  accountFields: (account) => ({ tenantId: account.id }),
  accountOf: (fields) => fields.tenantId,
};

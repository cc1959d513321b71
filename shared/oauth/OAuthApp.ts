import type { SyncUse } from './CredentialCheck.ts';

/** A scope a connection needs, and why (which sync and object), to name it when it is missing. */
export interface ScopeNeed {
  readonly scope: string;
  /** What needs it: `sync invoices (Invoices)`, `refresh tokens`. */
  readonly for: string;
}

/** An account the user's authorisation reaches (a Xero organisation, a HubSpot portal). */
export interface OAuthAccount {
  readonly id: string;
  readonly name: string;
  /** Where its API is, when the vendor says so per account (Salesforce: the org's instance URL). */
  readonly url?: string;
}

/**
 * How a connector's vendor runs the OAuth 2.0 authorization-code flow (`writeback connect`) and
 * how its grant is checked (`writeback validate --connections`): a connector definition's `oauth`.
 * `C` is the connection's config as the definition parses it.
 */
export interface OAuthApp<C = unknown> {
  /** The authorization endpoint the user opens. */
  authorizeUrl(connection: C): string;
  /** The token endpoint (authorization_code and refresh_token grants). */
  tokenUrl(connection: C): string;
  /** The vendor takes a PKCE S256 challenge (RFC 7636). */
  readonly pkce: boolean;
  /** How a confidential client authenticates at the token endpoint. */
  readonly clientAuth: 'basic' | 'body';
  /** The scopes that writing these objects needs (and refresh tokens), each with what needs it. */
  scopesFor(objects: readonly SyncUse[]): ScopeNeed[];
  /**
   * The scopes an access token carries, for a vendor whose token answer does not say (HubSpot:
   * GET /oauth/v1/access-tokens/{token}); space-separated.
   */
  scopesOf?(connection: C, accessToken: string, fetchImpl?: typeof fetch): Promise<string>;
  /**
   * What the account may not do that the syncs do, beyond scopes (Salesforce: the user's object
   * permissions), each with the sync that needs it.
   */
  permissionsMissing?(
    connection: C,
    account: OAuthAccount,
    accessToken: string,
    uses: readonly SyncUse[],
    fetchImpl?: typeof fetch,
  ): Promise<ScopeNeed[]>;
  /** Whether a token endpoint's 4xx body rejects the grant itself. @default RFC 6749 `invalid_grant` */
  invalidGrant?(body: Readonly<Record<string, unknown>>): boolean;
  /**
   * The accounts the access token reaches, from the vendor's cheapest identity endpoint (Xero:
   * GET /connections). Throws a TargetError when the token is refused.
   */
  accounts(connection: C, accessToken: string, fetchImpl?: typeof fetch): Promise<OAuthAccount[]>;
  /** Secret fields that select the chosen account (Xero: tenantId). */
  accountFields(account: OAuthAccount): Record<string, string>;
  /** The account a stored secret selects (Xero: its tenantId), to check it is still reachable. */
  accountOf(fields: Readonly<Record<string, string | undefined>>): string | undefined;
}

/** The needs a granted scope string (space-separated, as the token answer gives it) does not cover. */
export function missingScopes(granted: string | undefined, needs: readonly ScopeNeed[]): ScopeNeed[] {
  const have = new Set((granted ?? '').split(/\s+/).filter(Boolean));
  return needs.filter((n) => !have.has(n.scope));
}

/** `accounting.transactions (sync invoices: Invoices), …`: the missing scopes as a user reads them. */
export function describeMissing(missing: readonly ScopeNeed[]): string {
  const byScope = new Map<string, string[]>();
  for (const m of missing) byScope.set(m.scope, [...(byScope.get(m.scope) ?? []), m.for]);
  return [...byScope].map(([scope, why]) => `${scope} (${why.join(', ')})`).join(', ');
}

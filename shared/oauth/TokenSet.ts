/**
 * An OAuth 2.0 token set as a connection keeps it: the access token the API takes, the refresh
 * token that gets the next one (rotated on every use by vendors such as Xero), when the access
 * token expires, and the scopes granted.
 */
export interface TokenSet {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** Epoch ms. */
  readonly expiresAt: number;
  /** Space-separated scopes granted, as the vendor answered them. */
  readonly scope?: string;
}

/**
 * The token set held by a secret's fields (`accessToken`, `refreshToken`, `expiresAt` as an ISO
 * time, `scope`), or undefined when the secret holds no refresh token. A secret's values are
 * strings: that is how Secrets Manager JSON and ConnectionCredentials carry them.
 */
export function tokenSetOf(fields: Readonly<Record<string, string | undefined>>): TokenSet | undefined {
  const refreshToken = fields.refreshToken;
  if (!refreshToken) return undefined;
  const expiresAt = Date.parse(fields.expiresAt ?? '');
  return {
    // credentialsFromSecret hands a secret's accessToken on as `token`.
    accessToken: fields.accessToken ?? fields.token ?? '',
    refreshToken,
    expiresAt: Number.isFinite(expiresAt) ? expiresAt : 0,
    ...(fields.scope ? { scope: fields.scope } : {}),
  };
}

/** A token set as secret fields, merged over the secret's other fields (client id, tenant…). */
export function tokenSetFields(
  tokens: TokenSet,
  others: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    ...others,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: new Date(tokens.expiresAt).toISOString(),
    ...(tokens.scope ? { scope: tokens.scope } : {}),
  };
}

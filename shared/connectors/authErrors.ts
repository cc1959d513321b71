/**
 * Which target errors say "these credentials are refused", as opposed to "this record is refused".
 * Connectors classify an HTTP 401 as `<VENDOR>_UNAUTHORIZED` and a 403 as `<VENDOR>_FORBIDDEN`
 * (statusError.ts; HubSpot's MISSING_SCOPES too), a client-credentials pair the token endpoint
 * turns down as `<VENDOR>_UNAUTHORIZED` (ClientCredentialsToken.ts), a rotating refresh token the
 * vendor rejects as `<VENDOR>_INVALID_GRANT` (OAuthTokenEndpoint.ts), and Postgres a failed login as
 * SQLSTATE class 28 (`PG_28P01` wrong password, `PG_28000` no such role or no pg_hba entry). None
 * of them says anything about a record: the same call fails for every record until someone
 * changes the secret (a revoked or rotated token, a scope taken away, a new password), so the write
 * protocol treats them apart (re-read the secret, then pause the sync; never the DLQ).
 *
 * Not included: Salesforce's 403 REQUEST_LIMIT_EXCEEDED (its own code, retryable), a token
 * endpoint that is down (`<VENDOR>_AUTH_UNAVAILABLE`, retryable), and a missing table grant in a
 * Postgres target (`PG_42501`, a grant to fix, not a secret).
 */
const AUTH_CODE = /^(?:[A-Z][A-Z0-9]*_(?:UNAUTHORIZED|FORBIDDEN|INVALID_GRANT)|PG_28P01|PG_28000)$/;

/**
 * `<VENDOR>_INVALID_GRANT`: the vendor rejected the connection's refresh token (revoked, expired
 * unused, or rotated too long ago). Updating the secret by hand does not help: the user authorises
 * the app again with `writeback connect <connection>`.
 */
const RECONNECT_CODE = /^[A-Z][A-Z0-9]*_INVALID_GRANT$/;

/** True when the refusal is cured by `writeback connect <connection>` rather than by editing the secret. */
export function needsReconnect(error: { readonly code: string } | undefined): boolean {
  return error !== undefined && RECONNECT_CODE.test(error.code);
}

/** True when the error (or a link's lastError) means the target refused the connection's credentials. */
export function isAuthRefusal(error: { readonly code: string } | undefined): boolean {
  return error !== undefined && AUTH_CODE.test(error.code);
}

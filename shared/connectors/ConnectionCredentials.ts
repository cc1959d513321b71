/**
 * Resolved credentials of a connection: from Secrets Manager on AWS, from the local stack locally.
 * The named fields are the ones our connectors read; a connector of its own may read any other
 * field of its secret (its definition's `secretFields`), by the same name.
 */
export interface ConnectionCredentials {
  /** HubSpot private app token; a Xero access token; a bearer token or API key. */
  readonly token?: string;
  /** OAuth client-credentials pair (Xero custom connection, Salesforce connected app). */
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Xero organisation, when the secret carries it rather than the config. */
  readonly tenantId?: string;
  /** Salesforce instance URL, when the secret carries it rather than the config. */
  readonly instanceUrl?: string;
  /** Postgres connection URL. */
  readonly url?: string;
  /** API base URL override (the local fakes). */
  readonly baseUrl?: string;
  /** Any other field of the secret, for a connector that declares it in `secretFields`. */
  readonly [field: string]: string | undefined;
}

/** Fields of an RDS-style secret that make up `url` rather than being passed on. */
const URL_PARTS = new Set([
  'host',
  'port',
  'username',
  'password',
  'dbname',
  'engine',
  'dbInstanceIdentifier',
]);
const TLS_PARTS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey'];

/**
 * Connection credentials from a secret's JSON: `token`, `url` (or RDS-style host/port/username/
 * password/dbname), `clientId`/`clientSecret`, `tenantId`, `instanceUrl`; a plain-text secret
 * (`{ value }`) is a token. A Postgres secret may say how to use TLS (`sslmode`, `sslrootcert` as
 * PEM text or a path, `sslcert`, `sslkey`): they join its URL unless the URL names its own. Any
 * other string field is passed on under its own name (a connector's own `secretFields`).
 */
export function credentialsFromSecret(secret: Readonly<Record<string, string>>): ConnectionCredentials {
  const rawUrl =
    secret.url ??
    (secret.host
      ? `postgres://${encodeURIComponent(secret.username ?? '')}:${encodeURIComponent(secret.password ?? '')}@${secret.host}:${secret.port ?? 5432}/${secret.dbname ?? 'postgres'}`
      : undefined);
  const url = rawUrl === undefined ? undefined : withSecretTls(rawUrl, secret);
  const token = secret.token ?? secret.accessToken ?? secret.value;
  const others: Record<string, string> = {};
  for (const [field, value] of Object.entries(secret)) {
    if (typeof value !== 'string' || value === '') continue;
    // An RDS-style secret's parts went into `url`; elsewhere a username and password are basic auth.
    if ((secret.host && URL_PARTS.has(field)) || TLS_PARTS.includes(field)) continue;
    if (['url', 'token', 'accessToken', 'value'].includes(field)) continue;
    others[field] = value;
  }
  return {
    ...others,
    ...(url ? { url } : {}),
    ...(token ? { token } : {}),
  };
}

/** The TLS fields of a Postgres secret as URL parameters (postgresTls reads them), the URL's own first. */
function withSecretTls(url: string, secret: Readonly<Record<string, string>>): string {
  const q = url.indexOf('?');
  const own = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const added = new URLSearchParams();
  for (const name of TLS_PARTS) {
    const value = secret[name];
    if (value && !own.has(name)) added.set(name, value);
  }
  if (added.size === 0) return url;
  return `${url}${q < 0 ? '?' : '&'}${added.toString()}`;
}

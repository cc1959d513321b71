import type { ConnectionConfig, SyncConfig } from '../config/schema.ts';
import { ConfigValidationError } from '../errors.ts';
import { type SessionTimeouts, targetPool } from '../postgresPools.ts';
import type { Connector } from './Connector.ts';
import { HubSpotConnector } from './hubspot/HubSpotConnector.ts';
import { PostgresTableConnector } from './postgres/PostgresTableConnector.ts';
import { SalesforceConnector } from './salesforce/SalesforceConnector.ts';
import { StripeConnector } from './stripe/StripeConnector.ts';
import { XeroConnector } from './xero/XeroConnector.ts';

/** Resolved credentials of a connection: from Secrets Manager on AWS, from the local stack locally. */
export interface ConnectionCredentials {
  /** HubSpot private app token; a Xero access token. */
  readonly token?: string;
  /** OAuth client-credentials pair (Xero custom connection). */
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
}

/** How a connector's own connections are bounded (a Postgres target's statement and lock timeouts). */
export interface ConnectorOptions {
  /** @default DEFAULT_TIMEOUTS of shared/postgresPools.ts */
  readonly timeouts?: SessionTimeouts;
}

/** Builds the connector a sync writes through. Adding a connector type means one case here. */
export function createConnector(
  sync: SyncConfig,
  connection: ConnectionConfig,
  creds: ConnectionCredentials,
  opts: ConnectorOptions = {},
): Connector {
  const where = `syncs[${sync.name}].target`;
  switch (connection.type) {
    case 'postgres': {
      const url = creds.url ?? connection.url;
      if (!url)
        throw new ConfigValidationError([
          `connections[${sync.target.connection}]: no url or secret with a url`,
        ]);
      if (!sync.target.externalId) {
        throw new ConfigValidationError([
          `${where}.externalId: required for a postgres target (its unique column)`,
        ]);
      }
      const sql = targetPool(url, { max: 4, ...(opts.timeouts ? { timeouts: opts.timeouts } : {}) });
      return new PostgresTableConnector({ sql, externalIdColumn: sync.target.externalId });
    }
    case 'hubspot': {
      if (!creds.token)
        throw new ConfigValidationError([`connections[${sync.target.connection}]: no token in its secret`]);
      if (!sync.target.externalId) {
        throw new ConfigValidationError([
          `${where}.externalId: required for hubspot (a unique property used as idProperty)`,
        ]);
      }
      return new HubSpotConnector({
        token: creds.token,
        idProperty: sync.target.externalId,
        ...((creds.baseUrl ?? connection.baseUrl) ? { baseUrl: creds.baseUrl ?? connection.baseUrl } : {}),
      });
    }
    case 'xero': {
      const where = `connections[${sync.target.connection}]`;
      const tenantId = connection.tenantId ?? creds.tenantId;
      const errors: string[] = [];
      if (!tenantId) errors.push(`${where}.tenantId: required (the organisation's xero-tenant-id)`);
      if (!creds.token && !(creds.clientId && creds.clientSecret)) {
        errors.push(`${where}: its secret needs clientId and clientSecret (custom connection) or a token`);
      }
      if (errors.length > 0 || !tenantId) throw new ConfigValidationError(errors);
      const baseUrl = creds.baseUrl ?? connection.baseUrl;
      return new XeroConnector({
        tenantId,
        ...(creds.token
          ? { accessToken: creds.token }
          : { clientId: creds.clientId, clientSecret: creds.clientSecret }),
        ...(baseUrl ? { baseUrl, identityUrl: connection.identityUrl ?? baseUrl } : {}),
        ...(connection.identityUrl ? { identityUrl: connection.identityUrl } : {}),
        ...(connection.rateLimit ? { rateLimit: connection.rateLimit } : {}),
        // One limiter per connection in this process, whichever syncs write through it.
        limiterKey: `xero:${sync.target.connection}:${tenantId}`,
      });
    }
    case 'salesforce': {
      const where = `connections[${sync.target.connection}]`;
      const instanceUrl = creds.baseUrl ?? connection.instanceUrl ?? creds.instanceUrl;
      const errors: string[] = [];
      if (!instanceUrl) errors.push(`${where}.instanceUrl: required (https://MyDomain.my.salesforce.com)`);
      if (!creds.token && !(creds.clientId && creds.clientSecret)) {
        errors.push(
          `${where}: its secret needs clientId and clientSecret (client-credentials flow) or a token`,
        );
      }
      if (!sync.target.externalId) {
        errors.push(
          `syncs[${sync.name}].target.externalId: required for salesforce (the External ID field, e.g. Ext_Id__c)`,
        );
      }
      if (errors.length > 0 || !instanceUrl || !sync.target.externalId)
        throw new ConfigValidationError(errors);
      return new SalesforceConnector({
        instanceUrl,
        externalIdField: sync.target.externalId,
        ...(creds.token
          ? { accessToken: creds.token }
          : { clientId: creds.clientId, clientSecret: creds.clientSecret }),
        ...(connection.apiVersion ? { apiVersion: connection.apiVersion } : {}),
        ...(connection.dailyLimit ? { dailyLimit: connection.dailyLimit } : {}),
        limiterKey: `salesforce:${sync.target.connection}`,
      });
    }
    case 'stripe': {
      if (!creds.token) {
        throw new ConfigValidationError([
          `connections[${sync.target.connection}]: no API key (token) in its secret`,
        ]);
      }
      const baseUrl = creds.baseUrl ?? connection.baseUrl;
      return new StripeConnector({
        apiKey: creds.token,
        ...(baseUrl ? { baseUrl } : {}),
        ...(connection.externalIdKey ? { externalIdKey: connection.externalIdKey } : {}),
        ...(connection.apiVersion ? { apiVersion: connection.apiVersion } : {}),
        limiterKey: `stripe:${sync.target.connection}`,
      });
    }
  }
}

/**
 * Connection credentials from a secret's JSON: `token`, `url` (or RDS-style host/port/username/
 * password/dbname), `clientId`/`clientSecret`, `tenantId`, `instanceUrl`; a plain-text secret
 * (`{ value }`) is a token. A Postgres secret may say how to use TLS (`sslmode`, `sslrootcert` as
 * PEM text or a path, `sslcert`, `sslkey`): they join its URL unless the URL names its own.
 */
export function credentialsFromSecret(secret: Readonly<Record<string, string>>): ConnectionCredentials {
  const rawUrl =
    secret.url ??
    (secret.host
      ? `postgres://${encodeURIComponent(secret.username ?? '')}:${encodeURIComponent(secret.password ?? '')}@${secret.host}:${secret.port ?? 5432}/${secret.dbname ?? 'postgres'}`
      : undefined);
  const url = rawUrl === undefined ? undefined : withSecretTls(rawUrl, secret);
  const token = secret.token ?? secret.accessToken ?? secret.value;
  return {
    ...(url ? { url } : {}),
    ...(token ? { token } : {}),
    ...(secret.clientId ? { clientId: secret.clientId } : {}),
    ...(secret.clientSecret ? { clientSecret: secret.clientSecret } : {}),
    ...(secret.tenantId ? { tenantId: secret.tenantId } : {}),
    ...(secret.instanceUrl ? { instanceUrl: secret.instanceUrl } : {}),
  };
}

/** The TLS fields of a Postgres secret as URL parameters (postgresTls reads them), the URL's own first. */
function withSecretTls(url: string, secret: Readonly<Record<string, string>>): string {
  const q = url.indexOf('?');
  const own = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const added = new URLSearchParams();
  for (const name of ['sslmode', 'sslrootcert', 'sslcert', 'sslkey']) {
    const value = secret[name];
    if (value && !own.has(name)) added.set(name, value);
  }
  if (added.size === 0) return url;
  return `${url}${q < 0 ? '?' : '&'}${added.toString()}`;
}

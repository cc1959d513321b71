import { z } from 'zod';
import { ConfigValidationError } from '../../errors.ts';
import { FileLease } from '../../oauth/FileLease.ts';
import { FileTokenStore } from '../../oauth/FileTokenStore.ts';
import type { TokenRotationPorts } from '../../oauth/TokenRotationPorts.ts';
import { tokenSetOf } from '../../oauth/TokenSet.ts';
import { defineConnector } from '../defineConnector.ts';
import { XERO_RATE_LIMITS, XeroConnector } from './XeroConnector.ts';
import { xeroOAuth } from './xeroOAuth.ts';

const XeroConnection = z
  .object({
    type: z.literal('xero'),
    /**
     * Secrets Manager secret (name or ARN): what `writeback connect` stores for an OAuth 2.0 app
     * (`{"clientId","clientSecret"?,"refreshToken","accessToken","expiresAt","tenantId","scope"}`,
     * refreshed by the writers, one at a time), `{"clientId","clientSecret"}` of a Xero custom
     * connection (tokens are fetched and renewed), or `{"token"}` (an access token, 30 minutes).
     */
    secret: z.string().min(1).optional(),
    /** The organisation (xero-tenant-id); also accepted as `tenantId` in the secret. */
    tenantId: z.string().min(1).optional(),
    /** API base URL. @default https://api.xero.com */
    baseUrl: z.url().optional(),
    /** Token endpoint base URL. @default https://identity.xero.com */
    identityUrl: z.url().optional(),
    /** Where `writeback connect` sends the user to authorise the app. @default https://login.xero.com */
    loginUrl: z.url().optional(),
    /**
     * Local runs only: the 0600 file `writeback connect <name>` writes (without --stack). When set,
     * the local stack writes through the account it holds, refreshing its tokens in the file, instead
     * of the Xero fake. Deployed functions read the secret and ignore it.
     */
    tokenFile: z.string().min(1).optional(),
    /** Lower limits than Xero's defaults (60 a minute, 5000 a day, 5 at once), e.g. perDay 1000 on Starter. */
    rateLimit: z
      .object({
        perMinute: z.number().int().min(1).max(60).optional(),
        perDay: z.number().int().min(1).max(5000).optional(),
        concurrency: z.number().int().min(1).max(5).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * Where refreshed tokens go: the ports the process was given (the write function: the secret and
 * the lease), else the local token file the credentials came from (the local stack), else nowhere
 * (the access token is used until it expires).
 */
function rotationFor(
  given: TokenRotationPorts | undefined,
  tokenFile: string | undefined,
): { rotation?: TokenRotationPorts } {
  if (given) return { rotation: given };
  if (tokenFile) {
    return { rotation: { store: new FileTokenStore(tokenFile), lease: new FileLease(`${tokenFile}.lock`) } };
  }
  return {};
}

/** Xero Accounting contacts and invoices (lines embedded), one organisation per connection. */
export const xeroDefinition = defineConnector({
  type: 'xero',
  title: 'Xero',
  connection: XeroConnection,
  refreshesTokens: true,
  oauth: xeroOAuth,
  secretFields: [
    'clientId',
    'clientSecret',
    'token',
    'tenantId',
    'refreshToken',
    'accessToken',
    'expiresAt',
    'scope',
  ],
  capabilities: {
    nativeUpsert: true,
    idempotencyKey: true,
    maxBatchSize: 50,
    partialSuccess: 'per-record',
    rateLimits: XERO_RATE_LIMITS,
    children: 'embedded',
    versionToken: 'UpdatedDateUTC',
    nulls: 'clear',
  },
  create: ({ connectionName, connection, creds, options }) => {
    const where = `connections[${connectionName}]`;
    const tenantId = connection.tenantId ?? creds.tenantId;
    const errors: string[] = [];
    if (!tenantId) errors.push(`${where}.tenantId: required (the organisation's xero-tenant-id)`);
    if (creds.refreshToken && !creds.clientId) {
      errors.push(
        `${where}: its secret holds a refreshToken without the clientId it was issued to; run \`writeback connect ${connectionName}\``,
      );
    }
    if (!creds.token && !creds.refreshToken && !(creds.clientId && creds.clientSecret)) {
      errors.push(`${where}: its secret needs clientId and clientSecret (custom connection) or a token`);
    }
    if (errors.length > 0 || !tenantId) throw new ConfigValidationError(errors);
    const baseUrl = creds.baseUrl ?? connection.baseUrl;
    const tokens = tokenSetOf(creds);
    return new XeroConnector({
      tenantId,
      ...(tokens
        ? {
            clientId: creds.clientId,
            ...(creds.clientSecret ? { clientSecret: creds.clientSecret } : {}),
            accessToken: tokens.accessToken,
            refreshToken: tokens.refreshToken,
            accessTokenExpiresAt: tokens.expiresAt,
            connectionName,
            ...rotationFor(options.tokenRotation, creds.tokenFile),
          }
        : creds.token
          ? { accessToken: creds.token }
          : { clientId: creds.clientId, clientSecret: creds.clientSecret }),
      ...(baseUrl ? { baseUrl, identityUrl: connection.identityUrl ?? baseUrl } : {}),
      ...(connection.identityUrl ? { identityUrl: connection.identityUrl } : {}),
      ...(connection.rateLimit ? { rateLimit: connection.rateLimit } : {}),
      ...(options.pace === false ? { rateLimit: false as const } : {}),
      // One limiter per connection in this process, whichever syncs write through it.
      limiterKey: `xero:${connectionName}:${tenantId}`,
    });
  },
  contract: {
    object: 'Contacts',
    valid: (i) => ({ Name: `Contact ${i}`, FirstName: `First ${i}`, EmailAddress: `u${i}@example.com` }),
    invalid: (i) => ({ Name: `Broken ${i}`, EmailAddress: 'not-an-email' }),
    clearable: 'FirstName',
  },
});

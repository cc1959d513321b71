import { z } from 'zod';
import { ConfigValidationError } from '../../errors.ts';
import { defineConnector } from '../defineConnector.ts';
import { QBO_DECLARED_LIMITS, QBO_MAX_BATCH, QuickBooksConnector } from './QuickBooksConnector.ts';
import { QBO_BASE_URL, quickbooksCredentials } from './quickbooksCredentials.ts';

const QuickBooksConnection = z
  .object({
    type: z.literal('quickbooks'),
    /** Secrets Manager secret: `{"token": "<OAuth access token>", "realmId": "…"}`. */
    secret: z.string().min(1).optional(),
    /** The company (realm id); also accepted as `realmId` in the secret. */
    realmId: z.string().regex(/^\d+$/, 'expected the numeric company id').optional(),
    /** Which of Intuit's hosts. @default 'production' */
    environment: z.enum(['production', 'sandbox']).default('production'),
    /** API base URL, over `environment` (a proxy, the local fake). */
    baseUrl: z.url().optional(),
    /** The minorversion every call asks for. @default 75 */
    minorVersion: z.number().int().min(75).optional(),
    /** Payloads per batch request. @default 30 (Intuit's maximum) */
    batchSize: z.number().int().min(1).max(QBO_MAX_BATCH).optional(),
  })
  .strict();

/** QuickBooks Online Accounting: Customers, and Invoices with embedded lines, through the batch endpoint. */
export const quickbooksDefinition = defineConnector({
  type: 'quickbooks',
  title: 'QuickBooks Online',
  connection: QuickBooksConnection,
  credentials: quickbooksCredentials,
  secretFields: ['token', 'realmId'],
  capabilities: {
    nativeUpsert: true,
    idempotencyKey: true,
    maxBatchSize: QBO_MAX_BATCH,
    partialSuccess: 'per-record',
    rateLimits: QBO_DECLARED_LIMITS,
    children: 'embedded',
    versionToken: 'SyncToken',
    nulls: 'clear',
  },
  create: ({ sync, connectionName, connection, creds, options }) => {
    const where = `connections[${connectionName}]`;
    const realmId = connection.realmId ?? creds.realmId;
    const errors: string[] = [];
    if (!realmId) errors.push(`${where}.realmId: required (the company id), in the config or the secret`);
    if (!creds.token) errors.push(`${where}: its secret needs an OAuth access token (token)`);
    if (errors.length > 0 || !realmId || !creds.token) throw new ConfigValidationError(errors);
    return new QuickBooksConnector({
      realmId,
      accessToken: creds.token,
      baseUrl: creds.baseUrl ?? connection.baseUrl ?? QBO_BASE_URL[connection.environment],
      ...(connection.minorVersion ? { minorVersion: connection.minorVersion } : {}),
      ...(connection.batchSize ? { batchSize: connection.batchSize } : {}),
      ...(sync.target.externalId
        ? { externalIdField: { [sync.target.object]: sync.target.externalId } }
        : {}),
      limiterKey: `quickbooks:${connectionName}:${realmId}`,
      ...(options.pace === false ? { rateLimit: false as const } : {}),
    });
  },
  contract: {
    object: 'Customer',
    valid: (i) => ({
      GivenName: `Given ${i}`,
      FamilyName: `Family ${i}`,
      CompanyName: `Company ${i}`,
      PrimaryEmailAddr: { Address: `u${i}@example.com` },
    }),
    invalid: (i) => ({ GivenName: `Broken ${i}`, PrimaryEmailAddr: { Address: 'not-an-email' } }),
    clearable: 'CompanyName',
  },
});

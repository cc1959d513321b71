import { z } from 'zod';
import { ConfigValidationError } from '../../errors.ts';
import { defineConnector } from '../defineConnector.ts';
import { STRIPE_RATE_LIMITS, StripeConnector } from './StripeConnector.ts';
import { stripeCredentials } from './stripeCredentials.ts';

const StripeConnection = z
  .object({
    type: z.literal('stripe'),
    /** Secrets Manager secret holding the secret or restricted key (`{"token": "sk_live_…"}` or plain text). */
    secret: z.string().min(1).optional(),
    /** Metadata key holding our external id. @default writeback_id */
    externalIdKey: z
      .string()
      .regex(/^[^[\]]{1,40}$/, 'at most 40 characters, no square brackets')
      .optional(),
    /** Stripe-Version header (search needs 2020-08-27 or later). @default the account's version */
    apiVersion: z.string().min(1).optional(),
    /** API base URL. @default https://api.stripe.com */
    baseUrl: z.url().optional(),
  })
  .strict();

/** Stripe customers and invoices, found again by a metadata key and created with idempotency keys. */
export const stripeDefinition = defineConnector({
  type: 'stripe',
  title: 'Stripe',
  connection: StripeConnection,
  credentials: stripeCredentials,
  secretFields: ['token'],
  capabilities: {
    nativeUpsert: false,
    idempotencyKey: true,
    maxBatchSize: 25,
    partialSuccess: 'per-record',
    rateLimits: STRIPE_RATE_LIMITS,
    children: 'associated',
    versionToken: undefined,
    nulls: 'clear',
  },
  create: ({ connectionName, connection, creds, options }) => {
    if (!creds.token) {
      throw new ConfigValidationError([`connections[${connectionName}]: no API key (token) in its secret`]);
    }
    const baseUrl = creds.baseUrl ?? connection.baseUrl;
    return new StripeConnector({
      apiKey: creds.token,
      ...(baseUrl ? { baseUrl } : {}),
      ...(connection.externalIdKey ? { externalIdKey: connection.externalIdKey } : {}),
      ...(connection.apiVersion ? { apiVersion: connection.apiVersion } : {}),
      ...(options.pace === false ? { rateLimit: false as const } : {}),
      limiterKey: `stripe:${connectionName}`,
    });
  },
  contract: {
    object: 'customers',
    valid: (i) => ({ name: `Customer ${i}`, email: `u${i}@example.com`, description: `note ${i}` }),
    invalid: () => ({ name: 'Broken', email: 'not-an-email' }),
    clearable: 'description',
  },
});

import { z } from 'zod';
import { ConfigValidationError } from '../../errors.ts';
import { stableRefreshFrom } from '../../oauth/StableRefreshAuth.ts';
import { defineConnector } from '../defineConnector.ts';
import { SALESFORCE_RATE_LIMITS, SalesforceConnector } from './SalesforceConnector.ts';
import { salesforceCredentials } from './salesforceCredentials.ts';
import { salesforceOAuth } from './salesforceOAuth.ts';

const SalesforceConnection = z
  .object({
    type: z.literal('salesforce'),
    /** Secrets Manager secret: `{"clientId","clientSecret"}` of a connected app (client-credentials flow) or `{"token"}`. */
    secret: z.string().min(1).optional(),
    /** The org's instance URL (https://MyDomain.my.salesforce.com); also accepted as `instanceUrl` in the secret. */
    instanceUrl: z.url().optional(),
    /** REST API version. @default v62.0 (46.0 or later) */
    apiVersion: z
      .string()
      .regex(/^v\d+\.\d$/, 'expected vNN.N')
      .optional(),
    /** The org's 24-hour API request allocation (100,000 + per-licence). @default 100000 */
    dailyLimit: z.number().int().min(1).optional(),
  })
  .strict();

/** Salesforce sObjects, upserted by an External ID field through sObject Collections. */
export const salesforceDefinition = defineConnector({
  type: 'salesforce',
  title: 'Salesforce',
  connection: SalesforceConnection,
  credentials: salesforceCredentials,
  oauth: salesforceOAuth,
  secretFields: [
    'clientId',
    'clientSecret',
    'token',
    'instanceUrl',
    'refreshToken',
    'accessToken',
    'expiresAt',
    'scope',
    'organizationId',
  ],
  capabilities: {
    nativeUpsert: true,
    idempotencyKey: false,
    maxBatchSize: 200,
    partialSuccess: 'per-record',
    rateLimits: SALESFORCE_RATE_LIMITS,
    children: 'associated',
    versionToken: 'SystemModstamp',
    nulls: 'clear',
  },
  create: ({ sync, connectionName, connection, creds, options }) => {
    const where = `connections[${connectionName}]`;
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
    if (errors.length > 0 || !instanceUrl || !sync.target.externalId) throw new ConfigValidationError(errors);
    const oauthAuth = stableRefreshFrom(creds, {
      tokenUrl: salesforceOAuth.tokenUrl(connection),
      clientAuth: salesforceOAuth.clientAuth,
      codePrefix: 'SALESFORCE',
      vendor: 'Salesforce',
      connection: connectionName,
    });
    return new SalesforceConnector({
      instanceUrl,
      externalIdField: sync.target.externalId,
      ...(oauthAuth ? { auth: oauthAuth } : {}),
      ...(creds.token
        ? { accessToken: creds.token }
        : { clientId: creds.clientId, clientSecret: creds.clientSecret }),
      ...(connection.apiVersion ? { apiVersion: connection.apiVersion } : {}),
      ...(connection.dailyLimit ? { dailyLimit: connection.dailyLimit } : {}),
      ...(options.pace === false ? { rateLimit: false as const } : {}),
      ...(options.readFields ? { readFields: [...options.readFields] } : {}),
      limiterKey: `salesforce:${connectionName}`,
    });
  },
  contract: {
    object: 'Contact',
    externalId: 'Ext_Id__c',
    valid: (i) => ({ LastName: `Last ${i}`, FirstName: `First ${i}`, Email: `u${i}@example.com` }),
    invalid: () => ({ LastName: 'Broken', Email: 'not-an-email' }),
    clearable: 'FirstName',
  },
});

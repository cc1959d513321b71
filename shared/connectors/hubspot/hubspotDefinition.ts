import { z } from 'zod';
import { ConfigValidationError } from '../../errors.ts';
import { stableRefreshFrom } from '../../oauth/StableRefreshAuth.ts';
import { defineConnector } from '../defineConnector.ts';
import { HubSpotConnector } from './HubSpotConnector.ts';
import { hubspotCredentials } from './hubspotCredentials.ts';
import { hubspotOAuth } from './hubspotOAuth.ts';

const HubSpotConnection = z
  .object({
    type: z.literal('hubspot'),
    /** Secrets Manager secret (name or ARN) holding the private app token. */
    secret: z.string().min(1).optional(),
    /** API base URL. @default https://api.hubapi.com */
    baseUrl: z.url().optional(),
    /** Where `writeback connect --oauth` sends the user to install the app. @default https://app.hubspot.com */
    loginUrl: z.url().optional(),
  })
  .strict();

/** HubSpot CRM objects (contacts, companies, deals, line items…), upserted by a unique property. */
export const hubspotDefinition = defineConnector({
  type: 'hubspot',
  title: 'HubSpot',
  connection: HubSpotConnection,
  credentials: hubspotCredentials,
  oauth: hubspotOAuth,
  secretFields: [
    'token',
    'clientId',
    'clientSecret',
    'refreshToken',
    'accessToken',
    'expiresAt',
    'scope',
    'hubId',
  ],
  capabilities: HubSpotConnector.CAPABILITIES,
  create: ({ sync, connectionName, connection, creds, options }) => {
    const oauthAuth = stableRefreshFrom(creds, {
      tokenUrl: hubspotOAuth.tokenUrl(connection),
      clientAuth: hubspotOAuth.clientAuth,
      codePrefix: 'HUBSPOT',
      vendor: 'HubSpot',
      connection: connectionName,
      invalidGrant: (b) => hubspotOAuth.invalidGrant!(b),
    });
    if (!oauthAuth && !creds.token)
      throw new ConfigValidationError([
        `connections[${connectionName}]: no token in its secret (a private app token, or run \`writeback connect ${connectionName}\`)`,
      ]);
    if (!sync.target.externalId) {
      throw new ConfigValidationError([
        `syncs[${sync.name}].target.externalId: required for hubspot (a unique property used as idProperty)`,
      ]);
    }
    const baseUrl = creds.baseUrl ?? connection.baseUrl;
    return new HubSpotConnector({
      ...(oauthAuth
        ? { auth: oauthAuth, limiterKey: `hubspot:${connectionName}:${creds.hubId ?? ''}` }
        : { token: creds.token! }),
      idProperty: sync.target.externalId,
      ...(baseUrl ? { baseUrl } : {}),
      ...(options.readFields ? { readProperties: [...options.readFields] } : {}),
      ...(options.pace === false ? { rateLimit: false as const } : {}),
    });
  },
  contract: {
    object: 'contacts',
    externalId: 'dwh_customer_id',
    valid: (i) => ({ firstname: `First ${i}`, lastname: `Last ${i}`, email: `u${i}@example.com` }),
    invalid: () => ({ firstname: 'Broken', email: 'not-an-email' }),
    clearable: 'lastname',
  },
});

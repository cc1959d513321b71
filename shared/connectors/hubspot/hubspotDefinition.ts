import { z } from 'zod';
import { ConfigValidationError } from '../../errors.ts';
import { defineConnector } from '../defineConnector.ts';
import { HubSpotConnector } from './HubSpotConnector.ts';
import { hubspotCredentials } from './hubspotCredentials.ts';

const HubSpotConnection = z
  .object({
    type: z.literal('hubspot'),
    /** Secrets Manager secret (name or ARN) holding the private app token. */
    secret: z.string().min(1).optional(),
    /** API base URL. @default https://api.hubapi.com */
    baseUrl: z.url().optional(),
  })
  .strict();

/** HubSpot CRM objects (contacts, companies, deals, line items…), upserted by a unique property. */
export const hubspotDefinition = defineConnector({
  type: 'hubspot',
  title: 'HubSpot',
  connection: HubSpotConnection,
  credentials: hubspotCredentials,
  secretFields: ['token'],
  capabilities: HubSpotConnector.CAPABILITIES,
  create: ({ sync, connectionName, connection, creds, options }) => {
    if (!creds.token)
      throw new ConfigValidationError([`connections[${connectionName}]: no token in its secret`]);
    if (!sync.target.externalId) {
      throw new ConfigValidationError([
        `syncs[${sync.name}].target.externalId: required for hubspot (a unique property used as idProperty)`,
      ]);
    }
    const baseUrl = creds.baseUrl ?? connection.baseUrl;
    return new HubSpotConnector({
      token: creds.token,
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

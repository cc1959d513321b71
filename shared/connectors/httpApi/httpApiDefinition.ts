import { ConfigValidationError } from '../../errors.ts';
import { defineConnector } from '../defineConnector.ts';
import { HttpApiConnector, httpApiRateLimits } from './HttpApiConnector.ts';
import { HttpApiConnection, type HttpApiConnectionConfig } from './httpApiConnection.ts';

/** What each kind of auth needs from the secret. */
const NEEDS: Record<HttpApiConnectionConfig['auth']['kind'], readonly (readonly string[])[]> = {
  bearer: [['token']],
  basic: [['username', 'password']],
  apiKey: [['apiKey'], ['token']],
  oauthClientCredentials: [['clientId', 'clientSecret']],
  none: [[]],
};

/** Any REST API that upserts by an external id, configured as data (docs/connectors.md, "Generic HTTP"). */
export const httpApiDefinition = defineConnector({
  type: 'http',
  title: 'HTTP API',
  connection: HttpApiConnection,
  secretFields: ['token', 'username', 'password', 'apiKey', 'clientId', 'clientSecret'],
  capabilities: {
    nativeUpsert: true,
    idempotencyKey: false,
    maxBatchSize: 1,
    partialSuccess: 'per-record',
    rateLimits: httpApiRateLimits({ perSecond: 10, concurrency: 4 }),
    children: 'none',
    versionToken: undefined,
    nulls: 'clear',
  },
  create: ({ connectionName, connection, creds, options }) => {
    const kind = connection.auth.kind;
    const satisfied = NEEDS[kind].some((fields) => fields.every((f) => creds[f]));
    if (!satisfied) {
      const wanted = NEEDS[kind].map((f) => f.join(' and ')).join(' or ');
      throw new ConfigValidationError([
        `connections[${connectionName}]: auth ${kind} needs ${wanted} in its secret`,
      ]);
    }
    return new HttpApiConnector({
      config: connection,
      creds,
      ...(creds.baseUrl ? { baseUrl: creds.baseUrl } : {}),
      limiterKey: `http:${connectionName}`,
      ...(options.pace === false ? { pace: false } : {}),
    });
  },
  contract: {
    object: 'customers',
    connection: {
      baseUrl: 'https://internal.example.com',
      upsert: {
        method: 'POST',
        path: '/api/{object}/batch',
        batchSize: 100,
        body: { externalIdField: 'external_id', wrap: 'records' },
        resultsPath: 'results',
        resultExternalIdPath: 'external_id',
        createdPath: 'created',
      },
      lookup: {
        path: '/api/{object}/by-external-id/{externalId}',
        recordPath: 'data',
        externalIdPath: 'external_id',
      },
      list: { path: '/api/{object}', itemsPath: 'data', nextPath: 'next_cursor' },
    },
    valid: (i) => ({ name: `Customer ${i}`, email: `u${i}@example.com`, note: `note ${i}` }),
    invalid: (i) => ({ name: `Broken ${i}`, email: 'not-an-email' }),
    clearable: 'note',
  },
});

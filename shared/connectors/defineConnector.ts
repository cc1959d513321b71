import type { ConnectorDefinition } from './ConnectorDefinition.ts';

const TYPE_NAME = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * Declares a connector: its connection's config schema, secret fields, capabilities, factory and
 * contract samples (ConnectorDefinition). Pass the result to `defineConfig({ connectors: [...] })`
 * and name its `type` in a connection; `writeback test-connector <connection>` checks it.
 *
 * @example
 * export const crm = defineConnector({
 *   type: 'acme-crm', title: 'Acme CRM',
 *   connection: z.object({ type: z.literal('acme-crm'), secret: z.string().optional(), baseUrl: z.url().optional() }).strict(),
 *   secretFields: ['token'],
 *   capabilities: { nativeUpsert: true, idempotencyKey: false, maxBatchSize: 100, partialSuccess: 'per-record',
 *     rateLimits: { windows: [{ name: 'second', limit: 10, intervalMs: 1000 }] }, children: 'none',
 *     versionToken: undefined, nulls: 'clear' },
 *   create: ({ connection, creds }) => new AcmeConnector({ baseUrl: creds.baseUrl ?? connection.baseUrl, token: creds.token }),
 * });
 */
export function defineConnector<C extends { readonly type: string }>(
  definition: ConnectorDefinition<C>,
): ConnectorDefinition<C> {
  if (!TYPE_NAME.test(definition.type)) {
    throw new TypeError(
      `defineConnector: type '${definition.type}' must be lowercase letters, digits and -, at most 40 characters`,
    );
  }
  if (definition.capabilities.maxBatchSize < 1) {
    throw new TypeError(`defineConnector(${definition.type}): capabilities.maxBatchSize must be at least 1`);
  }
  return Object.freeze(definition);
}

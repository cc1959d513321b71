import { connectorDefinition } from '../../shared/connectors/registry.ts';
import { httpApiLocal } from './http/httpApiLocal.ts';
import { hubspotLocal } from './hubspot/hubspotLocal.ts';
import type { LocalConnector } from './LocalConnector.ts';
import { postgresLocal } from './postgres/postgresLocal.ts';
import { quickbooksLocal } from './quickbooks/quickbooksLocal.ts';
import { salesforceLocal } from './salesforce/salesforceLocal.ts';
import { stripeLocal } from './stripe/stripeLocal.ts';
import { xeroLocal } from './xero/xeroLocal.ts';

/**
 * The local half of each built-in connector (its fake, local credentials, read-back), registered
 * apart from shared/connectors/registry.ts so that no Lambda bundle carries fake code.
 */
const LOCAL_CONNECTORS: readonly LocalConnector[] = [
  postgresLocal,
  hubspotLocal,
  xeroLocal,
  salesforceLocal,
  stripeLocal,
  httpApiLocal,
  quickbooksLocal,
];

const byType = new Map(LOCAL_CONNECTORS.map((c) => [c.type, c]));

/**
 * The local half of a connection type: ours from the list above, a user's from its definition's
 * `fake`; undefined when the type has neither.
 */
export function localConnector(type: string): LocalConnector | undefined {
  const own = byType.get(type);
  if (own) return own;
  const fake = connectorDefinition(type)?.fake;
  return fake ? { type, startFake: fake } : undefined;
}

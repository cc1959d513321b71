import type { ConnectorDefinition } from './ConnectorDefinition.ts';
import { httpApiDefinition } from './httpApi/httpApiDefinition.ts';
import { hubspotDefinition } from './hubspot/hubspotDefinition.ts';
import { postgresDefinition } from './postgres/postgresDefinition.ts';
import { quickbooksDefinition } from './quickbooks/quickbooksDefinition.ts';
import { salesforceDefinition } from './salesforce/salesforceDefinition.ts';
import { stripeDefinition } from './stripe/stripeDefinition.ts';
import { xeroDefinition } from './xero/xeroDefinition.ts';

/**
 * The connectors Writeback ships: adding one is one line here (its folder holds the rest). Their
 * local fakes are registered apart, in local/fakes/localConnectors.ts, so that no Lambda bundle
 * carries fake code.
 */
export const BUILTIN_CONNECTORS: readonly ConnectorDefinition[] = [
  postgresDefinition,
  hubspotDefinition,
  xeroDefinition,
  salesforceDefinition,
  stripeDefinition,
  httpApiDefinition,
  quickbooksDefinition,
] as readonly ConnectorDefinition[];

const builtins = new Map(BUILTIN_CONNECTORS.map((d) => [d.type, d]));
/** The users' connectors of this process (`defineConfig({ connectors })`), registered by validateConfig. */
const own = new Map<string, ConnectorDefinition>();

/**
 * Makes users' connectors known to createConnector and the config schema. A type of ours cannot be
 * replaced; registering another definition under a user type replaces it (a config reloaded).
 */
export function registerConnectors(definitions: readonly ConnectorDefinition[]): string[] {
  const errors: string[] = [];
  for (const d of definitions) {
    if (builtins.has(d.type)) {
      errors.push(
        `connectors[${d.type}]: '${d.type}' is the type of a built-in connector: pick another name`,
      );
      continue;
    }
    own.set(d.type, d);
  }
  return errors;
}

/** The definition of a connection type, built-in or the user's; undefined when none is known. */
export function connectorDefinition(type: string): ConnectorDefinition | undefined {
  return builtins.get(type) ?? own.get(type);
}

/** Every known type, built-ins first, for messages. */
export function connectorTypes(): string[] {
  return [...builtins.keys(), ...own.keys()];
}

import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { WritebackStack, type WritebackStackProps } from '../../infra/WritebackStack.ts';
import type { WritebackConfig } from '../../shared/config/schema.ts';
import { validateConfig } from '../../shared/config/validateConfig.ts';

/** A valid sync as users write it; override fields per test. */
export function syncInput(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    schedule: 'rate(5 minutes)',
    source: { table: `crm.${name.replace(/-/g, '_')}`, key: 'id', cursor: 'updated_at' },
    target: { connection: 'hubspot', object: 'contacts', externalId: 'dwh_id' },
    map: (row: Record<string, unknown>) => ({ email: row.email }),
    ...overrides,
  };
}

/** A validated config, built inline so the tests do not depend on the demo config. */
export function testConfig(
  syncs: Record<string, unknown>[],
  overrides: Record<string, unknown> = {},
): WritebackConfig {
  return validateConfig({
    warehouse: { secret: 'writeback/dwh' },
    connections: {
      hubspot: { type: 'hubspot', secret: 'writeback/hubspot' },
      'billing-db': { type: 'postgres', secret: 'writeback/billing-db' },
    },
    syncs,
    ...overrides,
  });
}

/** A realistic-looking warehouse network (IDs in AWS's formats). */
export const DWH_NETWORK = {
  vpcId: 'vpc-0a1b2c3d4e5f60718',
  subnetIds: ['subnet-0a1b2c3d4e5f60711', 'subnet-0a1b2c3d4e5f60722'],
  routeTableIds: ['rtb-0a1b2c3d4e5f60711', 'rtb-0a1b2c3d4e5f60722'],
  securityGroupId: 'sg-0a1b2c3d4e5f60799',
} as const;

/**
 * Builds a WritebackStack in a fresh app with bundling skipped (`aws:cdk:bundling-stacks: []`),
 * so tests neither run esbuild nor depend on the handlers compiling.
 */
export function buildStack(
  config: WritebackConfig,
  props: Omit<WritebackStackProps, 'config'> = {},
): { app: App; stack: WritebackStack; template: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new WritebackStack(app, 'Writeback', { config, ...props });
  return { app, stack, template: Template.fromStack(stack) };
}

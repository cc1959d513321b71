import { describe, expect, it } from 'vitest';
import { ENV } from '../../shared/contracts/RuntimeEnv.ts';
import { buildStack, syncInput, testConfig } from './stackFixture.ts';

/**
 * What the functions that reach Postgres need from the stack: the Amazon CA bundle of the Lambda
 * runtime (Node.js 20 and later no longer load it unless NODE_EXTRA_CA_CERTS points at it), so
 * that verify-full can verify an RDS server; and their own timeout, so that their statements stop
 * before they do.
 */
describe('Stack: Postgres transport of the functions', () => {
  const config = testConfig([
    syncInput('contacts', { verify: {} }),
    syncInput('customers', { target: { connection: 'billing-db', object: 'billing.customers' } }),
  ]);
  const { template } = buildStack(config, { trialDatabase: true });
  const functions = Object.entries(template.findResources('AWS::Lambda::Function'))
    .map(([id, r]) => {
      const m = /^Sync([A-Za-z0-9]+?)(Extract|Write|Verify)Function[0-9A-F]{8}$/.exec(id);
      const props = r.Properties as { Timeout: number; Environment: { Variables: Record<string, string> } };
      return m
        ? { id, sync: m[1]!, kind: m[2]!, timeout: props.Timeout, env: props.Environment.Variables }
        : undefined;
    })
    .filter((f) => f !== undefined);

  it('finds every handler function', () => {
    expect(functions.map((f) => `${f.sync} ${f.kind}`).sort()).toEqual([
      'Contacts Extract',
      'Contacts Verify',
      'Contacts Write',
      'Customers Extract',
      'Customers Write',
    ]);
  });

  it('loads the RDS CAs where a function connects to Postgres, and nowhere else', () => {
    for (const f of functions) {
      const reachesPostgres = f.kind !== 'Write' || f.sync === 'Customers';
      expect(f.env.NODE_EXTRA_CA_CERTS, f.id).toBe(reachesPostgres ? '/var/runtime/ca-cert.pem' : undefined);
    }
  });

  it('tells each function its own timeout, in milliseconds (the budget of its statements)', () => {
    for (const f of functions) expect(Number(f.env[ENV.functionTimeoutMs]), f.id).toBe(f.timeout * 1000);
  });
});

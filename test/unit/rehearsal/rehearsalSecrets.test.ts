import { describe, expect, it } from 'vitest';
import type { LocalStack } from '../../../local/LocalStack.ts';
import { RehearsalSecretError, rehearsalSecrets } from '../../../local/rehearsal/rehearsalSecrets.ts';
import { type CfnTemplate, resolveTemplate } from '../../../local/rehearsal/resolveTemplate.ts';
import { buildStack, syncInput, testConfig } from '../../infra/stackFixture.ts';

/** Which secrets a rehearsed stack gets, and with what: found through the functions' environment. */
const config = testConfig([syncInput('crm-contacts')]);
const stack = resolveTemplate(buildStack(config).template.toJSON() as CfnTemplate, {
  stackName: 'Writeback',
});
const trial = resolveTemplate(buildStack(config, { trialDatabase: true }).template.toJSON() as CfnTemplate, {
  stackName: 'Writeback',
});

/** The two things rehearsalSecrets asks of the local world: the warehouse URL and a connection's credentials. */
function world(credentials: (name: string) => Record<string, string>): LocalStack {
  return {
    pg: {
      url: (db = 'postgres') =>
        `postgres://postgres@127.0.0.1:5999/${db}?sslmode=verify-full&sslrootcert=/tmp/ca.crt`,
    },
    credentials,
  } as unknown as LocalStack;
}
const fakes = world(() => ({ token: 'local-hubspot-token', baseUrl: 'http://127.0.0.1:7000' }));

describe('rehearsalSecrets', () => {
  it('fills the imported warehouse secret with the local URL, without a CA file (the runtime bundle holds it)', () => {
    const dwh = rehearsalSecrets(stack, config, fakes).find((s) => s.name === 'writeback/dwh');
    expect(dwh?.arn).toMatch(/^arn:aws:secretsmanager:eu-west-1:123456789012:secret:writeback\/dwh-\w{6}$/);
    expect(JSON.parse(String(dwh?.value))).toEqual({
      url: 'postgres://postgres@127.0.0.1:5999/dwh?sslmode=verify-full',
    });
  });

  it("fills a connection's secret with its local credentials", () => {
    const hubspot = rehearsalSecrets(stack, config, fakes).find((s) => s.name === 'writeback/hubspot');
    expect(JSON.parse(String(hubspot?.value))).toEqual({
      token: 'local-hubspot-token',
      baseUrl: 'http://127.0.0.1:7000',
    });
  });

  it("gives the trial database's own secret RDS's fields, as RDS writes them", () => {
    const ownSecret = [...trial.physical.values()].find((p) => p.type === 'AWS::SecretsManager::Secret')!.ref;
    const created = rehearsalSecrets(trial, config, fakes).find((s) => s.arn === ownSecret);
    expect(JSON.parse(String(created?.value))).toEqual({
      engine: 'postgres',
      host: '127.0.0.1',
      port: 5999,
      username: 'postgres',
      password: '',
      dbname: 'dwh',
    });
  });

  it('names the secret and --secrets when a connection has no local fake', () => {
    const none = world(() => {
      throw new Error('the local stack has no fake for acme targets');
    });
    expect(() => rehearsalSecrets(stack, config, none)).toThrowError(RehearsalSecretError);
    expect(() => rehearsalSecrets(stack, config, none)).toThrowError(
      /secret writeback\/hubspot of connection 'hubspot'.*--secrets <file>/,
    );
  });

  it('takes the values of --secrets over the local ones, by secret name', () => {
    const none = world(() => {
      throw new Error('no fake');
    });
    const seeds = rehearsalSecrets(stack, config, none, {
      'writeback/hubspot': { token: 'sandbox', baseUrl: 'https://sandbox.example' },
    });
    const hubspot = seeds.find((s) => s.name === 'writeback/hubspot');
    expect(JSON.parse(String(hubspot?.value))).toEqual({
      token: 'sandbox',
      baseUrl: 'https://sandbox.example',
    });
  });
});

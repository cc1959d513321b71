import { describe, expect, it } from 'vitest';
import { ConnectionSchema, type SyncConfig } from '../../../shared/config/schema.ts';
import { createConnector, credentialsFromSecret } from '../../../shared/connectors/createConnector.ts';
import { ConfigValidationError } from '../../../shared/errors.ts';

const sync = (connection: string, externalId?: string) =>
  ({
    name: 'demo',
    target: { connection, object: 'Contacts', ...(externalId ? { externalId } : {}) },
  }) as unknown as SyncConfig;

describe('Function: createConnector', () => {
  it('builds a connector per SaaS connection type from its config and secret', () => {
    const cases = [
      [{ type: 'xero', tenantId: 't-1' }, { clientId: 'id', clientSecret: 'secret' }, undefined, 'xero'],
      [
        { type: 'salesforce', instanceUrl: 'https://acme.my.salesforce.com' },
        { token: 'tok' },
        'Ext_Id__c',
        'salesforce',
      ],
      [{ type: 'stripe' }, { token: 'sk_test_x' }, undefined, 'stripe'],
      [{ type: 'hubspot' }, { token: 'pat' }, 'dwh_id', 'hubspot'],
    ] as const;
    for (const [config, creds, ext, type] of cases) {
      const connection = ConnectionSchema.parse(config);
      expect(createConnector(sync('c', ext), connection, creds).type).toBe(type);
    }
  });

  it('names every missing piece of a Xero connection at once', () => {
    const connection = ConnectionSchema.parse({ type: 'xero' });

    const build = () => createConnector(sync('books'), connection, {});

    expect(build).toThrow(ConfigValidationError);
    expect(build).toThrow(/connections\[books\]\.tenantId: required[\s\S]*clientId and clientSecret/);
  });

  it('refuses a Xero rate limit above Xero’s own', () => {
    expect(ConnectionSchema.safeParse({ type: 'xero', rateLimit: { perMinute: 61 } }).success).toBe(false);
  });
});

describe('Function: credentialsFromSecret', () => {
  it('reads tokens, client credentials, tenants, instance URLs and RDS-style secrets', () => {
    expect(credentialsFromSecret({ clientId: 'a', clientSecret: 'b', tenantId: 't' })).toEqual({
      clientId: 'a',
      clientSecret: 'b',
      tenantId: 't',
    });
    expect(credentialsFromSecret({ value: 'sk_live_1' })).toEqual({ token: 'sk_live_1' });
    expect(credentialsFromSecret({ host: 'db', username: 'u', password: 'p@ss', dbname: 'x' }).url).toBe(
      'postgres://u:p%40ss@db:5432/x',
    );
  });
});

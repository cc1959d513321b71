import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SyncConfig } from '../../../shared/config/schema.ts';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import { createConnector } from '../../../shared/connectors/createConnector.ts';
import { BUILTIN_CONNECTORS, connectorDefinition } from '../../../shared/connectors/registry.ts';
import { ConfigValidationError } from '../../../shared/errors.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Credentials and a target that satisfy every built-in factory. */
const CREDS = {
  realmId: '123',
  token: 't',
  tenantId: 'tenant',
  instanceUrl: 'https://acme.my.salesforce.com',
  url: 'postgres://u@127.0.0.1:1/x',
};
const sync = (connection: string) =>
  ({
    name: 'demo',
    target: { connection, object: 'contacts', externalId: 'ext_id' },
  }) as unknown as SyncConfig;

describe('Module: connector registry', () => {
  it.each(BUILTIN_CONNECTORS.map((d) => [d.type, d] as const))(
    '%s declares the capabilities its connector reports with default options',
    async (type, definition) => {
      // Prepare
      const connection = definition.connection.parse({ type, ...definition.contract?.connection });

      // Act
      const connector = definition.create({
        sync: sync('c'),
        connectionName: 'c',
        connection,
        creds: CREDS,
        options: {},
      });

      // Assess
      try {
        expect(connector.type).toBe(type);
        // A generic HTTP connection sets its own batch size (the sample's is 100).
        const own = type === 'http' ? { maxBatchSize: connector.capabilities.maxBatchSize } : {};
        expect(connector.capabilities).toEqual({ ...definition.capabilities, ...own });
      } finally {
        await connector.close();
      }
    },
  );

  it('parses a connection by its own connector’s schema and names the field at fault', () => {
    const input = {
      connections: { books: { type: 'xero', rateLimit: { perMinute: 61 } }, other: { type: 'nosuch' } },
      syncs: [
        {
          name: 'a',
          source: { table: 'crm.c', key: 'id', cursor: 'u' },
          target: { connection: 'books', object: 'Contacts' },
          map: () => ({}),
        },
      ],
    };

    const validate = () => validateConfig(input);

    expect(validate).toThrow(ConfigValidationError);
    expect(validate).toThrow(/connections\.books\.rateLimit\.perMinute/);
    expect(validate).toThrow(
      /connections\.other\.type: unknown connector 'nosuch' \(known: postgres, hubspot/,
    );
  });

  it('refuses a user connector that takes the type of a built-in', () => {
    const impostor = { ...connectorDefinition('stripe')!, title: 'Not Stripe' };
    const input = {
      connectors: [impostor],
      connections: { s: { type: 'stripe' } },
      syncs: [
        {
          name: 'a',
          source: { table: 'crm.c', key: 'id', cursor: 'u' },
          target: { connection: 's', object: 'customers' },
          map: () => ({}),
        },
      ],
    };

    expect(() => validateConfig(input)).toThrow(/connectors\[stripe\]: 'stripe' is the type of a built-in/);
  });

  it('builds no connector for an unknown type', () => {
    expect(() => createConnector(sync('x'), { type: 'nosuch' }, {})).toThrow(/unknown connector 'nosuch'/);
  });

  it('leaves no switch on a connection type outside the connectors’ own folders', () => {
    const known = new Set<string>();
    const types = BUILTIN_CONNECTORS.map((d) => d.type).join('|');
    const pattern = new RegExp(`\\.type\\s*[!=]==\\s*'(${types})'|case '(${types})'`);
    const offenders: string[] = [];
    for (const dir of ['shared', 'local', 'cli', 'functions', 'infra']) {
      for (const e of readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })) {
        if (!e.isFile() || !e.name.endsWith('.ts')) continue;
        const file = relative(ROOT, join(e.parentPath, e.name));
        if (known.has(file)) continue;
        if (pattern.test(readFileSync(join(ROOT, file), 'utf8'))) offenders.push(file);
      }
    }
    expect(offenders).toEqual([]);
  });
});

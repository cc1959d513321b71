import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import { ConfigValidationError } from '../../../shared/errors.ts';

const validSync = {
  name: 'crm-customers',
  source: { table: 'crm.customers', key: 'customer_id', cursor: 'updated_at' },
  target: { connection: 'hubspot', object: 'contacts', externalId: 'dwh_customer_id' },
  map: (row: Record<string, unknown>) => ({ email: row.email }),
};
const base = { connections: { hubspot: { type: 'hubspot' } }, syncs: [validSync] };

function errorsOf(input: unknown): string[] {
  try {
    validateConfig(input);
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.errors;
    throw err;
  }
  throw new Error('config was accepted');
}

describe('Function: validateConfig', () => {
  it('applies defaults to a minimal sync', () => {
    // Act
    const config = validateConfig(base);
    // Assess
    const sync = config.syncs[0]!;
    expect(sync.source.key).toEqual(['customer_id']);
    expect(sync.source.lookback).toBe(0);
    expect(sync.schedule).toBe('rate(15 minutes)');
    expect(sync.enabled).toBe(true);
    expect(sync.maxReceiveCount).toBe(10);
  });

  it('names the sync and the field of a missing cursor', () => {
    const { cursor: _, ...source } = validSync.source;
    expect(errorsOf({ ...base, syncs: [{ ...validSync, source }] })).toEqual([
      'syncs[crm-customers].source.cursor: required',
    ]);
  });

  it('reports every problem at once', () => {
    const errors = errorsOf({
      ...base,
      syncs: [
        {
          ...validSync,
          schedule: 'every 5 minutes',
          source: { ...validSync.source, lookback: 'soon' },
          map: 1,
        },
      ],
    });
    expect(errors).toHaveLength(3);
    expect(errors.join('\n')).toMatch(/syncs\[crm-customers\]\.schedule: expected rate/);
    expect(errors.join('\n')).toMatch(/syncs\[crm-customers\]\.source\.lookback: expected a duration/);
    expect(errors.join('\n')).toMatch(/syncs\[crm-customers\]\.map: expected a function/);
  });

  it('rejects an unknown field, catching typos', () => {
    expect(errorsOf({ ...base, syncs: [{ ...validSync, shedule: 'rate(5 minutes)' }] })[0]).toMatch(
      /syncs\[crm-customers\]: Unrecognized key.*shedule/,
    );
  });

  it('rejects a target connection that is not defined', () => {
    expect(
      errorsOf({ ...base, syncs: [{ ...validSync, target: { ...validSync.target, connection: 'hubspt' } }] }),
    ).toEqual(["syncs[crm-customers].target.connection: unknown connection 'hubspt' (known: hubspot)"]);
  });

  it('rejects duplicate sync names', () => {
    expect(errorsOf({ ...base, syncs: [validSync, validSync] })).toEqual([
      'syncs[crm-customers].name: duplicate sync name',
    ]);
  });

  it('requires exactly one of table and query', () => {
    const source = { ...validSync.source, query: 'select 1' };
    expect(errorsOf({ ...base, syncs: [{ ...validSync, source }] })).toEqual([
      'syncs[crm-customers].source.table: give exactly one of table or query',
    ]);
  });

  it('accepts the repository demo config', async () => {
    const { loadConfigFile } = await import('../../../shared/config/loadConfig.ts');
    const config = await loadConfigFile('writeback.config.ts');
    expect(config.syncs.map((s) => s.name)).toEqual([
      'crm-customers',
      'xero-contacts',
      'xero-invoices',
      'hubspot-deals',
      'hubspot-line-items',
      'crm-invoices',
      'qbo-customers',
      'qbo-invoices',
      'contacts-to-xero',
      'contacts-to-hubspot',
    ]);
  });
});

describe('Function: validateConfig, parent references', () => {
  const child = (name: string, parent: string) => ({
    ...validSync,
    name,
    source: { ...validSync.source, table: `crm.${name.replaceAll('-', '_')}` },
    parent: { sync: parent, key: 'customer_id' },
  });

  it('rejects an unknown parent, naming the known syncs', () => {
    expect(errorsOf({ ...base, syncs: [validSync, child('crm-invoices', 'crm-customer')] })).toEqual([
      "syncs[crm-invoices].parent.sync: unknown sync 'crm-customer' (known: crm-customers, crm-invoices)",
    ]);
  });

  it('rejects a cycle with its path', () => {
    const errors = errorsOf({ ...base, syncs: [child('a-sync', 'b-sync'), child('b-sync', 'a-sync')] });
    expect(errors).toEqual(['syncs[a-sync].parent: cycle a-sync → b-sync → a-sync']);
  });

  it('rejects a sync that is its own parent', () => {
    expect(errorsOf({ ...base, syncs: [child('a-sync', 'a-sync')] })).toEqual([
      'syncs[a-sync].parent.sync: a sync cannot be its own parent',
    ]);
  });
});

import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotFake } from '../../../local/fakes/hubspot/HubSpotFake.ts';
import type { XeroFake } from '../../../local/fakes/xero/XeroFake.ts';
import { LocalStack } from '../../../local/LocalStack.ts';
import { loadPairCopies } from '../../../local/loadPairCopies.ts';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import type { RunRecord } from '../../../shared/state/RunRecord.ts';
import { contactsPair } from '../../fixtures/pair/contactsPair.ts';

const config = validateConfig({
  connections: {
    hubspot: { type: 'hubspot', secret: 'writeback/hubspot' },
    xero: { type: 'xero', secret: 'writeback/xero' },
  },
  syncs: contactsPair,
});
const TO_XERO = 'contacts-to-xero';
const TO_HUBSPOT = 'contacts-to-hubspot';

describe('Two-way pair: HubSpot contacts ↔ Xero contacts through the warehouse', () => {
  let stack: LocalStack;
  let dwh: Sql;
  let hubspot: HubSpotFake;
  let xero: XeroFake;
  /** One round as a deployment runs it: ELT loads both apps, both directions run, the queues drain. */
  const round = async (): Promise<{ toXero: RunRecord; toHubSpot: RunRecord }> => {
    await loadPairCopies(dwh, { hubspot, xero });
    const toXero = await stack.runExtract(TO_XERO);
    const toHubSpot = await stack.runExtract(TO_HUBSPOT);
    await stack.drain(60_000);
    return { toXero, toHubSpot };
  };
  const writes = () =>
    hubspot.calls().filter((c) => c.method === 'POST' && /batch\/(upsert|update)$/.test(c.path)).length +
    xero.calls().filter((c) => c.method === 'POST' || c.method === 'PUT').length;
  const xeroContacts = () => xero.contacts();
  const hubspotContacts = () => hubspot.records('contacts');

  beforeAll(async () => {
    stack = await LocalStack.start({ config, queueVisibilitySeconds: 2 });
    dwh = stack.dwh;
    hubspot = stack.hubspot;
    xero = stack.xero;
    stack.startWriters();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('creates a contact made in either app once in the other, and settles the echoes without a call', async () => {
    const ada = hubspot.seed('contacts', {
      email: 'ada@example.com',
      firstname: 'Ada',
      lastname: 'Lovelace',
    });
    const bob = xero.seedContact({
      Name: 'Bob Smith',
      FirstName: 'Bob',
      LastName: 'Smith',
      EmailAddress: 'bob@example.com',
      AccountNumber: 'ACC-1',
    });

    const first = await round();
    expect(first.toXero.counts.enqueued).toBe(1);
    expect(first.toHubSpot.counts.enqueued).toBe(1);
    const adaInXero = xeroContacts().filter((c) => c.ContactNumber === ada.id);
    expect(adaInXero).toHaveLength(1);
    expect(adaInXero[0]).toMatchObject({
      Name: 'Ada Lovelace',
      FirstName: 'Ada',
      EmailAddress: 'ada@example.com',
    });
    const bobInHubSpot = hubspot.findRecords('contacts', 'xero_contact_id', String(bob.ContactID));
    expect(bobInHubSpot).toHaveLength(1);
    expect(bobInHubSpot[0]!.properties).toMatchObject({
      email: 'bob@example.com',
      firstname: 'Bob',
      xero_account_number: 'ACC-1',
    });

    // The next load brings both creates back into the warehouse: each is our own write's echo.
    const before = writes();
    const second = await round();
    expect(writes()).toBe(before);
    expect(second.toXero.counts).toMatchObject({ enqueued: 0, echoes: 1 });
    expect(second.toHubSpot.counts).toMatchObject({ enqueued: 0, echoes: 1 });
    expect(xeroContacts()).toHaveLength(2);
    expect(hubspotContacts()).toHaveLength(2);
    // And a quiet round reads nothing: the incremental load moved no row.
    const third = await round();
    expect(third.toXero.counts.read + third.toHubSpot.counts.read).toBe(0);
  });
});

import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { editHubSpotContact, editXeroContact } from '../../../local/appEdits.ts';
import type { HubSpotFake } from '../../../local/fakes/hubspot/HubSpotFake.ts';
import type { XeroFake } from '../../../local/fakes/xero/XeroFake.ts';
import { LocalStack } from '../../../local/LocalStack.ts';
import { loadPairCopies } from '../../../local/loadPairCopies.ts';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import { planSync } from '../../../shared/ops/plan.ts';
import type { RunRecord } from '../../../shared/state/RunRecord.ts';
import { repairFindings } from '../../../shared/verify/repairSync.ts';
import { verifySync, verifySyncFindings } from '../../../shared/verify/verifySync.ts';
import { contactsPair } from '../../fixtures/pair/contactsPair.ts';
import { localOpsContext } from '../../helpers/localOpsContext.ts';

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
  /**
   * Rounds until one writes nothing (a further round then makes no target call: no loop), at most
   * five; the rounds that ran, the quiet one last.
   */
  const settle = async () => {
    const rounds: Awaited<ReturnType<typeof round>>[] = [];
    for (let i = 0; i < 5; i++) {
      const before = writes();
      rounds.push(await round());
      if (writes() === before) return rounds;
    }
    throw new Error(
      `not settled after 5 rounds: ${JSON.stringify(rounds.map((r) => [r.toXero.counts, r.toHubSpot.counts]))}`,
    );
  };
  /** Records written into either app (successful write calls; a retried call counts once). */
  const writes = () =>
    hubspot
      .calls()
      .filter((c) => c.method === 'POST' && /batch\/(upsert|update)$/.test(c.path) && ok(c.status)).length +
    xero.calls().filter((c) => c.method === 'POST' && c.query.summarizeErrors && ok(c.status)).length;
  const xeroContacts = () => xero.contacts();
  const hubspotApp = () => ({ url: hubspot.url, token: hubspot.accessToken });
  const xeroApp = () => ({ url: xero.url, accessToken: xero.accessToken, tenantId: xero.tenantId });
  const hubspotContacts = () => hubspot.records('contacts');

  beforeAll(async () => {
    stack = await LocalStack.start({ config, queueVisibilitySeconds: 2 });
    dwh = stack.dwh;
    // The pair leaves out the contacts the one-way CRM syncs write: read from crm.customers.
    await dwh`create schema crm`;
    await dwh`create table crm.customers (customer_id int primary key)`;
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

  it('carries an edit of a field to the other app only from the side that owns it', async () => {
    const ada = hubspotContacts().find((c) => c.properties.email === 'ada@example.com')!;
    const adaInXero = xeroContacts().find((c) => c.ContactNumber === ada.id)!;
    // HubSpot owns the names, Xero the account number: each edit where it belongs…
    await editHubSpotContact(hubspotApp(), ada.id, { firstname: 'Augusta' });
    await editXeroContact(xeroApp(), String(adaInXero.ContactID), { AccountNumber: 'ACC-7' });
    // …and one where it does not: Xero's first name is HubSpot's to set.
    const bob = xeroContacts().find((c) => c.EmailAddress === 'bob@example.com')!;
    await editXeroContact(xeroApp(), String(bob.ContactID), { FirstName: 'Robert' });

    // A row loaded before our write into its app waits for the load that shows it: the Xero edit
    // may take a second round. Exactly one write each way, however the rounds fall.
    const before = writes();
    await settle();
    expect(writes() - before).toBe(2);
    expect(xero.contacts().find((c) => c.ContactID === adaInXero.ContactID)).toMatchObject({
      FirstName: 'Augusta',
      AccountNumber: 'ACC-7',
    });
    expect(hubspot.getRecord('contacts', ada.id)!.properties).toMatchObject({
      firstname: 'Augusta',
      xero_account_number: 'ACC-7',
    });
    const bobInHubSpot = hubspotContacts().find((c) => c.properties.email === 'bob@example.com')!;
    expect(bobInHubSpot.properties.firstname).toBe('Bob');
  });

  it('resolves an address both apps changed by the newer edit, and records the conflict in the run', async () => {
    const ada = hubspotContacts().find((c) => c.properties.firstname === 'Augusta')!;
    const adaInXero = xeroContacts().find((c) => c.ContactNumber === ada.id)!;
    await editXeroContact(xeroApp(), String(adaInXero.ContactID), { EmailAddress: 'ada@xero.example' });
    // The HubSpot edit is the newer one (the apps stamp their modification times).
    await waitForClockTick();
    await editHubSpotContact(hubspotApp(), ada.id, { email: 'ada@hubspot.example' });

    // writeback plan shows the conflict before a run resolves it, and writes nothing.
    await loadPairCopies(dwh, { hubspot, xero });
    const ops = localOpsContext(stack, config);
    const plan = await planSync(ops, TO_XERO, { diffLimit: 0 });
    await ops.close();
    expect(plan.conflicts).toEqual([
      { key: ada.id, field: 'email', source: 'ada@hubspot.example', target: 'ada@xero.example', winner: 'a' },
    ]);
    expect(plan.counts).toMatchObject({ update: 1, create: 0 });

    const before = writes();
    const rounds = await settle();
    expect(writes() - before).toBe(1);
    const toXero = rounds.find((r) => r.toXero.counts.conflicts)!.toXero;
    expect(toXero.conflicts).toEqual([
      { key: ada.id, field: 'email', source: 'ada@hubspot.example', target: 'ada@xero.example', winner: 'a' },
    ]);
    expect(rounds.every((r) => r.toHubSpot.counts.enqueued === 0)).toBe(true);
    expect(xero.contacts().find((c) => c.ContactID === adaInXero.ContactID)!.EmailAddress).toBe(
      'ada@hubspot.example',
    );
    expect(hubspot.getRecord('contacts', ada.id)!.properties.email).toBe('ada@hubspot.example');
    const stored = await stack.state.listRuns(TO_XERO, 10);
    expect(stored.find((r) => r.runId === toXero.runId)!.conflicts).toEqual(toXero.conflicts);
  });

  it('takes a value that differs only in form for the same value: no write either way', async () => {
    const bob = xeroContacts().find((c) => c.EmailAddress === 'bob@example.com')!;
    await editXeroContact(xeroApp(), String(bob.ContactID), { EmailAddress: 'BOB@Example.com' });
    const before = writes();
    const { toXero, toHubSpot } = await round();
    expect(toHubSpot.counts).toMatchObject({ read: 1, enqueued: 0, echoes: 1 });
    expect(toXero.counts.enqueued).toBe(0);
    expect(writes()).toBe(before);
  });

  it('verifies both directions through the links: a field edited where its owner does not live is drift', async () => {
    await settle();
    const deps = { dwh, links: stack.links, state: stack.state, now: Date.now };
    const toXero = await verifySync(config.syncs.find((s) => s.name === TO_XERO)!, deps, {
      exportLogs: true,
    });
    const toHubSpot = await verifySync(config.syncs.find((s) => s.name === TO_HUBSPOT)!, deps);

    // Robert, set in Xero where HubSpot owns the first name, stays until HubSpot changes the record.
    const bob = hubspotContacts().find((c) => c.properties.email === 'bob@example.com')!;
    expect(toXero.findings).toEqual([
      expect.objectContaining({ kind: 'drift', key: bob.id, fields: ['FirstName'] }),
    ]);
    expect(toXero.sourceRows).toBe(2);
    expect(toHubSpot.clean).toBe(true);
    expect(toHubSpot.sourceRows).toBe(2);
    // The conflict of the earlier test, auditable in SQL in the writeback schema.
    // verify --repair re-sends HubSpot's value to the record the link names, by its id: not a new one.
    const drifted = await verifySyncFindings(config.syncs.find((s) => s.name === TO_XERO)!, deps);
    const xeroBefore = xeroContacts().length;
    await repairFindings(config.syncs.find((s) => s.name === TO_XERO)!, drifted.findings, {
      sql: dwh,
      enqueuer: stack.enqueuer(TO_XERO),
      now: Date.now,
    });
    await stack.drain(60_000);
    const bobInXero = xeroContacts().find((c) => String(c.EmailAddress).toLowerCase() === 'bob@example.com')!;
    expect(bobInXero.FirstName).toBe('Bob');
    expect(xeroContacts()).toHaveLength(xeroBefore);

    const audited = await dwh<{ conflicts: unknown }[]>`
      select conflicts from writeback.runs
      where sync = ${TO_XERO} and jsonb_typeof(conflicts) = 'array' and jsonb_typeof(bookmark_after) = 'object'`;
    expect(audited.map((r) => r.conflicts)).toEqual([
      [expect.objectContaining({ field: 'email', winner: 'a' })],
    ]);
  });

  it('archives in HubSpot a contact archived in Xero, through its link, and nothing else', async () => {
    const bob = xeroContacts().find((c) => String(c.EmailAddress).toLowerCase() === 'bob@example.com')!;
    const bobInHubSpot = hubspot.findRecords('contacts', 'xero_contact_id', String(bob.ContactID))[0]!;
    await editXeroContact(xeroApp(), String(bob.ContactID), { ContactStatus: 'ARCHIVED' });

    await settle();

    expect(hubspot.records('contacts', { archived: true }).map((r) => r.id)).toEqual([bobInHubSpot.id]);
    expect(hubspotContacts()).toHaveLength(1);
    expect((await stack.links.get(TO_HUBSPOT, String(bob.ContactID)))?.status).toBe('deleted');
  });
});

describe('Two-way pair: a writer that dies after creating a record and before recording it', () => {
  let stack: LocalStack;
  const crashed = new Set<string>();

  beforeAll(async () => {
    stack = await LocalStack.start({
      config,
      queueVisibilitySeconds: 2,
      // The first delivery of each record to Xero dies right after Xero answered (the process crashes);
      // its lease on the record runs out in 3 s, as a crashed Lambda's does in its own time.
      writeOptions: (sync) =>
        sync.name === TO_XERO
          ? {
              leaseMs: 3_000,
              faults: {
                at: (step, key) => {
                  if (step !== 'written' || crashed.has(key)) return;
                  crashed.add(key);
                  throw new Error(`injected crash after writing ${key}`);
                },
              },
            }
          : {},
    });
    await stack.dwh`create schema crm`;
    await stack.dwh`create table crm.customers (customer_id int primary key)`;
    stack.startWriters();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('links it on redelivery; the other direction waits meanwhile and never creates it back', {
    timeout: 120_000,
  }, async () => {
    const apps = { hubspot: stack.hubspot, xero: stack.xero };
    const zed = stack.hubspot.seed('contacts', { email: 'zed@example.com', firstname: 'Zed', lastname: 'Z' });
    await loadPairCopies(stack.dwh, apps);
    await stack.runExtract(TO_XERO);
    // Xero holds the contact; its writer died before the pair's record and the link's commit.
    await vi.waitFor(() => expect(crashed.has(zed.id)).toBe(true), { timeout: 30_000, interval: 20 });
    expect(stack.xero.contactsByNumber(zed.id)).toHaveLength(1);

    // The ELT loads Xero before the redelivery: the new contact carries our stamp and has no link.
    await loadPairCopies(stack.dwh, apps);
    const meanwhile = await stack.runExtract(TO_HUBSPOT);
    expect(meanwhile.counts).toMatchObject({ read: 1, enqueued: 0, awaitingReload: 1 });

    // The redelivery finds the contact by its ContactNumber, records the pair's write, commits.
    await stack.drain(60_000);
    for (let i = 0; i < 3; i++) {
      await loadPairCopies(stack.dwh, apps);
      await stack.runExtract(TO_XERO);
      await stack.runExtract(TO_HUBSPOT);
      await stack.drain(60_000);
    }
    expect(stack.xero.contacts()).toHaveLength(1);
    expect(stack.hubspot.records('contacts')).toHaveLength(1);
    const inXero = stack.xero.contactsByNumber(zed.id)[0]!;
    expect((await stack.links.get(TO_XERO, zed.id))?.targetId).toBe(inXero.ContactID);
    expect((await stack.links.get(TO_HUBSPOT, String(inXero.ContactID)))?.targetId).toBe(zed.id);
    expect((await stack.queueDepth(TO_XERO)).dlq + (await stack.queueDepth(TO_HUBSPOT)).dlq).toBe(0);
  });
});

const ok = (status: number | undefined) => status !== undefined && status < 300;

/** The apps' modification times are in milliseconds: the next edit is stamped later. */
async function waitForClockTick(): Promise<void> {
  const start = Date.now();
  await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(start + 1), { interval: 1 });
}

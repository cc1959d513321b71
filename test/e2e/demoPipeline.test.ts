import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { touchCustomers } from '../../local/demoData.ts';
import { LocalStack } from '../../local/LocalStack.ts';
import { loadConfigFile } from '../../shared/config/loadConfig.ts';
import type { Row, WritebackConfig } from '../../shared/config/schema.ts';
import { targetPool } from '../../shared/postgresPools.ts';
import { ConnectorSpy } from '../helpers/countingConnector.ts';

const CUSTOMERS = 300;

/** HubSpot stores every property as a string; null clears it to ''. */
const asHubSpot = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const asDate = (v: unknown): string => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v));

describe('End to end: the demo pipeline on the local stack', () => {
  let stack: LocalStack;
  let config: WritebackConfig;
  const spies = new Map<string, ConnectorSpy>();

  const runAndDrain = async () => {
    const runs = [];
    for (const s of config.syncs) runs.push(await stack.runExtract(s.name));
    await stack.drain();
    return runs;
  };

  beforeAll(async () => {
    config = await loadConfigFile('writeback.config.ts');
    for (const s of config.syncs) spies.set(s.name, new ConnectorSpy());
    stack = await LocalStack.start({
      config,
      demo: { customers: CUSTOMERS },
      wrapConnector: (sync, c) => spies.get(sync.name)!.wrap(c),
    });
    stack.startWriters({ waitSeconds: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('writes every source row once: the targets equal the mapped source', async () => {
    // Act
    const runs = await runAndDrain();
    // Assess
    expect(runs.map((r) => [r.sync, r.outcome])).toEqual(config.syncs.map((s) => [s.name, 'succeeded']));
    const customersSync = config.syncs.find((s) => s.name === 'crm-customers')!;
    const customers = await stack.dwh<Row[]>`select * from crm.customers order by customer_id`;
    const contacts = stack.hubspot.records('contacts');
    expect(contacts).toHaveLength(CUSTOMERS);
    const byExternalId = new Map(contacts.map((c) => [c.properties.dwh_customer_id, c]));
    expect(byExternalId.size).toBe(CUSTOMERS);
    for (const row of customers) {
      const contact = byExternalId.get(String(row.customer_id));
      expect(contact, `customer ${row.customer_id}`).toBeDefined();
      const mapped = customersSync.map(row, { sync: customersSync.name });
      for (const [field, value] of Object.entries(mapped)) {
        expect(contact!.properties[field] ?? '', `customer ${row.customer_id}.${field}`).toBe(
          asHubSpot(value),
        );
      }
    }

    const invoicesSync = config.syncs.find((s) => s.name === 'crm-invoices')!;
    const invoices = await stack.dwh<Row[]>`select * from crm.invoices order by invoice_id`;
    const billing = targetPool(stack.pg.url('billing'), { max: 1 });
    const written = await billing<Row[]>`select * from billing.invoices`;
    await billing.end();
    expect(written).toHaveLength(invoices.length);
    const target = new Map(written.map((r) => [r.source_invoice_id, r]));
    for (const row of invoices) {
      const mapped = invoicesSync.map(row, { sync: invoicesSync.name });
      const t = target.get(String(row.invoice_id))!;
      expect({
        ...t,
        issued_on: asDate(t.issued_on),
        due_on: asDate(t.due_on),
        source_invoice_id: undefined,
      }).toEqual({
        ...mapped,
        total_cents: String(mapped.total_cents),
        issued_on: asDate(mapped.issued_on),
        due_on: asDate(mapped.due_on),
        source_invoice_id: undefined,
      });
    }
    const links = await stack.links.batchGet(
      'crm-customers',
      customers.map((c) => String(c.customer_id)),
    );
    expect([...links.values()].filter((l) => l.status === 'ok')).toHaveLength(CUSTOMERS);
    // No record of any sync failed: nothing in a DLQ, nothing dead.
    for (const s of config.syncs) {
      expect([
        s.name,
        await stack.links.countByStatus(s.name, 'failed'),
        await stack.links.countByStatus(s.name, 'dead'),
      ]).toEqual([s.name, 0, 0]);
      expect((await stack.queueDepth(s.name)).dlq, `${s.name} DLQ`).toBe(0);
    }
  });

  it("writes each paying customer's invoices to Xero with its lines, referencing that customer's contact", async () => {
    const paying = await stack.dwh<{ customer_id: number }[]>`
      select customer_id from crm.customers where lifecycle_stage = 'customer'`;
    const contacts = stack.xero.contacts();
    expect(contacts).toHaveLength(paying.length);
    const contactIdOf = new Map(contacts.map((c) => [String(c.ContactNumber), String(c.ContactID)]));
    const invoices = await stack.dwh<{ invoice_id: number; customer_id: number }[]>`
      select invoice_id, customer_id from crm.invoices
      where customer_id in (select customer_id from crm.customers where lifecycle_stage = 'customer')`;
    const lines = await stack.dwh<{ invoice_id: number; n: number }[]>`
      select invoice_id, count(*)::int as n from crm.invoice_lines group by invoice_id`;
    const lineCount = new Map(lines.map((l) => [String(l.invoice_id), l.n]));
    const written = new Map(stack.xero.invoices().map((i) => [String(i.InvoiceNumber), i]));
    expect(written.size).toBe(invoices.length);
    for (const inv of invoices) {
      const x = written.get(String(inv.invoice_id)) as {
        Contact: { ContactID: string };
        LineItems: unknown[];
      };
      expect(x, `invoice ${inv.invoice_id}`).toBeDefined();
      expect(x.Contact.ContactID, `invoice ${inv.invoice_id} contact`).toBe(
        contactIdOf.get(String(inv.customer_id)),
      );
      expect(x.LineItems).toHaveLength(lineCount.get(String(inv.invoice_id)) ?? 0);
    }
  });

  it("associates each paying customer's invoice line with its invoice's deal in HubSpot", async () => {
    const lines = await stack.dwh<{ line_id: number; invoice_id: number }[]>`
      select line_id, invoice_id from crm.invoice_lines where invoice_id in (
        select invoice_id from crm.invoices where customer_id in (
          select customer_id from crm.customers where lifecycle_stage = 'customer'))`;
    const deals = new Map(stack.hubspot.records('deals').map((d) => [d.properties.dwh_invoice_id, d.id]));
    const items = new Map(stack.hubspot.records('line_items').map((l) => [l.properties.dwh_line_id, l.id]));
    expect(items.size).toBe(lines.length);
    for (const l of lines) {
      const itemId = items.get(String(l.line_id))!;
      const associated = stack.hubspot.associations('line_items', itemId, 'deals').map((a) => a.toId);
      expect(associated, `line ${l.line_id}`).toEqual([deals.get(String(l.invoice_id))]);
    }
  });

  it('makes no target call and sends no message when nothing changed', async () => {
    // Prepare
    for (const spy of spies.values()) spy.reset();
    const hubspotCallsBefore = stack.hubspot.callCount({ path: /batch\/upsert/ });
    // Act
    const runs = await runAndDrain();
    // Assess
    expect(runs.map((r) => r.counts.enqueued)).toEqual(config.syncs.map(() => 0));
    expect([...spies.values()].map((s) => s.calls)).toEqual(config.syncs.map(() => 0));
    expect(stack.hubspot.callCount({ path: /batch\/upsert/ })).toBe(hubspotCallsBefore);
  });

  it('writes exactly the one row that changed', async () => {
    // Prepare
    for (const spy of spies.values()) spy.reset();
    const [id] = await touchCustomers(stack.dwh, 1);
    // Act
    const runs = await runAndDrain();
    // Assess
    // Only the HubSpot sync maps the phone number: the others read the row and skip it as unchanged.
    expect(Object.fromEntries(runs.map((r) => [r.sync, r.counts.enqueued]))).toEqual({
      'crm-customers': 1,
      'xero-contacts': 0,
      'xero-invoices': 0,
      'hubspot-deals': 0,
      'hubspot-line-items': 0,
      'crm-invoices': 0,
      'qbo-customers': 0,
      'qbo-invoices': 0,
      // The two-way pair reads the apps' copies, not the CRM: nothing of it changed.
      'contacts-to-xero': 0,
      'contacts-to-hubspot': 0,
    });
    expect(spies.get('crm-customers')!.records).toEqual([String(id)]);
    for (const name of [
      'xero-contacts',
      'xero-invoices',
      'hubspot-deals',
      'hubspot-line-items',
      'crm-invoices',
      'qbo-customers',
      'qbo-invoices',
      'contacts-to-xero',
      'contacts-to-hubspot',
    ]) {
      expect(spies.get(name)!.calls).toBe(0);
    }
    const [row] = await stack.dwh<Row[]>`select phone from crm.customers where customer_id = ${id!}`;
    const contact = stack.hubspot.findRecords('contacts', 'dwh_customer_id', String(id));
    expect(contact).toHaveLength(1);
    expect(contact[0]!.properties.phone).toBe(row!.phone);
  });
});

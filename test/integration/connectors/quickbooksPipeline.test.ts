import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStack } from '../../../local/LocalStack.ts';
import { loadTargetCopies } from '../../../local/loadTargetCopies.ts';
import type { Row } from '../../../shared/config/schema.ts';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import type { TargetRecord } from '../../../shared/connectors/Connector.ts';
import { createConnector } from '../../../shared/connectors/createConnector.ts';
import { verifySync } from '../../../shared/verify/verifySync.ts';

/** Customers, then their invoices with embedded lines, to the local QuickBooks fake through the real handlers. */
const config = validateConfig({
  connections: { books: { type: 'quickbooks' } },
  syncs: [
    {
      name: 'qbo-invoices',
      parent: { sync: 'qbo-customers', key: 'customer_id' },
      children: [{ as: 'lines', table: 'src.lines', foreignKey: 'invoice_id', orderBy: 'id' }],
      source: { table: 'src.invoices', key: 'id', cursor: 'loaded_at' },
      target: { connection: 'books', object: 'Invoice' },
      map: (row: Row, { parent }: { parent?: { targetId: string } }) => ({
        CustomerRef: { value: parent!.targetId },
        Line: (row.lines as Row[]).map((l) => ({
          Amount: Number(l.cents) / 100,
          DetailType: 'SalesItemLineDetail',
          Description: l.description,
          SalesItemLineDetail: { ItemRef: { value: '1' } },
        })),
      }),
      maxReceiveCount: 20,
    },
    {
      name: 'qbo-customers',
      source: { table: 'src.customers', key: 'id', cursor: 'loaded_at' },
      target: { connection: 'books', object: 'Customer' },
      map: (row: Row) => ({ GivenName: row.first_name, FamilyName: row.last_name, CompanyName: row.company }),
      // The ELT stand-in lists QuickBooks through the connector into qbo.customers (loadListedCopy).
      verify: { table: 'qbo.customers', targetIdColumn: 'id', loadedAtColumn: '_loaded_at' },
    },
  ],
});

describe('QuickBooks through the write protocol: customers, then invoices with their lines', () => {
  let stack: LocalStack;
  const all = async (object: string): Promise<TargetRecord[]> => {
    const connector = createConnector(
      config.syncs[0]!,
      config.connections.books!,
      stack.credentials('books'),
    );
    const out: TargetRecord[] = [];
    for await (const r of connector.list(object)) out.push(r);
    return out;
  };

  beforeAll(async () => {
    stack = await LocalStack.start({ config, queueVisibilitySeconds: 2 });
    await stack.dwh`create schema src`;
    await stack.dwh`create table src.customers (id int primary key, first_name text, last_name text, company text, loaded_at timestamptz not null)`;
    await stack.dwh`create table src.invoices (id int primary key, customer_id int not null, loaded_at timestamptz not null)`;
    await stack.dwh`create table src.lines (id int primary key, invoice_id int not null, description text, cents int not null)`;
    await stack.dwh`create index on src.customers (loaded_at, id)`;
    await stack.dwh`create index on src.invoices (loaded_at, id)`;
    await stack.dwh`create index on src.lines (invoice_id)`;
    await stack.dwh`insert into src.customers select i, 'First' || i, 'Last' || i, 'Co ' || i, '2026-01-01'::timestamptz + i * interval '1 s' from generate_series(1, 40) i`;
    await stack.dwh`insert into src.invoices select i, 1 + i % 40, '2026-01-01'::timestamptz + i * interval '1 s' from generate_series(1, 60) i`;
    await stack.dwh`insert into src.lines select i, 1 + i % 60, 'line ' || i, 100 * i from generate_series(1, 150) i`;
    stack.startWriters();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('writes every customer once and every invoice with its lines and its customer’s QuickBooks id', async () => {
    // Act
    await stack.runExtract('qbo-customers');
    await stack.runExtract('qbo-invoices');
    await stack.drain(120_000);

    // Assess
    const customers = await all('Customer');
    const invoices = await all('Invoice');
    expect(customers).toHaveLength(40);
    expect(new Set(customers.map((c) => c.externalId)).size).toBe(40);
    expect(invoices).toHaveLength(60);
    const idOfCustomer = new Map(customers.map((c) => [c.externalId, c.targetId]));
    const inv7 = invoices.find((i) => i.externalId === '7')!;
    expect(inv7.fields.CustomerRef).toEqual({ value: idOfCustomer.get('8') });
    // Invoice 7 holds lines 6, 66 and 126 (1 + i % 60 = 7): 6 + 66 + 126 dollars.
    expect(inv7.fields.TotalAmt).toBe(198);
    expect(stack.stats('qbo-invoices').write.failed ?? 0).toBe(0);
  }, 180_000);

  it('updates a changed customer in place with its SyncToken, without a second customer', async () => {
    await stack.dwh`update src.customers set company = 'Renamed', loaded_at = '2026-02-01' where id = 3`;

    await stack.runExtract('qbo-customers');
    await stack.drain(60_000);

    const customers = await all('Customer');
    expect(customers).toHaveLength(40);
    expect(customers.find((c) => c.externalId === '3')?.fields).toMatchObject({
      CompanyName: 'Renamed',
      SyncToken: '1',
    });
  }, 120_000);

  it('verifies the customers against a copy listed back from QuickBooks: clean, then drift when edited there', async () => {
    // Prepare
    const sync = config.syncs.find((s) => s.name === 'qbo-customers')!;
    const load = () =>
      loadTargetCopies(stack.dwh, config, [sync], { credentials: (n) => stack.credentials(n) });
    const deps = { dwh: stack.dwh, links: stack.links, state: stack.state, now: Date.now };

    // Act
    const [copy] = await load();
    const clean = await verifySync(sync, deps);
    // Someone edits customer 5 in QuickBooks (a sparse update carrying its SyncToken).
    const connector = createConnector(sync, config.connections.books!, stack.credentials('books'));
    const five = await connector.lookup('Customer', '5');
    await connector.upsertBatch('Customer', [
      {
        key: '5',
        externalId: '5',
        idempotencyKey: 'edit-5',
        targetId: five!.targetId,
        payload: { CompanyName: 'Edited in QuickBooks' },
      },
    ]);
    await load();
    const drifted = await verifySync(sync, deps);

    // Assess
    expect(copy).toMatchObject({ table: 'qbo.customers', records: 40 });
    expect(clean).toMatchObject({ sourceRows: 40, targetRecords: 40, clean: true });
    expect(drifted.clean).toBe(false);
    expect(drifted.counts.drift).toBe(1);
  }, 120_000);
});

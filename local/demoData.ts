import type { Sql } from 'postgres';
import { createPairCopies } from './loadPairCopies.ts';

/** Sizes of the demo DWH: as many invoices as customers, three lines per invoice. */
export interface DemoSize {
  readonly customers: number;
}

/**
 * Creates the demo warehouse's `crm` schema (customers, invoices, invoice_lines) with
 * deterministic content: row i always has the same values and load time, so two fresh demos
 * write the same records. Generated inside Postgres with generate_series (fast, no round trips).
 * Idempotent: does nothing when the schema already holds data.
 */
export async function seedDemoDwh(sql: Sql, size: DemoSize): Promise<{ seeded: boolean }> {
  // The ELT's copies of the apps the two-way pair reads (empty until it loads them).
  await createPairCopies(sql);
  await sql`create schema if not exists crm`;
  await sql`
    create table if not exists crm.customers (
      customer_id integer primary key,
      email text not null,
      first_name text not null,
      last_name text not null,
      company text,
      phone text,
      lifecycle_stage text not null,
      updated_at timestamptz not null
    )`;
  await sql`
    create table if not exists crm.invoices (
      invoice_id integer primary key,
      customer_id integer not null references crm.customers,
      invoice_number text not null,
      status text not null,
      currency text not null,
      total_cents bigint not null,
      issued_on date not null,
      due_on date not null,
      updated_at timestamptz not null
    )`;
  await sql`
    create table if not exists crm.invoice_lines (
      line_id integer primary key,
      invoice_id integer not null references crm.invoices,
      description text not null,
      quantity integer not null,
      unit_price_cents bigint not null,
      updated_at timestamptz not null
    )`;
  // The keyset reads of every sync are range scans on (cursor, key).
  await sql`create index if not exists customers_sync_idx on crm.customers (updated_at, customer_id)`;
  await sql`create index if not exists invoices_sync_idx on crm.invoices (updated_at, invoice_id)`;
  await sql`create index if not exists invoice_lines_sync_idx on crm.invoice_lines (updated_at, line_id)`;
  await sql`create index if not exists invoice_lines_parent_idx on crm.invoice_lines (invoice_id)`;
  const [existing] = await sql<{ n: number }[]>`select count(*)::int as n from crm.customers`;
  if (existing && existing.n > 0) return { seeded: false };

  const first = [
    'Ada',
    'Grace',
    'Alan',
    'Edsger',
    'Barbara',
    'Ken',
    'Margaret',
    'Dennis',
    'Frances',
    'Linus',
  ];
  const last = [
    'Lovelace',
    'Hopper',
    'Turing',
    'Dijkstra',
    'Liskov',
    'Thompson',
    'Hamilton',
    'Ritchie',
    'Allen',
    'Torvalds',
  ];
  const stages = [
    'subscriber',
    'lead',
    'marketingqualifiedlead',
    'salesqualifiedlead',
    'opportunity',
    'customer',
  ];
  await sql`
    insert into crm.customers
    select i,
           'customer' || i || '@example.com',
           (${first}::text[])[1 + i % 10],
           (${last}::text[])[1 + (i / 10) % 10],
           case when i % 7 = 0 then null else 'Company ' || (i % 997) end,
           '+44 20 7946 ' || lpad((i % 10000)::text, 4, '0'),
           (${stages}::text[])[1 + i % 6],
           timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second'
    from generate_series(1, ${size.customers}::int) as i`;
  await sql`
    insert into crm.invoices
    select j,
           1 + (j * 7919) % ${size.customers}::int,
           'INV-' || lpad(j::text, 7, '0'),
           (array['draft', 'open', 'paid', 'void'])[1 + j % 4],
           (array['EUR', 'GBP', 'USD'])[1 + j % 3],
           0,
           date '2026-01-01' + (j % 300),
           date '2026-01-31' + (j % 300),
           timestamptz '2026-02-01 00:00:00+00' + j * interval '1 second'
    from generate_series(1, ${size.customers}::int) as j`;
  await sql`
    insert into crm.invoice_lines
    select l,
           1 + (l - 1) / 3,
           'Item ' || (l % 50) || ' — ' || (array['licence', 'support', 'training'])[1 + l % 3],
           1 + l % 5,
           1000 + (l * 37) % 9000,
           timestamptz '2026-02-01 00:00:00+00' + ((l - 1) / 3) * interval '1 second'
    from generate_series(1, ${size.customers * 3}::int) as l`;
  await sql`
    update crm.invoices i set total_cents = t.total
    from (select invoice_id, sum(quantity * unit_price_cents) as total from crm.invoice_lines group by 1) t
    where t.invoice_id = i.invoice_id`;
  await sql`analyze`;
  return { seeded: true };
}

/** The demo's application database: where the `crm-invoices` sync writes (a Postgres table target). */
export async function prepareBillingDb(sql: Sql): Promise<void> {
  await sql`create schema if not exists billing`;
  await sql`
    create table if not exists billing.invoices (
      source_invoice_id text primary key,
      customer_ref text not null,
      number text not null,
      status text not null,
      currency text not null,
      total_cents bigint not null,
      issued_on date not null,
      due_on date not null
    )`;
}

/** Edits `count` customers (a new phone number and load time): what `npm run demo:touch` does. */
export async function touchCustomers(sql: Sql, count: number): Promise<number[]> {
  const rows = await sql<{ customer_id: number }[]>`
    update crm.customers
    set phone = '+44 20 7946 ' || lpad((floor(random() * 10000))::int::text, 4, '0'),
        updated_at = clock_timestamp()
    where customer_id in (select customer_id from crm.customers order by random() limit ${count})
    returning customer_id`;
  return rows.map((r) => r.customer_id);
}

import { defineConfig, defineSync } from './shared/config/defineConfig.ts';
import type { Row } from './shared/config/schema.ts';
import { defineTwoWay } from './shared/pair/defineTwoWay.ts';

const toDate = (d: unknown): string => (d instanceof Date ? d.toISOString().slice(0, 10) : String(d));
/** Only paying customers go to accounting and to the deal pipeline. */
const PAYING = "lifecycle_stage = 'customer'";
const PAYING_INVOICES = `customer_id in (select customer_id from crm.customers where ${PAYING})`;
/** The sources of the syncs that write only paying customers, and their invoices. */
const PAYING_CUSTOMERS = {
  table: 'crm.customers',
  key: 'customer_id',
  cursor: 'updated_at',
  lookback: '2m',
  where: PAYING,
};
const PAYING_CUSTOMER_INVOICES = {
  table: 'crm.invoices',
  key: 'invoice_id',
  cursor: 'updated_at',
  lookback: '2m',
  where: PAYING_INVOICES,
};

/**
 * Two-way: contacts that begin in HubSpot (sales leads) or in Xero (added by the accountants) are
 * kept in step through the warehouse, where an ELT tool loads both apps. HubSpot owns the names,
 * Xero the account number; both edit the e-mail address (the newer edit wins); Xero's Name is
 * seeded from HubSpot once. Contacts the one-way CRM syncs write are not part of it (`where`).
 * See docs/two-way.md.
 */
export const contactsPair = defineTwoWay({
  name: 'contacts',
  schedule: 'rate(5 minutes)',
  verify: true,
  a: {
    name: 'hubspot',
    connection: 'hubspot',
    object: 'contacts',
    // The HubSpot property holding the Xero id of a contact the pair created from Xero.
    externalId: 'xero_contact_id',
    copy: {
      table: 'hubspot.pair_contacts',
      key: 'id',
      cursor: '_loaded_at',
      modifiedAt: 'lastmodifieddate',
      stamp: 'xero_contact_id',
    },
    where: 'dwh_customer_id is null',
  },
  b: {
    name: 'xero',
    connection: 'xero',
    object: 'Contacts',
    // Xero's ContactNumber holds the HubSpot id of a contact the pair created from HubSpot.
    copy: {
      table: 'xero.contacts',
      key: 'contact_id',
      cursor: '_loaded_at',
      modifiedAt: 'updated_date_utc',
      stamp: 'contact_number',
    },
    where: "coalesce(contact_number, '') not in (select customer_id::text from crm.customers)",
    // A contact archived in Xero is archived in HubSpot (only one the pair wrote or linked).
    deletes: { column: 'archived' },
  },
  fields: {
    email: {
      a: 'email',
      b: { column: 'email_address', field: 'EmailAddress' },
      owner: 'both',
      normalize: 'email',
    },
    firstName: { a: 'firstname', b: { column: 'first_name', field: 'FirstName' }, owner: 'a' },
    lastName: { a: 'lastname', b: { column: 'last_name', field: 'LastName' }, owner: 'a' },
    accountNumber: {
      a: 'xero_account_number',
      b: { column: 'account_number', field: 'AccountNumber' },
      owner: 'b',
    },
    name: {
      a: { value: (row) => `${row.firstname ?? ''} ${row.lastname ?? ''}`.trim() || row.email },
      b: { field: 'Name' },
      owner: 'a',
      seedOnce: true,
    },
  },
});

/**
 * The demo configuration: the embedded demo DWH's CRM schema written back to a HubSpot portal
 * (contacts), to Xero (paying customers as contacts, their invoices with embedded lines, each
 * invoice referencing its contact), to QuickBooks Online (the same customers, their invoices with
 * embedded lines) and to an application database (invoices), and a two-way pair of contacts
 * between HubSpot and Xero. `npm start` runs
 * it locally against fakes of those APIs; `cdk deploy` deploys one pipeline per sync.
 */
export default defineConfig({
  warehouse: { secret: 'writeback/dwh' },
  connections: {
    hubspot: { type: 'hubspot', secret: 'writeback/hubspot' },
    'billing-db': { type: 'postgres', secret: 'writeback/billing-db' },
    // The secret holds {clientId, clientSecret, tenantId} of a Xero custom connection.
    xero: { type: 'xero', secret: 'writeback/xero' },
    // The secret holds {token, realmId}: an OAuth access token and the QuickBooks company id.
    quickbooks: { type: 'quickbooks', secret: 'writeback/quickbooks' },
  },
  syncs: [
    defineSync({
      name: 'crm-customers',
      schedule: 'rate(5 minutes)',
      source: { table: 'crm.customers', key: 'customer_id', cursor: 'updated_at', lookback: '2m' },
      target: { connection: 'hubspot', object: 'contacts', externalId: 'dwh_customer_id' },
      map: (row) => ({
        email: row.email,
        firstname: row.first_name,
        lastname: row.last_name,
        company: row.company,
        phone: row.phone,
        lifecyclestage: row.lifecycle_stage,
      }),
      batchSize: 100,
      concurrency: 4,
      // The ELT tool loads HubSpot back into the warehouse; verify compares through it.
      verify: { table: 'hubspot.contacts', targetIdColumn: 'id', loadedAtColumn: '_loaded_at' },
    }),
    defineSync({
      name: 'xero-contacts',
      schedule: 'rate(15 minutes)',
      source: PAYING_CUSTOMERS,
      // ContactNumber (Xero's id for external systems) holds the customer id.
      target: { connection: 'xero', object: 'Contacts' },
      map: (row) => ({
        Name: `${row.first_name} ${row.last_name} (${row.customer_id})`,
        FirstName: row.first_name,
        LastName: row.last_name,
        EmailAddress: row.email,
      }),
      batchSize: 50,
    }),
    defineSync({
      name: 'xero-invoices',
      schedule: 'rate(15 minutes)',
      source: PAYING_CUSTOMER_INVOICES,
      // Written after its contact, with the contact's Xero id; the lines travel inside the invoice.
      parent: { sync: 'xero-contacts', key: 'customer_id' },
      children: [
        {
          as: 'lines',
          table: 'crm.invoice_lines',
          foreignKey: 'invoice_id',
          orderBy: 'line_id',
          cursor: 'updated_at',
        },
      ],
      target: { connection: 'xero', object: 'Invoices' },
      map: (row, { parent }) => ({
        Type: 'ACCREC',
        Contact: { ContactID: parent!.targetId },
        Date: toDate(row.issued_on),
        DueDate: toDate(row.due_on),
        Status: row.status === 'draft' ? 'DRAFT' : 'AUTHORISED',
        CurrencyCode: row.currency,
        LineItems: (row.lines as Row[]).map((l) => ({
          Description: l.description,
          Quantity: l.quantity,
          UnitAmount: Number(l.unit_price_cents) / 100,
          AccountCode: '200',
        })),
      }),
      batchSize: 50,
    }),
    defineSync({
      name: 'hubspot-deals',
      schedule: 'rate(15 minutes)',
      source: PAYING_CUSTOMER_INVOICES,
      target: { connection: 'hubspot', object: 'deals', externalId: 'dwh_invoice_id' },
      map: (row) => ({
        dealname: row.invoice_number,
        amount: Number(row.total_cents) / 100,
        dealstage: row.status === 'paid' ? 'closedwon' : 'appointmentscheduled',
        pipeline: 'default',
      }),
      batchSize: 100,
    }),
    defineSync({
      name: 'hubspot-line-items',
      schedule: 'rate(15 minutes)',
      source: {
        table: 'crm.invoice_lines',
        key: 'line_id',
        cursor: 'updated_at',
        lookback: '2m',
        where: `invoice_id in (select invoice_id from crm.invoices where ${PAYING_INVOICES})`,
      },
      // Line items are HubSpot objects of their own: upserted, then associated with their deal.
      parent: { sync: 'hubspot-deals', key: 'invoice_id' },
      target: {
        connection: 'hubspot',
        object: 'line_items',
        externalId: 'dwh_line_id',
        associate: { with: 'deals' },
      },
      map: (row) => ({
        name: row.description,
        quantity: row.quantity,
        price: Number(row.unit_price_cents) / 100,
      }),
      batchSize: 100,
      // The ELT tool loads line items with the ids of their deals: verify checks each association too.
      verify: {
        table: 'hubspot.line_items',
        targetIdColumn: 'id',
        loadedAtColumn: '_loaded_at',
        parentColumn: 'deal_ids',
      },
    }),
    defineSync({
      name: 'crm-invoices',
      schedule: 'rate(15 minutes)',
      source: { table: 'crm.invoices', key: 'invoice_id', cursor: 'updated_at', lookback: '2m' },
      target: { connection: 'billing-db', object: 'billing.invoices', externalId: 'source_invoice_id' },
      map: (row) => ({
        customer_ref: String(row.customer_id),
        number: row.invoice_number,
        status: row.status,
        currency: row.currency,
        total_cents: row.total_cents,
        issued_on: row.issued_on,
        due_on: row.due_on,
      }),
      batchSize: 500,
      verify: { table: 'billing_copy.invoices', loadedAtColumn: '_loaded_at' },
    }),
    defineSync({
      name: 'qbo-customers',
      schedule: 'rate(15 minutes)',
      source: PAYING_CUSTOMERS,
      // DisplayName, unique in QuickBooks, holds the customer id; the names have fields of their own.
      target: { connection: 'quickbooks', object: 'Customer' },
      map: (row) => ({
        GivenName: row.first_name,
        FamilyName: row.last_name,
        CompanyName: row.company,
        PrimaryEmailAddr: { Address: row.email },
      }),
      batchSize: 30,
    }),
    defineSync({
      name: 'qbo-invoices',
      schedule: 'rate(15 minutes)',
      source: PAYING_CUSTOMER_INVOICES,
      // Written after its customer, with the customer's QuickBooks id; DocNumber holds the invoice id
      // and the lines travel inside the invoice.
      parent: { sync: 'qbo-customers', key: 'customer_id' },
      children: [
        {
          as: 'lines',
          table: 'crm.invoice_lines',
          foreignKey: 'invoice_id',
          orderBy: 'line_id',
          cursor: 'updated_at',
        },
      ],
      target: { connection: 'quickbooks', object: 'Invoice' },
      map: (row, { parent }) => ({
        CustomerRef: { value: parent!.targetId },
        TxnDate: toDate(row.issued_on),
        DueDate: toDate(row.due_on),
        Line: (row.lines as Row[]).map((l) => ({
          Amount: (Number(l.quantity) * Number(l.unit_price_cents)) / 100,
          DetailType: 'SalesItemLineDetail',
          Description: l.description,
          SalesItemLineDetail: {
            ItemRef: { value: '1' },
            Qty: Number(l.quantity),
            UnitPrice: Number(l.unit_price_cents) / 100,
          },
        })),
      }),
      batchSize: 30,
    }),
    ...contactsPair,
  ],
});

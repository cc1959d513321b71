import { defineConfig, defineSync } from './shared/config/defineConfig.ts';

/**
 * The demo configuration: the embedded demo DWH's CRM schema written back to a HubSpot
 * portal (contacts) and to an application database (invoices). `npm start` runs it locally
 * against fakes; `cdk deploy` deploys one pipeline per sync.
 */
export default defineConfig({
  warehouse: { secret: 'writeback/dwh' },
  connections: {
    hubspot: { type: 'hubspot', secret: 'writeback/hubspot' },
    'billing-db': { type: 'postgres', secret: 'writeback/billing-db' },
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
  ],
});

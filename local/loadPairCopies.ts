import type { Sql } from 'postgres';
import type { HubSpotFake } from './fakes/hubspot/HubSpotFake.ts';
import type { XeroFake } from './fakes/xero/XeroFake.ts';

/** The columns of the HubSpot contacts copy the two-way demo reads. */
const HUBSPOT_COLUMNS = [
  'email',
  'firstname',
  'lastname',
  'phone',
  'xero_contact_id',
  'xero_account_number',
  'dwh_customer_id',
];

/**
 * Stands in for an incremental ELT connector (Fivetran, Airbyte) loading HubSpot contacts and Xero
 * contacts into the warehouse for the two-way demo: each record is upserted, and its `_loaded_at`
 * moves only when the app's modification time did, as those tools do. Unlike the full-refresh
 * stand-in (loadTargetCopies), a load that finds nothing changed changes no row: a pair's quiet
 * run reads nothing.
 */
export async function loadPairCopies(
  dwh: Sql,
  apps: { hubspot: HubSpotFake; xero: XeroFake },
): Promise<number> {
  await createPairCopies(dwh);
  const loadedAt = new Date();
  const hubspot = apps.hubspot.records('contacts').map((r) => ({
    id: r.id,
    ...Object.fromEntries(HUBSPOT_COLUMNS.map((c) => [c, r.properties[c] ?? null])),
    lastmodifieddate: new Date(r.updatedAt),
    _loaded_at: loadedAt,
  }));
  const xero = apps.xero.contacts().map((c) => ({
    contact_id: String(c.ContactID),
    contact_number: text(c.ContactNumber),
    name: text(c.Name),
    first_name: text(c.FirstName),
    last_name: text(c.LastName),
    email_address: text(c.EmailAddress),
    account_number: text(c.AccountNumber),
    archived: c.ContactStatus === 'ARCHIVED',
    updated_date_utc: new Date(Number(/\d+/.exec(String(c.UpdatedDateUTC))?.[0] ?? 0)),
    _loaded_at: loadedAt,
  }));
  await dwh.begin(async (tx) => {
    for (const row of hubspot) {
      await tx`insert into hubspot.pair_contacts ${tx(row)}
        on conflict (id) do update set ${tx(row)}
        where hubspot.pair_contacts.lastmodifieddate is distinct from excluded.lastmodifieddate`;
    }
    for (const row of xero) {
      await tx`insert into xero.contacts ${tx(row)}
        on conflict (contact_id) do update set ${tx(row)}
        where xero.contacts.updated_date_utc is distinct from excluded.updated_date_utc`;
    }
  });
  return hubspot.length + xero.length;
}

/** The two copies, empty: an ELT connector creates its tables on its first load. */
export async function createPairCopies(dwh: Sql): Promise<void> {
  await dwh.unsafe(`
    create schema if not exists hubspot;
    create schema if not exists xero;
    create table if not exists hubspot.pair_contacts (
      id text primary key, ${HUBSPOT_COLUMNS.map((c) => `${c} text`).join(', ')},
      lastmodifieddate timestamptz not null, _loaded_at timestamptz not null);
    create index if not exists pair_contacts_loaded on hubspot.pair_contacts (_loaded_at, id);
    create table if not exists xero.contacts (
      contact_id text primary key, contact_number text, name text, first_name text, last_name text,
      email_address text, account_number text, archived boolean not null default false,
      updated_date_utc timestamptz not null, _loaded_at timestamptz not null);
    create index if not exists xero_contacts_loaded on xero.contacts (_loaded_at, contact_id);`);
}

function text(v: unknown): string | null {
  return v === undefined || v === null || v === '' ? null : String(v);
}

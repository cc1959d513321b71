import type { Sql } from 'postgres';
import type { SyncConfig } from '../shared/config/schema.ts';
import { editHubSpotContact, editXeroContact, type HubSpotApp, type XeroApp } from './appEdits.ts';
import type { HubSpotFake } from './fakes/hubspot/HubSpotFake.ts';
import type { XeroFake } from './fakes/xero/XeroFake.ts';

/**
 * The two-way demo's own records: contacts that began in HubSpot (sales leads, no warehouse
 * customer behind them) and contacts that began in Xero (added by the accountants), which the
 * pair `contacts` keeps in step through the warehouse.
 */
const LEADS = [
  ['Grace', 'Hopper', 'grace@navy.example'],
  ['Alan', 'Turing', 'alan@bletchley.example'],
  ['Katherine', 'Johnson', 'katherine@nasa.example'],
] as const;
const ACCOUNTS = [
  ['Edsger', 'Dijkstra', 'edsger@eindhoven.example', 'ACC-101'],
  ['Barbara', 'Liskov', 'barbara@mit.example', 'ACC-102'],
  ['Donald', 'Knuth', 'don@stanford.example', 'ACC-103'],
] as const;

/** The demo's pair (writeback.config.ts): its copies are the ones loadPairCopies loads. */
export function hasDemoPair(syncs: readonly SyncConfig[]): boolean {
  const tables = new Set(syncs.flatMap((s) => (s.pair ? [s.pair.source.table] : [])));
  return tables.has('hubspot.pair_contacts') && tables.has('xero.contacts');
}

export function seedDemoApps(apps: { hubspot: HubSpotFake; xero: XeroFake }): void {
  for (const [firstname, lastname, email] of LEADS)
    apps.hubspot.seed('contacts', { firstname, lastname, email });
  for (const [FirstName, LastName, EmailAddress, AccountNumber] of ACCOUNTS) {
    apps.xero.seedContact({
      Name: `${FirstName} ${LastName}`,
      FirstName,
      LastName,
      EmailAddress,
      AccountNumber,
    });
  }
}

export type TouchedApp = 'hubspot' | 'xero' | 'both';

/**
 * Edits `count` of the pair's contacts as people would: in HubSpot (a first name, which HubSpot
 * owns), in Xero (an account number, which Xero owns), or in both at once (the e-mail address both
 * own: Xero's edit first, HubSpot's a moment later, so HubSpot's wins). Records are picked from the
 * warehouse copies, by their link through the pair's stamps.
 */
export async function touchPairContacts(
  dwh: Sql,
  apps: { hubspot: HubSpotApp; xero: XeroApp },
  where: TouchedApp,
  count: number,
): Promise<string[]> {
  const pairs = await dwh<{ hubspot_id: string; xero_id: string; email: string | null }[]>`
    select h.id as hubspot_id, x.contact_id as xero_id, h.email
    from hubspot.pair_contacts h
    join xero.contacts x on x.contact_number = h.id or h.xero_contact_id = x.contact_id
    where h.dwh_customer_id is null
    order by random() limit ${count}`;
  const stamp = Date.now().toString(36);
  const lines: string[] = [];
  for (const p of pairs) {
    if (where === 'hubspot') {
      const firstname = `Touched-${stamp}`;
      await editHubSpotContact(apps.hubspot, p.hubspot_id, { firstname });
      lines.push(`HubSpot contact ${p.hubspot_id}: firstname ${firstname}`);
    } else if (where === 'xero') {
      const account = `ACC-${stamp}`;
      await editXeroContact(apps.xero, p.xero_id, { AccountNumber: account });
      lines.push(`Xero contact ${p.xero_id}: AccountNumber ${account}`);
    } else {
      const local = (p.email ?? 'someone@example.com').split('@')[0];
      await editXeroContact(apps.xero, p.xero_id, { EmailAddress: `${local}+xero-${stamp}@example.com` });
      await editHubSpotContact(apps.hubspot, p.hubspot_id, {
        email: `${local}+hubspot-${stamp}@example.com`,
      });
      lines.push(
        `both: ${p.hubspot_id} / ${p.xero_id}: email edited in Xero, then in HubSpot (HubSpot's is newer)`,
      );
    }
  }
  return lines;
}

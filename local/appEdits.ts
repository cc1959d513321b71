/**
 * A person editing a record in an app, as the two-way demo and its tests play it: through the
 * app's own API (the fakes'), so the app stamps the edit with its modification time as it would
 * for an edit in its UI.
 */

export interface HubSpotApp {
  readonly url: string;
  readonly token: string;
}
export interface XeroApp {
  readonly url: string;
  readonly accessToken: string;
  readonly tenantId: string;
}

/** PATCH /crm/v3/objects/contacts/{id}: the properties given change, the others stay. */
export async function editHubSpotContact(
  app: HubSpotApp,
  id: string,
  properties: Readonly<Record<string, string>>,
): Promise<void> {
  const res = await fetch(`${app.url}/crm/v3/objects/contacts/${encodeURIComponent(id)}`, {
    method: 'PATCH',
    headers: { Authorization: `Bearer ${app.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ properties }),
  });
  if (!res.ok) throw new Error(`HubSpot PATCH contact ${id}: ${res.status} ${await res.text()}`);
}

/** POST /api.xro/2.0/Contacts with the ContactID: the elements given change, the others stay. */
export async function editXeroContact(
  app: XeroApp,
  contactId: string,
  fields: Readonly<Record<string, string>>,
): Promise<void> {
  const res = await fetch(`${app.url}/api.xro/2.0/Contacts`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${app.accessToken}`,
      'xero-tenant-id': app.tenantId,
      'Content-Type': 'application/json',
      Accept: 'application/json',
    },
    body: JSON.stringify({ Contacts: [{ ContactID: contactId, ...fields }] }),
  });
  if (!res.ok) throw new Error(`Xero POST contact ${contactId}: ${res.status} ${await res.text()}`);
}

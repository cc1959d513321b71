import {
  type CheckedCredential,
  type StaticCredentials,
  type SyncUse,
  tokenField,
} from '../../oauth/CredentialCheck.ts';
import { identityCall, refusal, trimSlash } from '../../oauth/identityCall.ts';
import type { ScopeNeed } from '../../oauth/OAuthApp.ts';

/** HubSpot's standard objects by name and objectTypeId; anything else is a custom object. */
const STANDARD: Readonly<Record<string, string>> = {
  contacts: 'contacts',
  companies: 'companies',
  deals: 'deals',
  tickets: 'tickets',
  line_items: 'line_items',
  products: 'products',
  quotes: 'quotes',
  '0-1': 'contacts',
  '0-2': 'companies',
  '0-3': 'deals',
  '0-5': 'tickets',
  '0-7': 'products',
  '0-8': 'line_items',
  '0-14': 'quotes',
};

/** The scope family of an object: `crm.objects.contacts`, or `crm.objects.custom` for a custom object. */
export function scopeBase(object: string): string {
  const standard = STANDARD[object.toLowerCase()];
  return `crm.objects.${standard ?? 'custom'}`;
}

/**
 * The scopes the syncs of a HubSpot connection need (developers.hubspot.com, scopes): writing an
 * object (batch upsert, archive) takes `crm.objects.<object>.write`; reading it back (lookups,
 * `writeback plan` and `verify`) `crm.objects.<object>.read`; associating records the write scope
 * of the object associated with. Custom objects share `crm.objects.custom.*`.
 */
export function hubspotScopeNeeds(uses: readonly SyncUse[]): ScopeNeed[] {
  const needs: ScopeNeed[] = [];
  for (const use of uses) {
    const base = scopeBase(use.object);
    const actions = ['create', 'update', ...(use.archive ? ['archive'] : [])].join(', ');
    needs.push({ scope: `${base}.write`, for: `sync ${use.sync} (${use.object}: ${actions})` });
    needs.push({ scope: `${base}.read`, for: `sync ${use.sync} (${use.object}: read back)` });
    if (use.associateWith) {
      needs.push({
        scope: `${scopeBase(use.associateWith)}.write`,
        for: `sync ${use.sync} (associate with ${use.associateWith})`,
      });
    }
  }
  return needs;
}

/**
 * A HubSpot private app's access token: asked without echo, checked with GET
 * /account-info/v3/details (the account it belongs to: the cheapest authenticated call) and POST
 * /oauth/v2/private-apps/get/access-token-info (the scopes the app was given).
 */
export const hubspotCredentials: StaticCredentials<{ readonly baseUrl?: string | undefined }> = {
  fields: [tokenField('HubSpot private app access token (pat-…): ')],
  async check(connection, fields, uses, fetchImpl): Promise<CheckedCredential> {
    const token = fields.token ?? '';
    const base = trimSlash(connection.baseUrl ?? 'https://api.hubapi.com');
    const call = { vendor: 'HubSpot', codePrefix: 'HUBSPOT', secrets: [token], fetch: fetchImpl };
    const details = await identityCall({
      ...call,
      url: `${base}/account-info/v3/details`,
      headers: { Authorization: `Bearer ${token}` },
    });
    if (details.status !== 200) throw refusal(details, call, 'the private app token');
    const account = details.json as { portalId?: number; uiDomain?: string; accountType?: string };
    const info = await identityCall({
      ...call,
      method: 'POST',
      url: `${base}/oauth/v2/private-apps/get/access-token-info`,
      body: { tokenKey: token },
    });
    if (info.status !== 200) throw refusal(info, call, 'the private app token');
    const scopes = ((info.json as { scopes?: string[] }).scopes ?? []).filter(Boolean);
    const have = new Set(scopes);
    const id = String(account.portalId ?? (info.json as { hubId?: number }).hubId ?? '');
    return {
      account: {
        id,
        name: `HubSpot account ${id}${account.accountType && account.accountType !== 'STANDARD' ? ` (${account.accountType.toLowerCase()})` : ''}`,
      },
      granted: scopes.join(' '),
      missing: hubspotScopeNeeds(uses).filter((n) => !have.has(n.scope)),
    };
  },
};

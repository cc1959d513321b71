import {
  type CheckedCredential,
  type StaticCredentials,
  type SyncUse,
  tokenField,
} from '../../oauth/CredentialCheck.ts';
import { type IdentityAnswer, identityCall, refusal, trimSlash } from '../../oauth/identityCall.ts';
import type { ScopeNeed } from '../../oauth/OAuthApp.ts';

/** An id no object has: a write probe on it is refused for the permission, or answered 404. */
const PROBE_ID = 'writeback_permission_check';

interface StripeErrorBody {
  error?: { message?: string; type?: string; code?: string };
}

const messageOf = (a: IdentityAnswer) => (a.json as StripeErrorBody | undefined)?.error?.message ?? '';

/** The permission a 403 of a restricted key names: "Having the 'rak_customer_write' permission would allow…". */
const namedPermission = (a: IdentityAnswer) => /Having the '([a-z0-9_]+)' permission/.exec(messageOf(a))?.[1];

/**
 * A Stripe secret or restricted key: asked without echo, checked with GET /v1/account (the
 * account; a restricted key without the account permission is refused with a 403 that still names
 * it), then, for a restricted key (rk_…), each object the syncs write probed for its write
 * permission: `POST /v1/<object>/<an id no object has>` with no parameters changes nothing, and
 * Stripe answers 404 when the key may write the object and 403 naming the permission (`Having the
 * 'rak_customer_write' permission…`) when it may not. Archiving (DELETE) takes the same write
 * permission. A secret key (sk_…) may do everything.
 */
export const stripeCredentials: StaticCredentials<{ readonly baseUrl?: string | undefined }> = {
  fields: [tokenField('Stripe restricted key (rk_live_… or rk_test_…): ')],
  async check(connection, fields, uses, fetchImpl): Promise<CheckedCredential> {
    const key = fields.token ?? '';
    const base = trimSlash(connection.baseUrl ?? 'https://api.stripe.com');
    const call = {
      vendor: 'Stripe',
      codePrefix: 'STRIPE',
      rejectedCode: 'STRIPE_INVALID_REQUEST',
      secrets: [key],
      fetch: fetchImpl,
    };
    const headers = { Authorization: `Bearer ${key}` };
    const answer = await identityCall({ ...call, url: `${base}/v1/account`, headers });
    let account: { id: string; name: string };
    if (answer.status === 200) {
      const a = answer.json as {
        id?: string;
        email?: string;
        settings?: { dashboard?: { display_name?: string } };
        business_profile?: { name?: string };
      };
      const id = a.id ?? '';
      account = {
        id,
        name: a.settings?.dashboard?.display_name ?? a.business_profile?.name ?? a.email ?? id,
      };
    } else if (answer.status === 403 && /on account '(acct_\w+)'/.test(messageOf(answer))) {
      const id = /on account '(acct_\w+)'/.exec(messageOf(answer))![1]!;
      account = { id, name: id };
    } else throw refusal(answer, call, 'the API key');

    const mode = /^[sr]k_live_/.test(key) ? 'live mode' : 'test mode';
    if (!key.startsWith('rk_')) {
      return {
        account: { ...account, name: `${account.name}, ${mode}` },
        granted: 'every permission (a secret key: a restricted key with only what the syncs need is safer)',
        missing: [],
      };
    }
    const missing: ScopeNeed[] = [];
    const granted: string[] = [];
    for (const [object, objectUses] of byObject(uses)) {
      const probe = await identityCall({
        ...call,
        method: 'POST',
        url: `${base}/v1/${encodeURIComponent(object)}/${PROBE_ID}`,
        headers,
        body: new URLSearchParams(),
      });
      if (probe.status === 403) {
        const permission = namedPermission(probe) ?? `${object} write`;
        for (const use of objectUses) {
          const actions = ['create', 'update', ...(use.archive ? ['archive'] : [])].join(', ');
          missing.push({ scope: permission, for: `sync ${use.sync} (${object}: ${actions})` });
        }
      } else if (probe.status === 404 || probe.status === 400) granted.push(`${object}: write`);
      else throw refusal(probe, call, 'the API key');
    }
    return {
      account: { ...account, name: `${account.name}, ${mode}` },
      granted: granted.join(', '),
      missing,
    };
  },
};

function byObject(uses: readonly SyncUse[]): Map<string, SyncUse[]> {
  const map = new Map<string, SyncUse[]>();
  for (const u of uses) map.set(u.object, [...(map.get(u.object) ?? []), u]);
  return map;
}

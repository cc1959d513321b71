import { TargetError } from '../../errors.ts';
import type { CheckedCredential, StaticCredentials, SyncUse } from '../../oauth/CredentialCheck.ts';
import { identityCall, refusal, trimSlash } from '../../oauth/identityCall.ts';
import type { ScopeNeed } from '../../oauth/OAuthApp.ts';

/** The parts of a Salesforce connection's config the credential check reads. */
interface SalesforceEndpoints {
  readonly instanceUrl?: string | undefined;
  readonly apiVersion?: string | undefined;
}

interface Describe {
  createable?: boolean;
  updateable?: boolean;
  deletable?: boolean;
}

/**
 * A Salesforce connected app's client credentials (client-credentials flow, with a "run as"
 * integration user): the consumer key and secret, checked by taking a token at the org's My Domain
 * (`POST /services/oauth2/token`, whose answer names the scopes: the REST API needs `api`), GET
 * /services/oauth2/userinfo (the user and org the app runs as), and GET
 * /services/data/vXX.X/sobjects/<Object>/describe for each object the syncs write: whether the
 * integration user may create, edit and (for a sync with deletes) delete it.
 */
export const salesforceCredentials: StaticCredentials<SalesforceEndpoints> = {
  fields: [
    {
      field: 'instanceUrl',
      question: 'Salesforce My Domain URL (https://MyDomain.my.salesforce.com): ',
      hidden: false,
      fromConfig: 'instanceUrl',
    },
    { field: 'clientId', question: 'Connected app consumer key: ', hidden: false, option: 'clientId' },
    {
      field: 'clientSecret',
      question: 'Connected app consumer secret: ',
      hidden: true,
      env: 'WRITEBACK_CLIENT_SECRET',
    },
  ],
  async check(connection, fields, uses, fetchImpl): Promise<CheckedCredential> {
    const { clientId = '', clientSecret = '' } = fields;
    const instanceUrl = trimSlash(connection.instanceUrl ?? fields.instanceUrl ?? '');
    if (!instanceUrl) {
      throw new TargetError(
        'SALESFORCE_UNAUTHORIZED',
        'no instance URL: set connections.<name>.instanceUrl (https://MyDomain.my.salesforce.com)',
        { disposition: 'permanent' },
      );
    }
    const call = {
      vendor: 'Salesforce',
      codePrefix: 'SALESFORCE',
      secrets: [clientSecret, encodeURIComponent(clientSecret)],
      fetch: fetchImpl,
    };
    const token = await identityCall({
      ...call,
      method: 'POST',
      url: `${instanceUrl}/services/oauth2/token`,
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
      }),
    });
    const answer = token.json as {
      access_token?: string;
      instance_url?: string;
      scope?: string;
      error?: string;
      error_description?: string;
    };
    if (token.status !== 200 || !answer?.access_token) {
      if (token.status === 400 || token.status === 401) {
        throw new TargetError(
          'SALESFORCE_UNAUTHORIZED',
          `Salesforce refused the client credentials (${answer?.error ?? token.status}${answer?.error_description ? `: ${answer.error_description}` : ''}); check the consumer key and secret, and that the connected app enables the client credentials flow with a "run as" user`,
          { disposition: 'permanent', httpStatus: token.status },
        );
      }
      throw refusal(token, call, 'the client credentials');
    }
    const api = trimSlash(answer.instance_url ?? instanceUrl);
    const headers = { Authorization: `Bearer ${answer.access_token}` };
    call.secrets = [...call.secrets, answer.access_token];
    const user = await identityCall({ ...call, url: `${api}/services/oauth2/userinfo`, headers });
    if (user.status !== 200) throw refusal(user, call, 'the access token');
    const who = user.json as { organization_id?: string; preferred_username?: string; name?: string };

    const missing: ScopeNeed[] = [];
    const scopes = (answer.scope ?? '').split(/\s+/).filter(Boolean);
    // An answer without scopes (older orgs) is judged by the calls below alone.
    if (scopes.length > 0 && !scopes.includes('api') && !scopes.includes('full')) {
      missing.push({ scope: 'api', for: 'the REST API every sync writes through' });
    }
    missing.push(
      ...(await objectPermissionsMissing(api, connection.apiVersion, answer.access_token, uses, fetchImpl)),
    );
    return {
      account: {
        id: who.organization_id ?? '',
        name: `${who.preferred_username ?? who.name ?? 'user'} in org ${who.organization_id ?? '?'}`,
      },
      granted: scopes.join(' ') || '(the token answer named none)',
      missing,
      fields: { instanceUrl: api },
    };
  },
};

/**
 * What the user a token acts as may not do to the objects the syncs write, from each object's
 * describe (`createable`, `updateable`, `deletable` for a sync with deletes; a 404 when the object
 * does not exist or the user cannot see it). Object permissions are not OAuth scopes: both the
 * client-credentials check and the web-server flow ask the org.
 */
export async function objectPermissionsMissing(
  instanceUrl: string,
  apiVersion: string | undefined,
  accessToken: string,
  uses: readonly SyncUse[],
  fetchImpl?: typeof fetch,
): Promise<ScopeNeed[]> {
  const call = { vendor: 'Salesforce', codePrefix: 'SALESFORCE', secrets: [accessToken], fetch: fetchImpl };
  const missing: ScopeNeed[] = [];
  for (const use of uses) {
    const described = await identityCall({
      ...call,
      url: `${trimSlash(instanceUrl)}/services/data/${apiVersion ?? 'v62.0'}/sobjects/${encodeURIComponent(use.object)}/describe`,
      headers: { Authorization: `Bearer ${accessToken}` },
    });
    const why = `sync ${use.sync} (${use.object})`;
    if (described.status === 404) {
      missing.push({
        scope: `${use.object} read`,
        for: `${why}: no such object, or not visible to the user`,
      });
      continue;
    }
    if (described.status !== 200) throw refusal(described, call, 'the access token');
    const d = described.json as Describe;
    if (!d.createable) missing.push({ scope: `${use.object} create`, for: why });
    if (!d.updateable) missing.push({ scope: `${use.object} edit`, for: why });
    if (use.archive && !d.deletable) missing.push({ scope: `${use.object} delete`, for: `${why}: deletes` });
  }
  return missing;
}

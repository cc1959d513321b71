import { type CheckedCredential, type StaticCredentials, tokenField } from '../../oauth/CredentialCheck.ts';
import { identityCall, refusal, trimSlash } from '../../oauth/identityCall.ts';

/** Intuit's API hosts. */
export const QBO_BASE_URL = {
  production: 'https://quickbooks.api.intuit.com',
  sandbox: 'https://sandbox-quickbooks.api.intuit.com',
} as const;

/** The parts of a QuickBooks Online connection's config the check reads. */
interface QuickBooksEndpoints {
  readonly realmId?: string | undefined;
  readonly environment: keyof typeof QBO_BASE_URL;
  readonly baseUrl?: string | undefined;
}

/**
 * A QuickBooks Online OAuth access token and its company: checked with GET
 * /v3/company/{realmId}/companyinfo/{realmId}, the company's own record (401 for a wrong or
 * expired token, 403 for a company the token was not authorised for). The Accounting API answers
 * only a token with `com.intuit.quickbooks.accounting`, so an answer is that scope; Intuit has no
 * call that lists a token's scopes. The access token lives an hour: connecting the app with its
 * refresh token is not built yet.
 */
export const quickbooksCredentials: StaticCredentials<QuickBooksEndpoints> = {
  fields: [
    tokenField('QuickBooks Online OAuth access token: '),
    { field: 'realmId', question: 'Company (realm) id: ', hidden: false, fromConfig: 'realmId' },
  ],
  async check(connection, fields, _uses, fetchImpl): Promise<CheckedCredential> {
    const token = fields.token ?? '';
    const realmId = connection.realmId ?? fields.realmId ?? '';
    const base = trimSlash(connection.baseUrl ?? QBO_BASE_URL[connection.environment]);
    const call = { vendor: 'QuickBooks Online', codePrefix: 'QBO', secrets: [token], fetch: fetchImpl };
    const company = encodeURIComponent(realmId);
    const answer = await identityCall({
      ...call,
      url: `${base}/v3/company/${company}/companyinfo/${company}?minorversion=75`,
      headers: { Authorization: `Bearer ${token}` },
    });
    if (answer.status !== 200) throw refusal(answer, call, 'the access token');
    const info = (answer.json as { CompanyInfo?: { CompanyName?: string } }).CompanyInfo;
    return {
      account: { id: realmId, name: info?.CompanyName ?? `company ${realmId}` },
      granted:
        'com.intuit.quickbooks.accounting (the Accounting API answered); the access token lasts an hour',
      missing: [],
    };
  },
};

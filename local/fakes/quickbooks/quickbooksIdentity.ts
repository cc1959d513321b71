import type { FakeCall, Reply } from '../common/FakeServer.ts';

/**
 * `GET /v3/company/{realmId}/companyinfo/{realmId}`: the company's own record, as Intuit answers it
 * (`CompanyInfo` with `CompanyName`, `Country`, `Id`…). Undefined for any other call, and for a
 * company other than the fake's (the caller's 403 answers that).
 */
export function companyInfo(call: FakeCall, realmId: string, now: number): Reply | undefined {
  const m = /^\/v3\/company\/([^/]+)\/companyinfo\/([^/]+)$/.exec(call.path);
  if (call.method !== 'GET' || !m || m[1] !== realmId || m[2] !== realmId) return undefined;
  return {
    status: 200,
    body: {
      CompanyInfo: {
        CompanyName: 'Writeback Fake Company',
        LegalName: 'Writeback Fake Company Ltd',
        Country: 'US',
        Id: realmId,
        SyncToken: '0',
        domain: 'QBO',
      },
      time: new Date(now).toISOString(),
    },
  };
}

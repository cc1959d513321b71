/**
 * Who signed a request: the access key id, date, region and service of its SigV4 credential scope
 * (`Credential=<key>/<yyyymmdd>/<region>/<service>/aws4_request`), from the Authorization header
 * or, for a presigned URL, the X-Amz-Credential query parameter. The signature itself is not
 * checked: the rehearsal's principals are told apart by their access key ids, and every function
 * signs with its own.
 */
export interface SigV4Scope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

const SCOPE = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/;

export function parseSigV4(
  headers: Readonly<Record<string, string | undefined>>,
  query?: URLSearchParams,
): SigV4Scope | undefined {
  const auth = headers.authorization;
  let credential: string | undefined;
  if (auth?.startsWith('AWS4-HMAC-SHA256')) {
    credential = /Credential=([^,\s]+)/.exec(auth)?.[1];
  } else if (query?.get('X-Amz-Algorithm') === 'AWS4-HMAC-SHA256') {
    credential = query.get('X-Amz-Credential') ?? undefined;
  }
  const m = credential ? SCOPE.exec(credential) : null;
  if (!m) return undefined;
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]! };
}

import { AwsServiceError } from './awsErrors.ts';
import type { AwsHttpRequest, AwsHttpResponse } from './httpServer.ts';

/**
 * The AWS Query protocol (awsQuery), which the installed CloudFormation and STS clients speak:
 * form-encoded `Action=…&Version=…&…` in (POST body, or the query string of a GET), XML out,
 * the result wrapped in `<{Action}Response><{Action}Result>` and errors in `<ErrorResponse>`.
 */
export interface QueryService {
  /** The XML namespace of the service's responses, e.g. `https://sts.amazonaws.com/doc/2011-06-15/`. */
  readonly xmlns: string;
  readonly version: string;
  /** Each action answers the inner XML of its `<{Action}Result>` element. */
  readonly actions: Readonly<Record<string, (params: URLSearchParams, req: AwsHttpRequest) => string>>;
}

export function handleQuery(service: QueryService, req: AwsHttpRequest): AwsHttpResponse {
  try {
    const params =
      req.method === 'POST'
        ? new URLSearchParams(req.body.toString('utf8'))
        : new URLSearchParams(req.url.search);
    const action = params.get('Action');
    const run = action ? service.actions[action] : undefined;
    if (!action || !run) {
      throw new AwsServiceError(
        'InvalidAction',
        `Could not find operation ${action ?? ''} for version ${params.get('Version') ?? service.version}`,
      );
    }
    const result = run(params, req);
    return xmlResponse(
      200,
      `<${action}Response xmlns="${service.xmlns}"><${action}Result>${result}</${action}Result>` +
        `<ResponseMetadata><RequestId>${req.requestId}</RequestId></ResponseMetadata></${action}Response>`,
    );
  } catch (err) {
    if (!(err instanceof AwsServiceError)) throw err;
    return xmlResponse(
      err.status,
      `<ErrorResponse xmlns="${service.xmlns}"><Error><Type>${err.status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
        `${el('Code', err.code)}${el('Message', err.message)}</Error>${el('RequestId', req.requestId)}</ErrorResponse>`,
    );
  }
}

/** `<name>escaped text</name>`; nothing when the value is absent (the member is then unset). */
export function el(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** A Query list: `<name><member>…</member>…</name>`; nothing when the list is absent or empty. */
export function list<T>(name: string, items: readonly T[] | undefined, member: (item: T) => string): string {
  if (!items || items.length === 0) return '';
  return `<${name}>${items.map((item) => `<member>${member(item)}</member>`).join('')}</${name}>`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function xmlResponse(status: number, body: string): AwsHttpResponse {
  return {
    status,
    headers: { 'content-type': 'text/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`,
  };
}

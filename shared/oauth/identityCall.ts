import { redact } from '../connectors/http/redact.ts';
import { bodyExcerpt } from '../connectors/http/statusError.ts';
import { TargetError } from '../errors.ts';

/** A base URL without its trailing slashes, to append paths to. */
export const trimSlash = (url: string): string => url.replace(/\/+$/, '');

/** One call of a credential check: the vendor's answer, or a TargetError when there was none. */
export interface IdentityCall {
  readonly method?: 'GET' | 'POST';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A JSON body (sent as application/json) or a form. */
  readonly body?: unknown;
  readonly vendor: string;
  /** HUBSPOT, STRIPE, SALESFORCE. */
  readonly codePrefix: string;
  /** The credential's values, kept out of messages. */
  readonly secrets: readonly string[];
  /** The vendor's code for any other refusal. @default `<PREFIX>_REQUEST_REJECTED` */
  readonly rejectedCode?: string;
  readonly fetch?: typeof fetch | undefined;
}

export interface IdentityAnswer {
  readonly status: number;
  readonly text: string;
  /** The body as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
  /** `<METHOD> <path>`, for messages. */
  readonly route: string;
}

/**
 * Makes one call of a credential check and reads its answer. No answer at all is
 * `<PREFIX>_NETWORK_ERROR` (retryable); what a status means is the caller's to say, or
 * `refusal()`'s.
 */
export async function identityCall(call: IdentityCall): Promise<IdentityAnswer> {
  const method = call.method ?? 'GET';
  const route = `${method} ${new URL(call.url).pathname}`;
  const json = call.body !== undefined && !(call.body instanceof URLSearchParams);
  let res: Response;
  let text: string;
  try {
    res = await (call.fetch ?? fetch)(call.url, {
      method,
      headers: {
        Accept: 'application/json',
        ...(json ? { 'Content-Type': 'application/json' } : {}),
        ...call.headers,
      },
      ...(call.body === undefined
        ? {}
        : { body: json ? JSON.stringify(call.body) : (call.body as URLSearchParams) }),
      signal: AbortSignal.timeout(15_000),
    });
    text = await res.text();
  } catch (err) {
    throw new TargetError(
      `${call.codePrefix}_NETWORK_ERROR`,
      redact(`${call.vendor} ${route} failed before an answer: ${String(err)}`, call.secrets),
      { disposition: 'retryable', cause: err },
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, text, json: body, route };
}

/**
 * The error for an answer that refuses the credential or failed: `<PREFIX>_UNAUTHORIZED` (401: the
 * credential is wrong, revoked or expired), `<PREFIX>_FORBIDDEN` (403), `<PREFIX>_SERVER_ERROR`
 * (5xx: retryable), `<PREFIX>_RATE_LIMITED` (429: retryable), `<PREFIX>_REQUEST_REJECTED` (or the
 * vendor's own code for it) otherwise. `what` names the credential.
 */
export function refusal(
  answer: IdentityAnswer,
  call: Pick<IdentityCall, 'vendor' | 'codePrefix' | 'secrets' | 'rejectedCode'>,
  what: string,
): TargetError {
  const { status } = answer;
  const transient = status >= 500 || status === 429;
  const code =
    status === 429
      ? `${call.codePrefix}_RATE_LIMITED`
      : transient
        ? `${call.codePrefix}_SERVER_ERROR`
        : status === 401
          ? `${call.codePrefix}_UNAUTHORIZED`
          : status === 403
            ? `${call.codePrefix}_FORBIDDEN`
            : (call.rejectedCode ?? `${call.codePrefix}_REQUEST_REJECTED`);
  const verdict = status === 401 ? `refused ${what}` : `answered ${answer.route} with ${status}`;
  return new TargetError(
    code,
    redact(
      `${call.vendor} ${verdict}: ${vendorMessage(answer.json) ?? bodyExcerpt(answer.text, status)}`,
      call.secrets,
    ),
    { disposition: transient ? 'retryable' : 'permanent', httpStatus: status },
  );
}

/** The message of a vendor's JSON error body: Stripe's `error.message`, HubSpot's `message`, Salesforce's `[0].message`, OAuth's `error_description`. */
function vendorMessage(json: unknown): string | undefined {
  const body = (Array.isArray(json) ? json[0] : json) as
    | { message?: unknown; error?: unknown; error_description?: unknown }
    | undefined;
  if (!body || typeof body !== 'object') return undefined;
  const nested =
    typeof body.error === 'object' && body.error ? (body.error as { message?: unknown }).message : undefined;
  const found = [nested, body.message, body.error_description].find((m) => typeof m === 'string' && m !== '');
  return found as string | undefined;
}

import { TargetError } from '../../errors.ts';
import type { HttpResponse } from './HttpClient.ts';
import { parseRetryAfterMs } from './retryAfter.ts';
import { bodyExcerpt, errorForStatus, type StatusErrorCodes } from './statusError.ts';

/** The codes of a vendor prefix: `ACME` → ACME_SERVER_ERROR, ACME_UNAUTHORIZED (an auth refusal, see authErrors.ts)… */
export function statusCodesFor(codePrefix: string): StatusErrorCodes & { readonly rateLimited: string } {
  return {
    server: `${codePrefix}_SERVER_ERROR`,
    unauthorized: `${codePrefix}_UNAUTHORIZED`,
    forbidden: `${codePrefix}_FORBIDDEN`,
    notFound: `${codePrefix}_NOT_FOUND`,
    refused: `${codePrefix}_REFUSED`,
    rateLimited: `${codePrefix}_RATE_LIMITED`,
  };
}

export interface ClassifyOptions {
  /** Product name for messages. */
  readonly vendor: string;
  /** Prefix of the codes (statusCodesFor). */
  readonly codePrefix: string;
  /** `METHOD /path` for the message. */
  readonly route: string;
  /** The statuses that are worth another try besides 429 and 5xx (a 409 lock conflict…). */
  readonly retryableStatuses?: readonly number[];
  /** The vendor's message in its error body, when it has one. @default an excerpt of the body */
  readonly message?: string;
  readonly now?: number;
}

/**
 * The verdict on an error answer, for a connector without error bodies of its own to read: a 429
 * is rate limited (retryable, with the wait Retry-After asks, at least 1 s), a 5xx or 408 or a
 * listed status retryable, 401/403 an auth refusal (the write protocol re-reads the secret, then
 * pauses the sync), anything else permanent for that record.
 */
export function classifyAnswer(res: HttpResponse, opts: ClassifyOptions): TargetError {
  const codes = statusCodesFor(opts.codePrefix);
  const message = `${opts.vendor} ${opts.route}: ${res.status} ${opts.message ?? bodyExcerpt(res.text, res.status)}`;
  const askedMs = parseRetryAfterMs(res.headers.get('retry-after'), opts.now ?? Date.now());
  if (res.status === 429) {
    return new TargetError(codes.rateLimited, message, {
      disposition: 'retryable',
      httpStatus: 429,
      retryAfterSeconds: Math.max(1, Math.ceil((askedMs ?? 1000) / 1000)),
    });
  }
  if (opts.retryableStatuses?.includes(res.status)) {
    return new TargetError(codes.server, message, {
      disposition: 'retryable',
      httpStatus: res.status,
      ...(askedMs !== undefined ? { retryAfterSeconds: Math.max(1, Math.ceil(askedMs / 1000)) } : {}),
    });
  }
  return errorForStatus(res.status, message, codes);
}

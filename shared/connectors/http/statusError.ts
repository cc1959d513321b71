import { TargetError } from '../../errors.ts';

/** A vendor's error codes for what an HTTP status means on its own. */
export interface StatusErrorCodes {
  readonly server: string;
  readonly unauthorized: string;
  readonly forbidden: string;
  readonly notFound: string;
  /** Any other refusal: the vendor picks it from its body (validation, conflict…). */
  readonly refused: string;
}

/**
 * The verdict on a whole-call error answer once the vendor's own signals (rate limits, locks,
 * idempotency conflicts) are dealt with. A server fault is retryable: the next attempt may
 * succeed. Every other status is permanent: the same call would get the same refusal.
 * `requestTimeoutIsServerFault: false` keeps a 408 with the refusals.
 */
export function errorForStatus(
  status: number,
  message: string,
  codes: StatusErrorCodes,
  opts: { readonly requestTimeoutIsServerFault?: boolean } = {},
): TargetError {
  if (status >= 500 || (status === 408 && opts.requestTimeoutIsServerFault !== false))
    return new TargetError(codes.server, message, { disposition: 'retryable', httpStatus: status });
  const code =
    status === 401
      ? codes.unauthorized
      : status === 403
        ? codes.forbidden
        : status === 404
          ? codes.notFound
          : codes.refused;
  return new TargetError(code, message, { disposition: 'permanent', httpStatus: status });
}

/**
 * An error body that is not the vendor's own JSON (a gateway's or proxy's HTML page), as short
 * plain text for a message; the status alone when it has no text.
 */
export function bodyExcerpt(text: string, status: number): string {
  return (
    text
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 200) || `HTTP ${status}`
  );
}

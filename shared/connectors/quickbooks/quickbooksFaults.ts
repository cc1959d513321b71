import { TargetError } from '../../errors.ts';
import type { HttpResponse } from '../http/HttpClient.ts';
import { parseJson } from '../http/HttpClient.ts';
import { parseRetryAfterMs } from '../http/retryAfter.ts';
import { bodyExcerpt, errorForStatus } from '../http/statusError.ts';

/** Stable error codes this connector puts on TargetError. */
export const QuickBooksErrorCode = {
  /** 5010 Stale Object Error that outlived a re-read of the SyncToken (someone keeps editing the record). */
  stale: 'QBO_STALE_OBJECT',
  /** 6240 Duplicate Name Exists: another customer, vendor or employee already uses the display name. */
  duplicateName: 'QBO_DUPLICATE_NAME',
  /** 610 Object Not Found / 2500 Invalid Reference Id: the record, or one it references, is gone or inactive. */
  notFound: 'QBO_NOT_FOUND',
  /** Any other validation fault (6000 business validation, 2020 required parameter…): fix the data or the mapping. */
  invalid: 'QBO_VALIDATION',
  rateLimited: 'QBO_RATE_LIMITED',
  unauthorized: 'QBO_UNAUTHORIZED',
  forbidden: 'QBO_FORBIDDEN',
  server: 'QBO_SERVER_ERROR',
  badResponse: 'QBO_BAD_RESPONSE',
} as const;

/** One entry of a Fault's Error list, as Intuit sends it (`code` is a string). */
export interface QboError {
  readonly Message?: string;
  readonly Detail?: string;
  readonly code?: string;
  readonly element?: string;
}

/** `{ "Fault": { "Error": [...], "type": "ValidationFault" }, "time": … }`. */
export interface QboFault {
  readonly Error?: readonly QboError[];
  readonly type?: string;
}

/** The gateway's form of a fault (a 401's): the same fields in lower case. */
interface LowerFault {
  readonly error?: readonly { message?: string; detail?: string | null; code?: string }[];
  readonly type?: string;
}

function lower(f: LowerFault | undefined): QboFault | undefined {
  if (!f) return undefined;
  return {
    Error: (f.error ?? []).map((e) => ({
      ...(e.message ? { Message: e.message } : {}),
      ...(e.detail ? { Detail: e.detail } : {}),
      ...(e.code ? { code: e.code } : {}),
    })),
    ...(f.type ? { type: f.type } : {}),
  };
}

/** The first error's code of a fault ('5010'), for decisions. */
export function faultCode(fault: QboFault | undefined): string | undefined {
  return fault?.Error?.[0]?.code;
}

function describe(fault: QboFault): string {
  return (fault.Error ?? [])
    .map((e) => `${e.code ?? '?'} ${e.Message ?? ''}${e.Detail ? `: ${e.Detail}` : ''}`)
    .join('; ');
}

/**
 * The verdict on a fault about one record (a batch item's, or a whole call's 400). A stale
 * SyncToken is retryable (re-read and resend); a system fault too; every validation fault is the
 * record's own and permanent.
 */
export function recordFaultError(fault: QboFault, status = 200): TargetError {
  const code = faultCode(fault);
  const message = `QuickBooks refused the record: ${describe(fault)}`;
  if (code === '5010')
    return new TargetError(QuickBooksErrorCode.stale, message, {
      disposition: 'retryable',
      httpStatus: status,
    });
  if (fault.type === 'SystemFault' || code === '10000') {
    return new TargetError(QuickBooksErrorCode.server, message, {
      disposition: 'retryable',
      httpStatus: status,
    });
  }
  const ours =
    code === '6240'
      ? QuickBooksErrorCode.duplicateName
      : code === '610' || code === '2500'
        ? QuickBooksErrorCode.notFound
        : QuickBooksErrorCode.invalid;
  return new TargetError(ours, message, { disposition: 'permanent', httpStatus: status });
}

/**
 * The verdict on a whole call's error answer: 429 (ThrottleExceeded, the 10-at-once cap or a
 * minute's 500) waits what Retry-After asks or the rest of a minute; 401/403 are auth refusals
 * (3200 AuthenticationFailed, 3100 AuthorizationFailed); 5xx retryable; a 400's fault is the
 * record's (one record per call) or every record's.
 */
export function callError(res: HttpResponse, route: string, now = Date.now()): TargetError {
  const body = parseJson<{ Fault?: QboFault; fault?: LowerFault }>(res.text);
  const f = body?.Fault ?? lower(body?.fault);
  const text = f ? describe(f) : bodyExcerpt(res.text, res.status);
  const message = `QuickBooks ${route}: ${res.status} ${text}`;
  if (res.status === 429) {
    const asked = parseRetryAfterMs(res.headers.get('retry-after'), now);
    return new TargetError(QuickBooksErrorCode.rateLimited, message, {
      disposition: 'retryable',
      httpStatus: 429,
      // Without Retry-After: the per-minute window turns over within a minute.
      retryAfterSeconds: asked === undefined ? 60 : Math.max(1, Math.ceil(asked / 1000)),
    });
  }
  if (res.status === 400 && f) return recordFaultError(f, 400);
  return errorForStatus(res.status, message, {
    server: QuickBooksErrorCode.server,
    unauthorized: QuickBooksErrorCode.unauthorized,
    forbidden: QuickBooksErrorCode.forbidden,
    notFound: QuickBooksErrorCode.notFound,
    refused: QuickBooksErrorCode.invalid,
  });
}

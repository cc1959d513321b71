/** HubSpot error bodies and the codes the HubSpot connector puts on TargetError. */

/** Stable error codes this connector puts on TargetError (searchable in docs, logs and the DLQ). */
export const HubSpotErrorCode = {
  /** A property value or the request was refused (400 VALIDATION_ERROR): fix the data or the mapping. */
  validation: 'HUBSPOT_VALIDATION_ERROR',
  /** A unique property value (e.g. email) is already held by another record (CONFLICT). */
  conflict: 'HUBSPOT_CONFLICT',
  /** The token is missing, wrong, expired or revoked (401). */
  unauthorized: 'HUBSPOT_UNAUTHORIZED',
  /** The token lacks a scope (403). */
  forbidden: 'HUBSPOT_FORBIDDEN',
  /** The object or record does not exist (404 / OBJECT_NOT_FOUND). */
  notFound: 'HUBSPOT_NOT_FOUND',
  /** Another 4xx. */
  rejected: 'HUBSPOT_REQUEST_REJECTED',
  /** 429: burst (TEN_SECONDLY_ROLLING), secondly or daily limit. */
  rateLimited: 'HUBSPOT_RATE_LIMITED',
  /** 5xx from HubSpot or a gateway in front of it. */
  server: 'HUBSPOT_SERVER_ERROR',
  /** No answer within timeoutMs; the write may or may not have happened. */
  timeout: 'HUBSPOT_TIMEOUT',
  /** Connection refused, reset or closed before an answer; the write may or may not have happened. */
  network: 'HUBSPOT_NETWORK_ERROR',
  /** A 2xx whose body could not be read, or a record the answer did not mention. */
  badResponse: 'HUBSPOT_BAD_RESPONSE',
  /** No idProperty is configured for the object. */
  noIdProperty: 'HUBSPOT_ID_PROPERTY_MISSING',
  /** An OAuth app's token endpoint failed or did not answer: retried. */
  authUnavailable: 'HUBSPOT_AUTH_UNAVAILABLE',
  /** HubSpot rejected the OAuth app's refresh token (BAD_REFRESH_TOKEN: the app was uninstalled): run `writeback connect --oauth` again. */
  invalidGrant: 'HUBSPOT_INVALID_GRANT',
} as const;

/** HubSpot's `Error` / `StandardError` body (and the 429 body's policyName, errorType). */
export interface HubSpotErrorBody {
  status?: string;
  message?: string;
  category?: string;
  correlationId?: string;
  policyName?: string;
  errorType?: string;
  context?: Record<string, unknown>;
  errors?: { message?: string; code?: string; in?: string }[];
}

export function parseErrorBody(text: string): HubSpotErrorBody | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as HubSpotErrorBody) : undefined;
  } catch {
    return undefined;
  }
}

export function describeBody(body: HubSpotErrorBody | undefined, raw: string, status: number): string {
  if (body?.message !== undefined) {
    const cat = body.category ?? body.policyName;
    const corr = body.correlationId ? ` [correlationId ${body.correlationId}]` : '';
    return `${cat ? `${cat}: ` : ''}${readableMessage(body)}${corr}`;
  }
  const text = raw
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text === '' ? `HTTP ${status}` : text.slice(0, 200);
}

/**
 * HubSpot embeds the failed properties as JSON in the message ("Property values were not valid:
 * [{isValid,message,error,name}]"); this renders them as "email: Email address x is invalid
 * (INVALID_EMAIL)". Other messages get their detail messages appended.
 */
function readableMessage(body: HubSpotErrorBody): string {
  const message = body.message ?? '';
  const prefix = 'Property values were not valid: ';
  if (message.startsWith(prefix)) {
    try {
      const items = JSON.parse(message.slice(prefix.length)) as {
        message?: string;
        error?: string;
        name?: string;
      }[];
      if (Array.isArray(items) && items.length > 0) {
        return `Property values were not valid: ${items.map((i) => `${i.name}: ${i.message} (${i.error})`).join('; ')}`;
      }
    } catch {
      // Not the JSON list after all: keep the message as it came.
    }
  }
  const details = (body.errors ?? [])
    .map((d) => d.message)
    .filter((m): m is string => typeof m === 'string' && !message.includes(m));
  return details.length > 0 ? `${message} (${details.join('; ')})` : message;
}

export function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

import { randomUUID } from 'node:crypto';

/**
 * Response bodies shaped like HubSpot's. Error bodies follow the CRM v3 `Error` schema
 * (status, message, correlationId, category, optional context/errors/links); rate-limit bodies
 * follow the documented 429 example (status, message, errorType RATE_LIMIT, correlationId,
 * policyName, requestId).
 */

export interface ErrorDetail {
  readonly message: string;
  readonly code?: string;
  readonly in?: string;
  readonly context?: Record<string, string[]>;
}

/** A whole-call error body (HTTP 4xx/5xx). */
export function errorBody(
  message: string,
  category: string,
  extra: { context?: Record<string, string[]>; errors?: readonly ErrorDetail[] } = {},
): Record<string, unknown> {
  return {
    status: 'error',
    message,
    correlationId: randomUUID(),
    ...(extra.context ? { context: extra.context } : {}),
    category,
    ...(extra.errors ? { errors: extra.errors } : {}),
  };
}

/** One entry of a batch response's `errors` array (the `StandardError` schema). */
export function standardError(
  category: string,
  message: string,
  context: Record<string, string[]>,
  errors: readonly ErrorDetail[] = [],
): Record<string, unknown> {
  return { status: 'error', category, message, context, errors, links: {} };
}

/** A batch answer: `ok` (200; 201 for creates) when no input failed, else 207 with the per-input errors. */
export function batchReply(
  results: readonly unknown[],
  errors: readonly unknown[],
  startedAt: string,
  completedAt: string,
  ok = 200,
): { status: number; body: Record<string, unknown> } {
  if (errors.length === 0)
    return { status: ok, body: { status: 'COMPLETE', results, startedAt, completedAt } };
  return {
    status: 207,
    body: { status: 'COMPLETE', results, numErrors: errors.length, errors, startedAt, completedAt },
  };
}

export type RateLimitPolicy = 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY';

const POLICY_MESSAGE: Record<RateLimitPolicy, string> = {
  TEN_SECONDLY_ROLLING: 'You have reached your ten_secondly_rolling limit.',
  SECONDLY: 'You have reached your secondly limit.',
  DAILY: 'You have reached your daily limit.',
};

export function rateLimitBody(policy: RateLimitPolicy): Record<string, unknown> {
  return {
    status: 'error',
    message: POLICY_MESSAGE[policy],
    errorType: 'RATE_LIMIT',
    correlationId: randomUUID(),
    policyName: policy,
    requestId: randomUUID(),
  };
}

export const AUTH_MISSING_MESSAGE =
  'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more ' +
  'details at https://developers.hubspot.com/docs/methods/auth/oauth-overview';

export const batchTooLargeMessage = (max: number): string =>
  `The maximum number of inputs supported in a batch is ${max}. Please reduce the number of items and try again`;

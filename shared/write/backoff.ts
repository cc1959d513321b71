/** SQS caps a message's visibility timeout at 12 hours; we cap retries far lower. */
const MAX_BACKOFF_SECONDS = 900;

/**
 * Visibility timeout before the next attempt: exponential in the receive count, at least the
 * target's Retry-After, with jitter so that a storm of 429s does not come back in lockstep.
 */
export function backoffSeconds(
  receiveCount: number,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(MAX_BACKOFF_SECONDS, 2 ** Math.min(receiveCount, 10));
  const jittered = Math.ceil(exp / 2 + random() * (exp / 2));
  return Math.min(MAX_BACKOFF_SECONDS, Math.max(jittered, Math.ceil(retryAfterSeconds ?? 0)));
}

import type { RateLimit } from './SharedRateLimiter.ts';

/**
 * The pace a shared limiter keeps for a target's published rate-limit windows (a connector's
 * `capabilities.rateLimits.windows`): the rate of the shortest window (HubSpot: 100 per 10 s).
 * Longer windows (a daily budget) are not paced: spreading a day's budget evenly would slow
 * every backlog down for nothing; when a daily budget runs out, the target's 429 with its
 * Retry-After backs every writer off instead. Undefined when there is nothing to pace (a database).
 */
export function paceForWindows(
  windows: readonly { readonly limit: number; readonly intervalMs: number }[] | undefined,
  utilisation?: number,
): RateLimit | undefined {
  const shortest = [...(windows ?? [])].sort((a, b) => a.intervalMs - b.intervalMs)[0];
  if (!shortest) return undefined;
  return {
    requests: shortest.limit,
    perMs: shortest.intervalMs,
    ...(utilisation === undefined ? {} : { utilisation }),
  };
}

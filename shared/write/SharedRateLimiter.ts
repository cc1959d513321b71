/** Outcome of asking for a slot: go now, or give up because the wait would be too long. */
export type RateSlot =
  | { readonly ok: true; readonly waitedMs: number }
  | { readonly ok: false; readonly retryAfterSeconds: number };

/**
 * Paces target calls of one connection across every writer that shares it (concurrent Lambda
 * invocations run in separate containers, so the budget must live outside the process).
 */
export interface SharedRateLimiter {
  /** Waits for the next free slot; gives up (and reserves nothing) when that is more than `maxWaitMs` away. */
  acquire(maxWaitMs: number): Promise<RateSlot>;
  /** A 429 said to wait: no writer of this connection gets a slot before then. */
  backOff(seconds: number): Promise<void>;
}

/** Requests allowed per window, as the vendor states its limit (HubSpot: 100 per 10 s). */
export interface RateLimit {
  readonly requests: number;
  readonly perMs: number;
  /** Share of the limit to use, leaving room for clock skew and jitter. @default 0.95 */
  readonly utilisation?: number;
}

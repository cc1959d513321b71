import type { Reply } from '../common/FakeServer.ts';
import { SlidingWindow } from '../common/SlidingWindow.ts';
import { type RateLimitPolicy, rateLimitBody } from './bodies.ts';

export interface HubSpotFakeRateLimit {
  /** Requests admitted per rolling window. @default 100 */
  readonly max?: number;
  /** Length of the rolling window. @default 10_000 */
  readonly intervalMs?: number;
  /** Requests admitted per day; reset with resetRateLimits(). @default 250_000 */
  readonly daily?: number;
  /**
   * Also send Retry-After (seconds until the window frees a slot) with a 429. HubSpot's docs do not
   * promise this header, so it is off by default. @default false
   */
  readonly retryAfterHeader?: boolean;
  /**
   * Leave the calls HubSpot's spec exempts from the ten-secondly limit (`x-hubspot-rate-limit-exemptions`:
   * the v4 association batch endpoints) out of the burst window; they still count against the day.
   * @default true
   */
  readonly exemptions?: boolean;
}

/**
 * HubSpot's two limits on a private app: a rolling burst window (TEN_SECONDLY_ROLLING) and a daily
 * budget (DAILY). The budget is a plain count rather than a window: HubSpot resets it at midnight
 * UTC, and tests reset it with `reset()`.
 */
export class HubSpotLimits {
  private readonly daily: number;
  private readonly retryAfterHeader: boolean;
  private readonly exemptions: boolean;
  private readonly window: SlidingWindow;
  private dailyUsed = 0;

  public constructor(rl: HubSpotFakeRateLimit = {}) {
    this.window = new SlidingWindow(rl.max ?? 100, rl.intervalMs ?? 10_000);
    this.daily = rl.daily ?? 250_000;
    this.retryAfterHeader = rl.retryAfterHeader ?? false;
    this.exemptions = rl.exemptions ?? true;
  }

  /** Counts the call, or answers HubSpot's 429; `burstExempt` calls skip the burst window. */
  public admit(burstExempt: boolean, now: number): Reply | undefined {
    const inWindow = !(burstExempt && this.exemptions);
    if (this.dailyUsed >= this.daily) {
      const midnight = new Date(now);
      midnight.setUTCHours(24, 0, 0, 0);
      return this.refuse('DAILY', Math.ceil((midnight.getTime() - now) / 1000), now);
    }
    if (inWindow && this.window.full(now)) {
      const seconds = Math.max(1, Math.ceil(this.window.retryAfterMs(now) / 1000));
      return this.refuse('TEN_SECONDLY_ROLLING', seconds, now);
    }
    if (inWindow) this.window.record(now);
    this.dailyUsed++;
    return undefined;
  }

  /** The X-HubSpot-RateLimit-* headers every authenticated answer carries. */
  public headers(now: number): Record<string, string> {
    return {
      'X-HubSpot-RateLimit-Daily': String(this.daily),
      'X-HubSpot-RateLimit-Daily-Remaining': String(Math.max(0, this.daily - this.dailyUsed)),
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(this.window.intervalMs),
      'X-HubSpot-RateLimit-Max': String(this.window.limit),
      'X-HubSpot-RateLimit-Remaining': String(this.window.remaining(now)),
    };
  }

  public usage(now: number): { windowUsed: number; dailyUsed: number } {
    return { windowUsed: this.window.used(now), dailyUsed: this.dailyUsed };
  }

  public reset(): void {
    this.window.clear();
    this.dailyUsed = 0;
  }

  /** Retry-After only when asked for: HubSpot's docs do not promise it. */
  private refuse(policy: RateLimitPolicy, retryAfterSeconds: number, now: number): Reply {
    return {
      status: 429,
      body: rateLimitBody(policy),
      headers: {
        ...this.headers(now),
        ...(this.retryAfterHeader ? { 'Retry-After': String(retryAfterSeconds) } : {}),
      },
    };
  }
}

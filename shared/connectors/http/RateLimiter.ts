/** One rolling window of a target's rate limit: at most `limit` calls in any `intervalMs`. */
export interface RateWindow {
  /** Reported when this window holds callers back: 'minute', 'day', 'ten-secondly'… */
  readonly name: string;
  readonly limit: number;
  readonly intervalMs: number;
}

/** Every window a target enforces, plus its cap on calls in progress. */
export interface RateLimitSpec {
  readonly windows: readonly RateWindow[];
  /** Calls in progress at once. @default unlimited */
  readonly maxConcurrency?: number;
}

/** A caller was held back: by which constraint (a window's name, 'concurrency' or 'penalty') and how long. */
export interface ThrottleEvent {
  readonly limiter: string;
  readonly reason: string;
  readonly waitedMs: number;
}

export interface RateLimiterOptions extends RateLimitSpec {
  /** Shown in events and errors, e.g. the connection name. @default 'limiter' */
  readonly name?: string;
  /** Told whenever a caller had to wait: the signal that the rate limit is the bottleneck. */
  readonly onThrottle?: (event: ThrottleEvent) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

/** What the limiter has done so far; `waitedMs` by reason says which limit is the bottleneck. */
export interface RateLimiterStats {
  acquired: number;
  /** Acquisitions that had to wait at all. */
  throttled: number;
  /** Acquisitions given up because the wait exceeded the caller's maxWaitMs. */
  rejected: number;
  penalties: number;
  waitedMs: number;
  waitedMsByReason: Record<string, number>;
  peakInFlight: number;
}

/** One call's place in every window; release it when the answer (or the failure) is in. */
export interface Permit {
  release(): void;
}

/** The wait for a permit would exceed the caller's budget; `waitMs` is the estimate (or what was waited). */
export class RateLimitWaitTooLongError extends Error {
  public readonly waitMs: number;
  public readonly reason: string;
  public constructor(limiter: string, reason: string, waitMs: number) {
    super(`${limiter}: the ${reason} limit would hold this call for ~${Math.ceil(waitMs / 1000)} s`);
    this.name = 'RateLimitWaitTooLongError';
    this.waitMs = waitMs;
    this.reason = reason;
  }
}

interface Waiter {
  readonly grant: (p: Permit) => void;
  readonly reject: (e: Error) => void;
  readonly since: number;
  readonly deadline: number;
  readonly cleanup: () => void;
  reason: string;
}

type Verdict = { at: number; reason: string } | { blocked: string };

const registry = new Map<string, RateLimiter>();

/**
 * Keeps one process within every window of a target at once, and within its concurrency cap,
 * however many writers share it (a per-connection instance via `RateLimiter.shared`).
 *
 * Windows are sliding logs, as vendors count them: a call occupies every window from the moment
 * it starts until `intervalMs` after its answer arrived. Counting from the answer rather than the
 * request is what makes this safe: the vendor stamped the call somewhere between the two, so a
 * later call that starts a full interval after our answer can never land inside its window.
 *
 * Callers are served first come, first served. A 429 from the target (`penalize`) pauses every
 * caller of the limiter, so that one throttled writer slows all of them down.
 */
export class RateLimiter {
  public readonly name: string;
  private readonly windows: readonly RateWindow[];
  private readonly maxConcurrency: number;
  private readonly now: () => number;
  private readonly onThrottle: ((e: ThrottleEvent) => void) | undefined;
  /** Answer times of finished calls, ascending (they are appended as they finish). */
  private ends: number[] = [];
  private head = 0;
  private inFlight = 0;
  private pausedUntil = 0;
  private pauseReason = 'penalty';
  private readonly queue: Waiter[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = 0;
  private readonly counters: RateLimiterStats = {
    acquired: 0,
    throttled: 0,
    rejected: 0,
    penalties: 0,
    waitedMs: 0,
    waitedMsByReason: {},
    peakInFlight: 0,
  };

  public constructor(opts: RateLimiterOptions) {
    for (const w of opts.windows) {
      if (!(w.limit >= 1 && w.intervalMs > 0))
        throw new Error(`rate window ${w.name}: limit and interval must be positive`);
    }
    this.name = opts.name ?? 'limiter';
    this.windows = [...opts.windows];
    this.maxConcurrency = opts.maxConcurrency ?? Number.POSITIVE_INFINITY;
    this.now = opts.now ?? Date.now;
    this.onThrottle = opts.onThrottle;
  }

  /**
   * The process-wide limiter for `key` (one per connection): every connector built for the same
   * connection in this process shares it. The first caller's spec wins.
   */
  public static shared(key: string, opts: RateLimiterOptions): RateLimiter {
    let l = registry.get(key);
    if (l === undefined) {
      l = new RateLimiter({ name: key, ...opts });
      registry.set(key, l);
    }
    return l;
  }

  /** Forgets the shared limiters (tests). */
  public static resetShared(): void {
    registry.clear();
  }

  /**
   * Resolves with a permit once a call may start without breaking any window or the concurrency
   * cap. Rejects with RateLimitWaitTooLongError when that is further away than `maxWaitMs`
   * (at once when the windows alone say so): better to hand the record back to the queue than to
   * burn a Lambda's time sleeping.
   */
  public acquire(opts: { maxWaitMs?: number } = {}): Promise<Permit> {
    const now = this.now();
    const maxWait = opts.maxWaitMs ?? Number.POSITIVE_INFINITY;
    if (this.queue.length === 0) {
      const v = this.verdict(now);
      if ('at' in v && v.at <= now) return Promise.resolve(this.issue(now, now, undefined));
      if ('at' in v && v.at - now > maxWait) return Promise.reject(this.tooLong(v.reason, v.at - now));
    }
    return new Promise<Permit>((resolve, reject) => {
      let deadlineTimer: ReturnType<typeof setTimeout> | undefined;
      const waiter: Waiter = {
        grant: resolve,
        reject,
        since: now,
        deadline: now + maxWait,
        reason: 'queue',
        cleanup: () => {
          if (deadlineTimer) clearTimeout(deadlineTimer);
        },
      };
      if (Number.isFinite(maxWait)) {
        deadlineTimer = setTimeout(() => {
          const i = this.queue.indexOf(waiter);
          if (i < 0) return;
          this.queue.splice(i, 1);
          reject(this.tooLong(waiter.reason, this.now() - waiter.since));
          this.pump();
        }, maxWait + 1);
      }
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** Pauses every caller for `ms` (a 429's Retry-After): the target told us we are over a limit. */
  public penalize(ms: number, reason = 'penalty'): void {
    const until = this.now() + Math.max(0, ms);
    this.counters.penalties++;
    if (until > this.pausedUntil) {
      this.pausedUntil = until;
      this.pauseReason = reason;
    }
    this.pump();
  }

  /** Calls in progress and calls counted in each window right now. */
  public usage(): { inFlight: number; windows: Record<string, number> } {
    const now = this.now();
    const windows: Record<string, number> = {};
    for (const w of this.windows) windows[w.name] = this.countIn(w, now);
    return { inFlight: this.inFlight, windows };
  }

  public stats(): RateLimiterStats {
    return { ...this.counters, waitedMsByReason: { ...this.counters.waitedMsByReason } };
  }

  // ---------------------------------------------------------------- internals

  private tooLong(reason: string, waitMs: number): RateLimitWaitTooLongError {
    this.counters.rejected++;
    return new RateLimitWaitTooLongError(this.name, reason, waitMs);
  }

  private issue(now: number, since: number, reason: string | undefined): Permit {
    this.inFlight++;
    this.counters.acquired++;
    this.counters.peakInFlight = Math.max(this.counters.peakInFlight, this.inFlight);
    const waited = now - since;
    if (reason !== undefined && waited > 0) {
      this.counters.throttled++;
      this.counters.waitedMs += waited;
      this.counters.waitedMsByReason[reason] = (this.counters.waitedMsByReason[reason] ?? 0) + waited;
      this.onThrottle?.({ limiter: this.name, reason, waitedMs: waited });
    }
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.inFlight--;
        this.ends.push(this.now());
        this.prune();
        this.pump();
      },
    };
  }

  /** Number of calls that occupy window `w` at time `t`: finished within the interval, or in progress. */
  private countIn(w: RateWindow, t: number): number {
    return this.inFlight + (this.ends.length - this.firstAfter(t - w.intervalMs));
  }

  /** Index of the first finished call whose answer came after `t`. */
  private firstAfter(t: number): number {
    let lo = this.head;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ends[mid] ?? 0) <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** When the next call may start, or which constraint only a finishing call can lift. */
  private verdict(now: number): Verdict {
    if (this.inFlight >= this.maxConcurrency) return { blocked: 'concurrency' };
    let at = now;
    let reason = 'none';
    if (this.pausedUntil > at) {
      at = this.pausedUntil;
      reason = this.pauseReason;
    }
    for (let changed = true; changed; ) {
      changed = false;
      for (const w of this.windows) {
        if (this.inFlight >= w.limit) return { blocked: w.name };
        const first = this.firstAfter(at - w.intervalMs);
        const count = this.inFlight + (this.ends.length - first);
        if (count < w.limit) continue;
        // The oldest calls must age out until one slot is free.
        const free = (this.ends[first + (count - w.limit)] ?? at) + w.intervalMs;
        if (free > at) {
          at = free;
          reason = w.name;
          changed = true;
        }
      }
    }
    return { at, reason };
  }

  private pump(): void {
    for (;;) {
      const waiter = this.queue[0];
      if (waiter === undefined) {
        this.arm(undefined);
        return;
      }
      const now = this.now();
      const v = this.verdict(now);
      if ('blocked' in v) {
        this.holdAll(v.blocked);
        this.arm(undefined);
        return;
      }
      if (v.at > now) {
        this.holdAll(v.reason);
        if (v.at > waiter.deadline) {
          this.queue.shift();
          waiter.cleanup();
          waiter.reject(this.tooLong(v.reason, v.at - waiter.since));
          continue;
        }
        this.arm(v.at);
        return;
      }
      this.queue.shift();
      waiter.cleanup();
      waiter.grant(this.issue(now, waiter.since, waiter.reason));
    }
  }

  /** Everyone queued is held by what holds the head of the queue. */
  private holdAll(reason: string): void {
    for (const w of this.queue) w.reason = reason;
  }

  private arm(at: number | undefined): void {
    if (at === undefined) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      return;
    }
    if (this.timer && this.timerAt === at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(0, at - this.now()),
    );
  }

  /** Drops answers older than the longest window. */
  private prune(): void {
    const longest = Math.max(0, ...this.windows.map((w) => w.intervalMs));
    this.head = this.firstAfter(this.now() - longest);
    if (this.head > 1024 && this.head * 2 > this.ends.length) {
      this.ends = this.ends.slice(this.head);
      this.head = 0;
    }
  }
}

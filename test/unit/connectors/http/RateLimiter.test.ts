import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter, RateLimitWaitTooLongError } from '../../../../shared/connectors/http/RateLimiter.ts';

/** Starts `n` calls, each held for `holdMs`, and returns the clock times at which they started. */
async function run(limiter: RateLimiter, n: number, holdMs = 0): Promise<number[]> {
  const starts: number[] = [];
  await Promise.all(
    Array.from({ length: n }, async () => {
      const permit = await limiter.acquire();
      starts.push(Date.now());
      if (holdMs > 0) await new Promise((r) => setTimeout(r, holdMs));
      permit.release();
    }),
  );
  return starts.sort((a, b) => a - b);
}

describe('Class: RateLimiter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_700_000_000_000);
  });
  afterEach(() => {
    vi.useRealTimers();
    RateLimiter.resetShared();
  });

  describe('Method: acquire', () => {
    it('admits up to the limit at once, then the next call a full interval after the oldest answer', async () => {
      // Prepare
      const limiter = new RateLimiter({ windows: [{ name: 'minute', limit: 3, intervalMs: 60_000 }] });
      const t0 = Date.now();

      // Act
      const done = run(limiter, 4, 100);
      await vi.runAllTimersAsync();
      const starts = await done;

      // Assess
      expect(starts.map((t) => t - t0)).toEqual([0, 0, 0, 60_100]);
    });

    it('keeps within every window at once', async () => {
      // Prepare
      const limiter = new RateLimiter({
        windows: [
          { name: 'second', limit: 2, intervalMs: 1_000 },
          { name: 'ten-seconds', limit: 3, intervalMs: 10_000 },
        ],
      });
      const t0 = Date.now();

      // Act
      const done = run(limiter, 5);
      await vi.runAllTimersAsync();
      const starts = (await done).map((t) => t - t0);

      // Assess
      expect(starts).toEqual([0, 0, 1_000, 10_000, 10_000]);
      for (const t of starts) {
        expect(starts.filter((s) => s > t - 1_000 && s <= t).length).toBeLessThanOrEqual(2);
        expect(starts.filter((s) => s > t - 10_000 && s <= t).length).toBeLessThanOrEqual(3);
      }
    });

    it('holds a call while maxConcurrency calls are in progress', async () => {
      // Prepare
      const limiter = new RateLimiter({ windows: [], maxConcurrency: 2 });
      const t0 = Date.now();

      // Act
      const done = run(limiter, 3, 500);
      await vi.runAllTimersAsync();
      const starts = (await done).map((t) => t - t0);

      // Assess
      expect(starts).toEqual([0, 0, 500]);
      expect(limiter.stats()).toMatchObject({ acquired: 3, throttled: 1, peakInFlight: 2 });
      expect(limiter.stats().waitedMsByReason).toEqual({ concurrency: 500 });
    });

    it('rejects at once when the windows alone make the wait longer than maxWaitMs', async () => {
      // Prepare
      const limiter = new RateLimiter({ windows: [{ name: 'day', limit: 1, intervalMs: 86_400_000 }] });
      (await limiter.acquire()).release();

      // Act
      const refused = limiter.acquire({ maxWaitMs: 5_000 });

      // Assess
      await expect(refused).rejects.toBeInstanceOf(RateLimitWaitTooLongError);
      await expect(refused).rejects.toMatchObject({ reason: 'day', waitMs: 86_400_000 });
      expect(limiter.stats().rejected).toBe(1);
    });

    it('gives up on a call still waiting for a slot when its maxWaitMs has passed', async () => {
      // Prepare
      const limiter = new RateLimiter({ windows: [], maxConcurrency: 1 });
      const held = await limiter.acquire();

      // Act
      const waiting = limiter.acquire({ maxWaitMs: 1_000 });
      const assertion = expect(waiting).rejects.toMatchObject({ reason: 'concurrency' });
      await vi.advanceTimersByTimeAsync(1_001);

      // Assess
      await assertion;
      held.release();
      expect(limiter.usage().inFlight).toBe(0);
    });
  });

  describe('Method: penalize', () => {
    it('pauses every caller until the penalty is over and names it as the reason', async () => {
      // Prepare
      const events: string[] = [];
      const limiter = new RateLimiter({ windows: [], onThrottle: (e) => events.push(e.reason) });
      const t0 = Date.now();

      // Act
      limiter.penalize(3_000, 'penalty (429)');
      const done = run(limiter, 2);
      await vi.runAllTimersAsync();
      const starts = (await done).map((t) => t - t0);

      // Assess
      expect(starts).toEqual([3_000, 3_000]);
      expect(events).toEqual(['penalty (429)', 'penalty (429)']);
    });
  });

  describe('Method: shared', () => {
    it('returns one limiter per key, so that connectors of one connection share it', () => {
      const spec = { windows: [{ name: 'minute', limit: 60, intervalMs: 60_000 }] };
      expect(RateLimiter.shared('xero:t1', spec)).toBe(RateLimiter.shared('xero:t1', spec));
      expect(RateLimiter.shared('xero:t1', spec)).not.toBe(RateLimiter.shared('xero:t2', spec));
    });
  });
});

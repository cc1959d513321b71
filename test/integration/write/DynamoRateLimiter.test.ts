import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRateLimiter } from '../../../shared/write/DynamoRateLimiter.ts';
import { type EmulatorFixture, startEmulatorFixture } from '../../helpers/emulatorFixture.ts';

describe('Class: DynamoRateLimiter (against dynalite)', () => {
  let fx: EmulatorFixture;
  let n = 0;
  /** Three limiters on one item: three writer containers sharing a connection. */
  const containers = (requests: number, perMs: number) => {
    const name = `conn-${++n}`;
    return [1, 2, 3].map(
      () => new DynamoRateLimiter(fx.links.ddb, fx.links.table, name, { requests, perMs, utilisation: 1 }),
    );
  };

  beforeAll(async () => {
    fx = await startEmulatorFixture();
  });
  afterAll(async () => {
    await fx?.stop();
  });

  it('spaces calls of several containers one interval apart', async () => {
    // Prepare
    const limiters = containers(20, 1000);
    const granted: number[] = [];
    // Act
    await Promise.all(
      limiters.map(async (l) => {
        for (let i = 0; i < 5; i++) {
          const slot = await l.acquire(5000);
          if (slot.ok) granted.push(Date.now());
        }
      }),
    );
    // Assess
    granted.sort((a, b) => a - b);
    expect(granted).toHaveLength(15);
    const span = granted[granted.length - 1]! - granted[0]!;
    // 14 intervals of 50 ms, less the first grant's own round trip.
    expect(span).toBeGreaterThanOrEqual(600);
    // No window of one second holds more than the limit.
    for (let i = 0; i < granted.length; i++) {
      expect(granted.filter((t) => t >= granted[i]! && t < granted[i]! + 1000).length).toBeLessThanOrEqual(
        20,
      );
    }
  });

  it('gives up without reserving when the next slot is further away than the caller can wait', async () => {
    // Prepare
    const [a, b] = containers(1, 10_000);
    await a!.acquire(1000);
    // Act
    const refused = await b!.acquire(1000);
    // Assess
    expect(refused).toEqual({ ok: false, retryAfterSeconds: 10 });
  });

  it('holds every container back after a 429 until its Retry-After has passed', async () => {
    // Prepare
    const [a, b] = containers(100, 1000);
    const started = Date.now();
    // Act
    await a!.backOff(0.4);
    const slot = await b!.acquire(5000);
    // Assess
    expect(slot.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
  });
});

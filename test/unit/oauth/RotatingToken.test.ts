import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TargetError } from '../../../shared/errors.ts';
import { RotatingToken, type RotatingTokenOptions } from '../../../shared/oauth/RotatingToken.ts';
import type { TokenSet } from '../../../shared/oauth/TokenSet.ts';
import { Clock, MemoryLease, MemoryTokenStore, MemoryVendor } from './memoryRotation.ts';

const MINUTE = 60_000;

/** A connection as `writeback connect` leaves it, and a writer factory sharing its store and lease. */
function setup(opts: { ttlMs?: number; graceMs?: number } = {}) {
  const clock = new Clock();
  const vendor = new MemoryVendor(clock, opts.ttlMs, opts.graceMs);
  const initial = vendor.connect();
  const store = new MemoryTokenStore(initial);
  const lease = new MemoryLease(clock);
  const writer = (over: Partial<RotatingTokenOptions> = {}) =>
    new RotatingToken({
      store,
      lease,
      refresh: vendor.refresh,
      initial: store.current.tokens,
      codePrefix: 'XERO',
      vendor: 'Xero',
      now: clock.now,
      sleep: async (ms) => {
        clock.t += ms;
      },
      ...over,
    });
  return { clock, vendor, store, lease, initial, writer };
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<TargetError> {
  try {
    await p;
  } catch (err) {
    return err as TargetError;
  }
  throw new Error('expected a rejection');
}

describe('Class: RotatingToken', () => {
  describe('Method: get', () => {
    it('uses the token it holds until the refresh margin, without reading the store', async () => {
      // Prepare
      const { writer, store, initial, vendor } = setup();
      const w = writer();
      // Act
      const token = await w.get();
      // Assess
      expect(token).toBe(initial.accessToken);
      expect(store.reads).toBe(0);
      expect(vendor.refreshes).toBe(0);
    });

    it('refreshes a due token once and stores the new set before handing it out', async () => {
      // Prepare
      const { writer, store, clock, vendor, initial } = setup();
      const order: string[] = [];
      const w = writer({
        refresh: async (rt) => {
          const next = await vendor.refresh(rt);
          order.push('refreshed');
          return next;
        },
      });
      const replace = store.replace.bind(store);
      store.replace = async (basedOn, next) => {
        order.push('stored');
        return replace(basedOn, next);
      };
      clock.t = initial.expiresAt - 30_000;
      // Act
      const token = await w.get();
      order.push('used');
      // Assess
      expect(order).toEqual(['refreshed', 'stored', 'used']);
      expect(token).toBe(store.current.tokens.accessToken);
      expect(token).not.toBe(initial.accessToken);
      expect(store.versions.map((v) => v.version)).toEqual(['v1', 'v2']);
      expect(store.current.fields).toEqual({ clientId: 'app' });
      expect(vendor.refreshes).toBe(1);
    });

    it('adopts tokens another writer stored instead of refreshing again', async () => {
      // Prepare
      const { writer, clock, vendor, initial } = setup();
      const a = writer();
      const b = writer();
      clock.t = initial.expiresAt;
      // Act
      const fromA = await a.get();
      const fromB = await b.get();
      // Assess
      expect(fromB).toBe(fromA);
      expect(vendor.refreshes).toBe(1);
    });

    it('shares one renewal between concurrent callers of one process', async () => {
      const { writer, clock, vendor, initial, store } = setup();
      const w = writer();
      clock.t = initial.expiresAt;
      const tokens = await Promise.all(Array.from({ length: 10 }, () => w.get()));
      expect(new Set(tokens).size).toBe(1);
      expect(vendor.refreshes).toBe(1);
      expect(store.reads).toBe(2);
    });

    it('renews an access token the API refused, even before its expiry', async () => {
      const { writer, vendor, initial } = setup();
      const w = writer();
      w.refused(initial.accessToken);
      const token = await w.get();
      expect(token).not.toBe(initial.accessToken);
      expect(vendor.refreshes).toBe(1);
    });
  });

  describe('Failures', () => {
    it('throws XERO_INVALID_GRANT, permanent, when the vendor rejects the stored refresh token', async () => {
      // Prepare
      const { writer, clock, vendor, initial, lease } = setup();
      vendor.revoked = true;
      clock.t = initial.expiresAt;
      // Act
      const err = await rejection(writer().get());
      // Assess
      expect(err).toBeInstanceOf(TargetError);
      expect(err.code).toBe('XERO_INVALID_GRANT');
      expect(err.disposition).toBe('permanent');
      expect(lease.holder).toBeUndefined();
    });

    it('uses newer stored tokens when the refresh token it tried was rejected because another writer rotated it', async () => {
      // Prepare: the store moves on while this writer's refresh (with an old token) is under way
      const { writer, clock, vendor, initial, store } = setup({ graceMs: 0 });
      clock.t = initial.expiresAt;
      let newer: TokenSet | undefined;
      const w = writer({
        refresh: async (rt) => {
          if (newer) return vendor.refresh(rt);
          // Another writer, its lease lapsed, refreshed with this token and stored its tokens…
          newer = await vendor.refresh(rt);
          await store.replace(store.current, newer);
          clock.t += 1;
          return vendor.refresh(rt); // …so ours, the rotated token past its grace, is rejected
        },
      });
      // Act
      const token = await w.get();
      // Assess
      expect(token).toBe(newer!.accessToken);
      expect(vendor.invalidGrants).toBe(1);
    });

    it('recovers from a crash between the refresh and the write-back: the next writer retries the old refresh token within the grace period', async () => {
      // Prepare: writer A refreshes, then dies before storing (its lease stays until it expires)
      const { writer, clock, vendor, initial, store, lease } = setup();
      clock.t = initial.expiresAt;
      const crashed = writer({
        holder: 'A',
        refresh: async (rt) => {
          await vendor.refresh(rt);
          throw new Error('the process died here');
        },
      });
      await rejection(crashed.get());
      lease.holder = 'A'; // a crash never releases
      lease.until = clock.t + MINUTE;
      // Act: writer B waits for the lease to expire, then retries the stored (rotated) refresh token
      const token = await writer({ holder: 'B', waitMs: 5 * MINUTE }).get();
      // Assess
      expect(vendor.accepts(token)).toBe(true);
      expect(vendor.graceRetries).toBe(1);
      expect(vendor.invalidGrants).toBe(0);
      expect(store.current.tokens.accessToken).toBe(token);
    });

    it('loses the connection after such a crash when the vendor keeps no grace period (documented)', async () => {
      const { writer, clock, vendor, initial, lease } = setup({ graceMs: 0 });
      clock.t = initial.expiresAt;
      await rejection(
        writer({
          refresh: async (rt) => {
            await vendor.refresh(rt);
            throw new Error('the process died here');
          },
        }).get(),
      );
      lease.holder = undefined;
      clock.t += 1;
      const err = await rejection(writer().get());
      expect(err.code).toBe('XERO_INVALID_GRANT');
    });

    it('never hands out tokens it could not store; the next writer retries the old refresh token', async () => {
      // Prepare
      const { writer, clock, vendor, initial, store } = setup();
      clock.t = initial.expiresAt;
      store.failWrites = 2;
      // Act
      const err = await rejection(writer().get());
      const token = await writer().get();
      // Assess
      expect(err.code).toBe('XERO_AUTH_UNAVAILABLE');
      expect(err.disposition).toBe('retryable');
      expect(store.versions).toHaveLength(2);
      expect(store.current.tokens.accessToken).toBe(token);
      expect(vendor.graceRetries).toBe(1);
    });

    it('hands the call back (retryable) when another writer holds the lease and stores nothing in time', async () => {
      const { writer, clock, initial, lease, vendor } = setup();
      clock.t = initial.expiresAt;
      await lease.acquire('stuck', 10 * MINUTE);
      const err = await rejection(writer({ waitMs: 5_000 }).get());
      expect(err.code).toBe('XERO_AUTH_UNAVAILABLE');
      expect(vendor.refreshes).toBe(0);
    });

    it('drops the tokens of a refresher frozen past its lease: it cannot overwrite newer ones', async () => {
      // Prepare: A refreshes, freezes past its lease; B refreshes and stores; A thaws and writes back
      const { writer, clock, vendor, initial, store } = setup();
      clock.t = initial.expiresAt;
      let thaw!: () => void;
      const frozen = new Promise<void>((resolve) => {
        thaw = resolve;
      });
      const a = writer({
        holder: 'A',
        leaseMs: MINUTE,
        refresh: async (rt) => {
          const next = await vendor.refresh(rt);
          await frozen;
          return next;
        },
      });
      const fromA = a.get();
      await new Promise((r) => setTimeout(r, 0));
      clock.t += 2 * MINUTE;
      const fromB = await writer({ holder: 'B' }).get();
      thaw();
      // Act
      const tokenA = await fromA;
      // Assess: A's refreshed tokens were never stored; A uses B's
      expect(tokenA).toBe(fromB);
      expect(store.current.tokens.accessToken).toBe(fromB);
      expect(store.versions).toHaveLength(2);
    });
  });

  describe('Property: concurrent writers across expiries', () => {
    it('refresh exactly once per expiry, never use a rotated refresh token, never see invalid_grant, whatever the interleaving', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          fc.integer({ min: 2, max: 6 }),
          fc.integer({ min: 1, max: 4 }),
          async (s, writers, expiries) => {
            // Prepare: store, lease and vendor calls are scheduled in an order fast-check picks
            const { clock, vendor, store, lease } = setup();
            const sched = <T>(label: string, f: () => Promise<T>) =>
              s.schedule(Promise.resolve(label)).then(f);
            const tokens = Array.from(
              { length: writers },
              (_, i) =>
                new RotatingToken({
                  store: {
                    read: () => sched(`read ${i}`, () => store.read()),
                    replace: (b, n) => sched(`replace ${i}`, () => store.replace(b, n)),
                  },
                  lease: {
                    acquire: (h, ttl) => sched(`acquire ${i}`, () => lease.acquire(h, ttl)),
                    release: (h) => sched(`release ${i}`, () => lease.release(h)),
                  },
                  refresh: (rt) => sched(`refresh ${i}`, () => vendor.refresh(rt)),
                  initial: store.current.tokens as TokenSet,
                  codePrefix: 'XERO',
                  vendor: 'Xero',
                  now: clock.now,
                  sleep: () => s.schedule(Promise.resolve()).then(() => undefined),
                }),
            );
            for (let e = 0; e < expiries; e++) {
              clock.t = store.current.tokens.expiresAt;
              // Act: every writer asks for a token at once
              const handed = await s.waitFor(Promise.all(tokens.map((t) => t.get())));
              await s.waitIdle(); // the lease released
              // Assess: all valid, all the stored one
              for (const token of handed) {
                expect(vendor.accepts(token)).toBe(true);
                expect(token).toBe(store.current.tokens.accessToken);
              }
            }
            expect(vendor.refreshes).toBe(expiries);
            expect(vendor.graceRetries).toBe(0);
            expect(vendor.invalidGrants).toBe(0);
            expect(store.versions).toHaveLength(expiries + 1);
          },
        ),
        { numRuns: 150 },
      );
    });
  });
});

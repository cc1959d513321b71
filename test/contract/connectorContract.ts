import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Payload } from '../../shared/config/schema.ts';
import type { Connector, UpsertRecord, UpsertResult } from '../../shared/connectors/Connector.ts';
import { describeError, TargetError } from '../../shared/errors.ts';

/**
 * What the contract suite needs from one connector and its fake (or real database): two
 * connectors on the same target (one with a short timeout and no inline retries), payloads it
 * accepts and refuses, fault injection, and a way to count what the target holds.
 */
export interface ContractHarness {
  readonly connector: Connector;
  /** Same target, a timeout far below `slowWrite`'s delay, no inline retries. */
  readonly impatient: Connector;
  readonly object: string;
  /** A payload the target accepts; `i` makes unique values. */
  valid(i: number): Payload;
  /** A payload the target refuses for this record alone (a validation error). */
  invalid(i: number): Payload;
  /** A field of valid() that a null clears (the connector's default null semantics is 'clear'). */
  readonly clearable: string;
  /**
   * The next write gets the target's rate-limit answer (429 asking to wait `seconds`, or its own
   * equivalent, waiting at least that); undefined when the target has no such thing.
   */
  readonly inject429?: (seconds: number) => void;
  /** The next write is applied but answered too late for `impatient`. */
  slowWrite(): Promise<void> | void;
  /** Waits until a slowed write has landed. */
  settle(): Promise<void>;
  /** Records the target holds under this external id. */
  count(externalId: string): Promise<number>;
  /** The value of `field` the target holds for this external id ('' / null / undefined when cleared). */
  read(externalId: string, field: string): Promise<unknown>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

let seq = 0;

/** A record with a fresh external id (unless given) and an idempotency key per (key, version). */
export function contractRecord(
  key: string,
  payload: Payload,
  version = 1,
  externalId = `ext-${key}`,
): UpsertRecord {
  return { key, externalId, idempotencyKey: `contract:${key}:${version}`, payload };
}

function byKey(results: readonly UpsertResult[]): Map<string, UpsertResult> {
  return new Map(results.map((r) => [r.key, r]));
}

function ok(r: UpsertResult | undefined): Extract<UpsertResult, { ok: true }> {
  if (r === undefined || !r.ok)
    throw new Error(`expected success, got ${r ? describeError(r.error).message : 'nothing'}`);
  return r;
}

function failed(r: UpsertResult | undefined): TargetError {
  if (r === undefined || r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r.error;
}

/**
 * The behaviour every connector shares, run against each one (as Singer's tap tests are run
 * against every tap): one result per record under partial failure, 429 → retryable with
 * retryAfter, timeout → retryable, replays leave one record, nulls clear, lookups find.
 */
/**
 * Defines the shared contract for one connector. `opts.rateLimited: false` leaves out the 429 case
 * for targets that have no rate limit to hit (a Postgres table): not defined rather than skipped.
 */
export function describeConnectorContract(
  name: string,
  start: () => Promise<ContractHarness>,
  opts: { rateLimited?: boolean } = {},
): void {
  describe(`Connector contract: ${name}`, () => {
    let h: ContractHarness;

    beforeAll(async () => {
      h = await start();
    });
    afterAll(async () => {
      await h.stop();
    });
    beforeEach(async () => {
      await h.reset();
    });

    const next = () => String(++seq);

    it('declares its capabilities', () => {
      const c = h.connector.capabilities;
      expect(c.maxBatchSize).toBeGreaterThan(0);
      expect(['per-record', 'all-or-nothing']).toContain(c.partialSuccess);
      expect(['embedded', 'associated', 'none']).toContain(c.children);
      expect(['clear', 'keep']).toContain(c.nulls);
      for (const w of c.rateLimits?.windows ?? []) {
        expect(w.limit).toBeGreaterThan(0);
        expect(w.intervalMs).toBeGreaterThan(0);
      }
      // A replay must be safe one way or another: native upsert, idempotency key, or lookup first.
      expect(c.nativeUpsert || c.idempotencyKey || typeof h.connector.lookup === 'function').toBe(true);
    });

    it('gives one result per record under partial failure: the refused one fails permanently, the others land', async () => {
      // Prepare
      const [a, b, c] = [next(), next(), next()];
      const records = [
        contractRecord(a, h.valid(Number(a))),
        contractRecord(b, h.invalid(Number(b))),
        contractRecord(c, h.valid(Number(c))),
      ];

      // Act
      const results = byKey(await h.connector.upsertBatch(h.object, records));

      // Assess
      expect(results.size).toBe(3);
      ok(results.get(a));
      ok(results.get(c));
      expect(failed(results.get(b))).toBeInstanceOf(TargetError);
      expect(failed(results.get(b)).disposition).toBe('permanent');
      expect(await h.count(`ext-${a}`)).toBe(1);
      expect(await h.count(`ext-${b}`)).toBe(0);
      expect(await h.count(`ext-${c}`)).toBe(1);
    });

    it('writes a batch larger than maxBatchSize in several calls, one result each', async () => {
      const n = Math.min(h.connector.capabilities.maxBatchSize + 3, 1003);
      const records = Array.from({ length: n }, () => {
        const k = next();
        return contractRecord(k, h.valid(Number(k)));
      });

      const results = await h.connector.upsertBatch(h.object, records);

      expect(results).toHaveLength(n);
      expect(new Set(results.map((r) => r.key))).toEqual(new Set(records.map((r) => r.key)));
      expect(results.every((r) => r.ok)).toBe(true);
    });

    if (opts.rateLimited !== false) {
      it('classifies a rate-limit answer (429) as retryable with the wait asked for, and the retry lands', async () => {
        if (!h.inject429)
          throw new Error(`${name}: the harness must inject 429s (or pass rateLimited: false)`);
        const k = next();
        const record = contractRecord(k, h.valid(Number(k)));
        h.inject429(30);

        const [limited] = await h.connector.upsertBatch(h.object, [record]);
        const [later] = await h.connector.upsertBatch(h.object, [record]);

        expect(failed(limited)).toMatchObject({ disposition: 'retryable' });
        expect(failed(limited).retryAfterSeconds).toBeGreaterThanOrEqual(30);
        ok(later);
        expect(await h.count(`ext-${k}`)).toBe(1);
      });
    }

    it('classifies a timeout as retryable; the late write and the replay leave one record', async () => {
      const k = next();
      const record = contractRecord(k, h.valid(Number(k)));
      await h.slowWrite();

      const [timedOut] = await h.impatient.upsertBatch(h.object, [record]);
      await h.settle();
      const [replay] = await h.connector.upsertBatch(h.object, [record]);

      expect(failed(timedOut).disposition).toBe('retryable');
      ok(replay);
      expect(await h.count(`ext-${k}`)).toBe(1);
    });

    it('leaves one record when the same upsert is replayed, and keeps its target id', async () => {
      const k = next();
      const record = contractRecord(k, h.valid(Number(k)));

      const [first] = await h.connector.upsertBatch(h.object, [record]);
      const [second] = await h.connector.upsertBatch(h.object, [record]);
      const [newer] = await h.connector.upsertBatch(h.object, [contractRecord(k, h.valid(Number(k)), 2)]);

      expect(ok(second).targetId).toBe(ok(first).targetId);
      expect(ok(newer).targetId).toBe(ok(first).targetId);
      expect(await h.count(`ext-${k}`)).toBe(1);
    });

    it('clears a field when the payload holds null (the declared default)', async () => {
      expect(h.connector.capabilities.nulls).toBe('clear');
      const k = next();
      await h.connector.upsertBatch(h.object, [contractRecord(k, h.valid(Number(k)))]);
      expect(await h.read(`ext-${k}`, h.clearable)).toBeTruthy();

      const payload = { ...h.valid(Number(k)), [h.clearable]: null };
      const [r] = await h.connector.upsertBatch(h.object, [contractRecord(k, payload, 2)]);

      ok(r);
      expect(await h.read(`ext-${k}`, h.clearable)).toBeFalsy();
    });

    it('looks a record up by external id, and finds nothing for an unknown one', async () => {
      const k = next();
      const [w] = await h.connector.upsertBatch(h.object, [contractRecord(k, h.valid(Number(k)))]);

      const found = await h.connector.lookup(h.object, `ext-${k}`);
      const missing = await h.connector.lookup(h.object, `ext-missing-${k}`);

      expect(found).toMatchObject({ targetId: ok(w).targetId, externalId: `ext-${k}` });
      expect(missing).toBeUndefined();
    });
  });
}

import { describe, expect, it } from 'vitest';
import type { UpsertRecord } from '../../../shared/connectors/Connector.ts';
import { TargetError } from '../../../shared/errors.ts';
import { type CallStats, callTarget, type TargetWrite } from '../../../shared/write/callTarget.ts';
import type { SharedRateLimiter } from '../../../shared/write/SharedRateLimiter.ts';
import { type CallFault, MemoryTarget, type TargetMode } from '../../helpers/MemoryTarget.ts';

const record = (key: string, over: Partial<UpsertRecord> = {}): UpsertRecord => ({
  key,
  externalId: key,
  idempotencyKey: `s:${key}`,
  payload: { email: `${key}@example.test`, name: `n${key}` },
  ...over,
});
const write = (key: string, recover = false, over: Partial<UpsertRecord> = {}): TargetWrite => ({
  record: record(key, over),
  recover,
});
const run = (target: MemoryTarget, writes: TargetWrite[], limiter?: SharedRateLimiter) => {
  const stats: CallStats = { calls: 0, failedCalls: 0 };
  return callTarget(target, 'things', writes, { limiter, maxRateWaitMs: 1000, stats }).then((results) => ({
    results,
    stats,
  }));
};
const timeout = () => new TargetError('MEMORY_TIMEOUT', 'no answer', { disposition: 'retryable' });
/** A target whose first create is applied but whose answer is lost (a crash after the target write). */
const afterLostAnswer = async (mode: TargetMode) => {
  let faults: (CallFault | undefined)[] = [{ kind: 'lose-answer', error: timeout() }];
  const target = new MemoryTarget({ mode, fault: () => faults.shift() });
  await run(target, [write('1')]);
  faults = [];
  return target;
};

describe('Function: callTarget', () => {
  describe('recovery by capability after a create whose answer was lost', () => {
    it('upserts again on a target with native upsert', async () => {
      // Prepare
      const target = await afterLostAnswer('native');
      // Act
      const { results } = await run(target, [write('1', true, { payload: { email: 'x@y', name: 'v2' } })]);
      // Assess
      expect(results.get('1')?.ok).toBe(true);
      expect(target.byExternalId('1')).toHaveLength(1);
      expect(target.byExternalId('1')[0]!.fields.name).toBe('v2');
      expect(target.calls.lookup).toBe(0);
    });

    it('replays the idempotency key, then updates the replayed record with the newer payload', async () => {
      // Prepare
      const target = await afterLostAnswer('idempotency');
      // Act
      const { results, stats } = await run(target, [
        write('1', true, { payload: { email: 'x@y', name: 'v2' } }),
      ]);
      // Assess
      const result = results.get('1');
      expect(result?.ok).toBe(true);
      expect(target.byExternalId('1')).toHaveLength(1);
      expect(target.byExternalId('1')[0]!.fields.name).toBe('v2');
      expect(result?.ok && result.targetId).toBe(target.byExternalId('1')[0]!.targetId);
      expect(stats.calls).toBe(2);
    });

    it('looks up by the match key and updates what it finds on a target without either', async () => {
      // Prepare
      const target = await afterLostAnswer('lookup');
      // Act
      const { results } = await run(target, [write('1', true, { payload: { email: 'x@y', name: 'v2' } })]);
      // Assess
      expect(results.get('1')?.ok).toBe(true);
      expect(target.calls.lookup).toBe(1);
      expect(target.byExternalId('1')).toHaveLength(1);
      expect(target.byExternalId('1')[0]!.fields.name).toBe('v2');
    });

    it('creates after a lookup that found nothing', async () => {
      // Prepare
      const target = new MemoryTarget({ mode: 'lookup' });
      // Act
      const { results } = await run(target, [write('1', true)]);
      // Assess
      expect(results.get('1')).toMatchObject({ ok: true, created: true });
      expect(target.calls).toMatchObject({ lookup: 1, creates: 1 });
    });

    it('never creates after a failed lookup', async () => {
      // Prepare: the first create is applied but its answer lost; then lookups fail.
      let fault: CallFault | undefined = { kind: 'lose-answer', error: timeout() };
      const target = new MemoryTarget({ mode: 'lookup', fault: () => fault });
      await run(target, [write('1')]);
      fault = { kind: 'refuse', error: timeout() };
      const before = { ...target.calls };
      // Act
      const { results } = await run(target, [write('1', true)]);
      // Assess
      expect(results.get('1')).toMatchObject({ ok: false, error: { code: 'MEMORY_TIMEOUT' } });
      expect(target.calls.lookup).toBe(before.lookup + 1);
      expect(target.calls.upsert).toBe(before.upsert);
      expect(target.byExternalId('1')).toHaveLength(1);
    });

    it('does not look up a record it has never tried to write', async () => {
      // Prepare
      const target = new MemoryTarget({ mode: 'lookup' });
      // Act
      await run(target, [write('1'), write('2')]);
      // Assess
      expect(target.calls).toMatchObject({ lookup: 0, upsert: 1, creates: 2 });
    });
  });

  it('writes a batch in one call with one result per record, partial success included', async () => {
    // Prepare
    const target = new MemoryTarget({ mode: 'native' });
    // Act
    const { results, stats } = await run(target, [
      write('1'),
      write('2', false, { payload: { email: 'not-an-email' } }),
      write('3'),
    ]);
    // Assess
    expect(stats.calls).toBe(1);
    expect([...results.values()].map((r) => [r.key, r.ok])).toEqual([
      ['1', true],
      ['2', false],
      ['3', true],
    ]);
    const bad = results.get('2');
    expect(!bad?.ok && bad?.error.disposition).toBe('permanent');
  });

  it('counts a call whose every record failed retryably as a failed call', async () => {
    // Prepare
    const target = new MemoryTarget({ mode: 'native', fault: () => ({ kind: 'refuse', error: timeout() }) });
    // Act
    const { results, stats } = await run(target, [write('1'), write('2')]);
    // Assess
    expect(stats).toEqual({ calls: 1, failedCalls: 1 });
    expect([...results.values()].every((r) => !r.ok && r.error.code === 'MEMORY_TIMEOUT')).toBe(true);
  });

  it('makes no call when the shared rate limit has no slot in time, and says when to come back', async () => {
    // Prepare
    const target = new MemoryTarget({ mode: 'native' });
    const limiter: SharedRateLimiter = {
      acquire: async () => ({ ok: false, retryAfterSeconds: 7 }),
      backOff: async () => undefined,
    };
    // Act
    const { results } = await run(target, [write('1')], limiter);
    // Assess
    expect(target.calls.upsert).toBe(0);
    expect(results.get('1')).toMatchObject({
      ok: false,
      error: { code: 'WB_RATE_LIMIT_WAIT', disposition: 'retryable', retryAfterSeconds: 7 },
    });
  });

  it('pushes every writer back by Retry-After when the target answers 429', async () => {
    // Prepare
    const backOffs: number[] = [];
    const limiter: SharedRateLimiter = {
      acquire: async () => ({ ok: true, waitedMs: 0 }),
      backOff: async (s) => {
        backOffs.push(s);
      },
    };
    const limited = new TargetError('MEMORY_RATE_LIMITED', '429', {
      disposition: 'retryable',
      httpStatus: 429,
      retryAfterSeconds: 3,
    });
    const target = new MemoryTarget({ mode: 'native', fault: () => ({ kind: 'refuse', error: limited }) });
    // Act
    await run(target, [write('1')], limiter);
    // Assess
    expect(backOffs).toEqual([3]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../../shared/aws/awsClients.ts';
import { LinkStoreUnavailableError, TargetError } from '../../../shared/errors.ts';
import { DynamoLinkStore } from '../../../shared/links/DynamoLinkStore.ts';
import { PARENT_TARGET_ID } from '../../../shared/queue/WriteMessage.ts';
import { processWriteBatch, type WriteStep } from '../../../shared/write/processWriteBatch.ts';
import { type EmulatorFixture, startEmulatorFixture } from '../../helpers/emulatorFixture.ts';
import { type CallFault, MemoryTarget, type TargetMode } from '../../helpers/MemoryTarget.ts';
import { delivered, message, testSync, WriteRecorder } from '../../helpers/writeHarness.ts';

/** Throws at one step for one key: the writer process dies right there. */
const crashAt = (step: WriteStep, key: string) => ({
  at: (s: WriteStep, k: string) => {
    if (s === step && k === key) throw new Error(`injected crash at ${step}`);
  },
});
const ONE_HOUR = 3_600_000;

describe(`Function: processWriteBatch (links in ${process.env.WB_DYNAMODB === 'local' ? 'DynamoDB Local' : 'dynalite'}, in-memory target)`, () => {
  let fx: EmulatorFixture;
  let syncNo = 0;
  /** A sync of its own per test, so links never collide. */
  const freshSync = (over: Parameters<typeof testSync>[0] = {}) =>
    testSync({ name: `people-${++syncNo}`, ...over });

  beforeAll(async () => {
    fx = await startEmulatorFixture();
  });
  afterAll(async () => {
    await fx?.stop();
  });

  describe('batching', () => {
    it("writes in the target's batch size with one result per record", async () => {
      // Prepare
      const sync = freshSync({ batchSize: 10 });
      const target = new MemoryTarget({ mode: 'native' });
      const rec = new WriteRecorder();
      const msgs = Array.from({ length: 25 }, (_, i) => delivered(message(sync, String(i), 1)));
      // Act
      const res = await processWriteBatch(sync, msgs, rec.deps(fx.links, target));
      // Assess
      expect(target.calls.upsert).toBe(3);
      expect(res).toMatchObject({ retry: [], counts: { created: 25 } });
      const links = await fx.links.batchGet(
        sync.name,
        msgs.map((_, i) => String(i)),
      );
      expect([...links.values()].every((l) => l.status === 'ok' && l.targetId !== undefined)).toBe(true);
    });

    it('lets one bad record fail alone: the DLQ gets it with its reason, the batch goes on', async () => {
      // Prepare
      const sync = freshSync();
      const target = new MemoryTarget({ mode: 'native' });
      const rec = new WriteRecorder();
      const bad = message(sync, 'bad', 1, { email: 'not-an-email' });
      // Act
      const res = await processWriteBatch(
        sync,
        [delivered(message(sync, 'a', 1)), delivered(bad, 2), delivered(message(sync, 'b', 1))],
        rec.deps(fx.links, target),
      );
      // Assess
      expect(res.retry).toEqual([]);
      expect(res.counts).toMatchObject({ created: 2, failed: 1 });
      expect(rec.dlq).toHaveLength(1);
      expect(rec.dlq[0]!.reason).toMatchObject({
        code: 'MEMORY_VALIDATION_ERROR',
        httpStatus: 400,
        attempts: 2,
        key: 'bad',
        sync: sync.name,
      });
      expect(JSON.parse(rec.dlq[0]!.body)).toMatchObject({ key: 'bad', version: '1' });
      expect(await fx.links.get(sync.name, 'bad')).toMatchObject({
        status: 'failed',
        lastError: { code: 'MEMORY_VALIDATION_ERROR', httpStatus: 400 },
      });
    });
  });

  describe('no target call', () => {
    it('for a duplicate delivery', async () => {
      // Prepare
      const sync = freshSync();
      const target = new MemoryTarget({ mode: 'native' });
      const rec = new WriteRecorder();
      const msg = message(sync, 'a', 1);
      await processWriteBatch(sync, [delivered(msg)], rec.deps(fx.links, target));
      // Act
      const res = await processWriteBatch(sync, [delivered(msg), delivered(msg)], rec.deps(fx.links, target));
      // Assess
      expect(target.calls.upsert).toBe(1);
      expect(res.counts.unchanged).toBe(1);
    });

    it('for a stale message (an older source version than the link holds)', async () => {
      // Prepare
      const sync = freshSync();
      const target = new MemoryTarget({ mode: 'native' });
      const rec = new WriteRecorder();
      await processWriteBatch(sync, [delivered(message(sync, 'a', 2))], rec.deps(fx.links, target));
      // Act
      const res = await processWriteBatch(
        sync,
        [delivered(message(sync, 'a', 1))],
        rec.deps(fx.links, target),
      );
      // Assess
      expect(target.calls.upsert).toBe(1);
      expect(res.counts.stale).toBe(1);
      expect(target.byExternalId('a')[0]!.fields.name).toBe('v2');
    });

    it('for a newer version with unchanged content, and a reordered older one after it is stale', async () => {
      // Prepare
      const sync = freshSync();
      const target = new MemoryTarget({ mode: 'native' });
      const rec = new WriteRecorder();
      const same = { email: 'a@example.test', name: 'A' };
      await processWriteBatch(sync, [delivered(message(sync, 'a', 1, same))], rec.deps(fx.links, target));
      // Act
      const touched = await processWriteBatch(
        sync,
        [delivered(message(sync, 'a', 3, same))],
        rec.deps(fx.links, target),
      );
      const reordered = await processWriteBatch(
        sync,
        [delivered(message(sync, 'a', 2, { email: 'a@example.test', name: 'B' }))],
        rec.deps(fx.links, target),
      );
      // Assess
      expect(touched.counts.unchanged).toBe(1);
      expect(reordered.counts.stale).toBe(1);
      expect(target.calls.upsert).toBe(1);
      expect(target.byExternalId('a')[0]!.fields.name).toBe('A');
    });
  });

  describe('concurrent writers', () => {
    it('let one writer write a key while the other backs off (partial batch failure)', async () => {
      // Prepare
      const sync = freshSync();
      const target = new MemoryTarget({ mode: 'lookup', latencyMs: () => 50 });
      const rec = new WriteRecorder();
      const one = delivered(message(sync, 'a', 1));
      const two = delivered(message(sync, 'a', 1));
      // Act
      const [r1, r2] = await Promise.all([
        processWriteBatch(sync, [one], rec.deps(fx.links, target)),
        processWriteBatch(sync, [two], rec.deps(fx.links, target)),
      ]);
      // Assess
      expect(target.byExternalId('a')).toHaveLength(1);
      expect(r1.counts.busy + r2.counts.busy).toBe(1);
      expect([...r1.retry, ...r2.retry]).toHaveLength(1);
      const busyOne = r1.retry.length === 1 ? one : two;
      expect(rec.delays.get(busyOne.receiptHandle)).toBeGreaterThan(0);
    });
  });

  describe.each<TargetMode>(['native', 'idempotency', 'lookup'])('crash recovery on a %s target', (mode) => {
    it('writes exactly one record when the writer dies between the target write and the commit', async () => {
      // Prepare
      const sync = freshSync();
      const target = new MemoryTarget({ mode });
      const rec = new WriteRecorder();
      const crashed = processWriteBatch(
        sync,
        [delivered(message(sync, 'a', 1))],
        rec.deps(fx.links, target, { faults: crashAt('written', 'a') }),
      );
      await expect(crashed).rejects.toThrow('injected crash at written');
      // Act: the newer version arrives once the dead writer's lease has run out.
      const later = () => Date.now() + ONE_HOUR;
      const res = await processWriteBatch(
        sync,
        [delivered(message(sync, 'a', 2))],
        rec.deps(fx.links, target, { now: later }),
      );
      // Assess
      expect(res.retry).toEqual([]);
      expect(target.byExternalId('a')).toHaveLength(1);
      expect(target.byExternalId('a')[0]!.fields.name).toBe('v2');
      expect(await fx.links.get(sync.name, 'a')).toMatchObject({
        status: 'ok',
        version: '2',
        targetId: target.byExternalId('a')[0]!.targetId,
      });
    });

    it('writes exactly one record when the answer to a create is lost, on redelivery of the same message', async () => {
      // Prepare
      const sync = freshSync();
      let fault: CallFault | undefined = {
        kind: 'lose-answer',
        error: new TargetError('MEMORY_TIMEOUT', 'no answer', { disposition: 'retryable' }),
      };
      const target = new MemoryTarget({ mode, fault: () => fault });
      const rec = new WriteRecorder();
      const msg = message(sync, 'a', 1);
      const first = await processWriteBatch(sync, [delivered(msg)], rec.deps(fx.links, target));
      fault = undefined;
      // Act
      const second = await processWriteBatch(sync, [delivered(msg, 2)], rec.deps(fx.links, target));
      // Assess
      expect(first.counts.retrying).toBe(1);
      expect(second.retry).toEqual([]);
      expect(target.byExternalId('a')).toHaveLength(1);
      expect((await fx.links.get(sync.name, 'a'))?.status).toBe('ok');
    });

    it('writes once after a crash between the claim and the target call', async () => {
      // Prepare
      const sync = freshSync();
      const target = new MemoryTarget({ mode });
      const rec = new WriteRecorder();
      const msg = message(sync, 'a', 1);
      await expect(
        processWriteBatch(
          sync,
          [delivered(msg)],
          rec.deps(fx.links, target, { faults: crashAt('claimed', 'a') }),
        ),
      ).rejects.toThrow();
      // Act
      const early = await processWriteBatch(sync, [delivered(msg, 2)], rec.deps(fx.links, target));
      const late = await processWriteBatch(
        sync,
        [delivered(msg, 3)],
        rec.deps(fx.links, target, { now: () => Date.now() + ONE_HOUR }),
      );
      // Assess
      expect(early.counts.busy).toBe(1);
      expect(late.counts.created).toBe(1);
      expect(target.byExternalId('a')).toHaveLength(1);
    });
  });

  describe('parent references', () => {
    const child = (
      sync: ReturnType<typeof testSync>,
      key: string,
      parentSync: string,
      parentKey: string,
    ) => ({
      ...message(sync, key, 1, {
        email: `${key}@example.test`,
        company: PARENT_TARGET_ID,
        note: `of ${PARENT_TARGET_ID}`,
      }),
      parent: { sync: parentSync, key: parentKey },
    });

    it("writes a child with its parent's target id in place of the placeholder", async () => {
      // Prepare
      const parents = freshSync();
      const children = freshSync();
      const target = new MemoryTarget({ mode: 'native' });
      const rec = new WriteRecorder();
      await processWriteBatch(parents, [delivered(message(parents, 'p1', 1))], rec.deps(fx.links, target));
      const parentId = (await fx.links.get(parents.name, 'p1'))!.targetId!;
      // Act
      const res = await processWriteBatch(
        children,
        [delivered(child(children, 'c1', parents.name, 'p1'))],
        rec.deps(fx.links, target),
      );
      // Assess
      expect(res.counts.created).toBe(1);
      expect(target.byExternalId('c1')[0]!.fields).toMatchObject({
        company: parentId,
        note: `of ${parentId}`,
      });
    });

    it('lets a child wait, without a target call, while its parent is not linked', async () => {
      // Prepare
      const children = freshSync();
      const target = new MemoryTarget({ mode: 'native' });
      const rec = new WriteRecorder();
      const msg = delivered(child(children, 'c1', 'no-such-parent-sync', 'p1'));
      // Act
      const res = await processWriteBatch(children, [msg], rec.deps(fx.links, target));
      // Assess
      expect(target.calls.upsert).toBe(0);
      expect(res.retry).toEqual([msg.messageId]);
      expect(await fx.links.get(children.name, 'c1')).toMatchObject({
        status: 'retrying',
        lastError: { code: 'WB_PARENT_NOT_LINKED' },
      });
    });
  });

  describe('failures', () => {
    it('reports a retryable failure in batchItemFailures with a backoff of at least Retry-After', async () => {
      // Prepare
      const sync = freshSync();
      const limited = new TargetError('MEMORY_RATE_LIMITED', 'too many requests', {
        disposition: 'retryable',
        httpStatus: 429,
        retryAfterSeconds: 30,
      });
      const target = new MemoryTarget({ mode: 'native', fault: () => ({ kind: 'refuse', error: limited }) });
      const rec = new WriteRecorder();
      const msg = delivered(message(sync, 'a', 1), 2);
      // Act
      const res = await processWriteBatch(sync, [msg], rec.deps(fx.links, target));
      // Assess
      expect(res.retry).toEqual([msg.messageId]);
      expect(rec.delays.get(msg.receiptHandle)).toBeGreaterThanOrEqual(30);
      expect(rec.dlq).toEqual([]);
      expect(await fx.links.get(sync.name, 'a')).toMatchObject({
        status: 'retrying',
        attempts: 1,
        lastError: { code: 'MEMORY_RATE_LIMITED', httpStatus: 429 },
      });
    });

    it('dead-letters a record whose retries are exhausted, with its last error, two deliveries before SQS would', async () => {
      // Prepare
      const sync = freshSync({ maxReceiveCount: 5 });
      const down = new TargetError('MEMORY_SERVER_ERROR', 'service unavailable', {
        disposition: 'retryable',
        httpStatus: 503,
      });
      const target = new MemoryTarget({ mode: 'native', fault: () => ({ kind: 'refuse', error: down }) });
      const rec = new WriteRecorder();
      const msg = message(sync, 'a', 1);
      // Act
      const second = await processWriteBatch(sync, [delivered(msg, 2)], rec.deps(fx.links, target));
      const third = await processWriteBatch(sync, [delivered(msg, 3)], rec.deps(fx.links, target));
      // Assess
      expect(second.counts.retrying).toBe(1);
      expect(third.retry).toEqual([]);
      expect(third.counts.dead).toBe(1);
      expect(rec.dlq[0]!.reason).toMatchObject({ code: 'MEMORY_SERVER_ERROR', httpStatus: 503, attempts: 3 });
      expect(await fx.links.get(sync.name, 'a')).toMatchObject({
        status: 'dead',
        lastError: { code: 'MEMORY_SERVER_ERROR', message: 'service unavailable', httpStatus: 503 },
      });
    });

    it('dead-letters unreadable messages and rows map() refused, without a target call', async () => {
      // Prepare
      const sync = freshSync();
      const target = new MemoryTarget({ mode: 'native' });
      const rec = new WriteRecorder();
      const invalid = {
        ...message(sync, 'a', 1),
        payload: {},
        invalid: { code: 'WB_MAP_FAILED', message: 'map: email missing' },
      };
      // Act
      const res = await processWriteBatch(
        sync,
        [delivered(invalid), delivered(invalid, 1, '{not json')],
        rec.deps(fx.links, target),
      );
      // Assess
      expect(target.calls.upsert).toBe(0);
      expect(res.counts.failed).toBe(2);
      expect(rec.dlq.map((d) => d.reason.code).sort()).toEqual(['WB_MAP_FAILED', 'WB_MESSAGE_INVALID']);
      expect((await fx.links.get(sync.name, 'a'))?.status).toBe('failed');
    });

    it('aborts before any target call when the link store is unreachable', async () => {
      // Prepare
      const sync = freshSync();
      const target = new MemoryTarget({ mode: 'native' });
      const rec = new WriteRecorder();
      const down = createAwsClients({ dynamodb: 'http://127.0.0.1:9', sqs: 'http://127.0.0.1:9' });
      const links = new DynamoLinkStore(down.ddb, 'nowhere');
      // Act
      const res = processWriteBatch(sync, [delivered(message(sync, 'a', 1))], rec.deps(links, target));
      // Assess
      await expect(res).rejects.toBeInstanceOf(LinkStoreUnavailableError);
      expect(target.calls.upsert).toBe(0);
      down.ddb.destroy();
      down.sqs.destroy();
    });

    it('reports target calls and outright failures to the health buckets', async () => {
      // Prepare
      const sync = freshSync();
      const down = new TargetError('MEMORY_SERVER_ERROR', '503', {
        disposition: 'retryable',
        httpStatus: 503,
      });
      const target = new MemoryTarget({ mode: 'native', fault: () => ({ kind: 'refuse', error: down }) });
      const rec = new WriteRecorder();
      // Act
      await processWriteBatch(sync, [delivered(message(sync, 'a', 1))], rec.deps(fx.links, target));
      await processWriteBatch(sync, [delivered(message(sync, 'b', 1))], rec.deps(fx.links, target));
      // Assess
      const stats = await fx.links.health.read(sync.name, Date.now(), 60_000);
      expect(stats).toMatchObject({ calls: 2, failedCalls: 2 });
      expect(stats.lagMs).toBeGreaterThanOrEqual(0);
    });
  });

  describe('deadline', () => {
    it('starts a chunk only while its call fits in the time left: the rest goes back unclaimed, links untouched', async () => {
      // Prepare: 6 records in chunks of 2; each target call takes 80 s of a 100 s budget (a clock
      // injected as the remaining time), 30 s are kept for a call and its commits
      const sync = freshSync({ batchSize: 2 });
      const target = new MemoryTarget({ mode: 'native' });
      const rec = new WriteRecorder();
      const msgs = ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => delivered(message(sync, k, 1)));
      const remainingMs = () => 100_000 - 80_000 * target.calls.upsert;
      // Act
      const res = await processWriteBatch(sync, msgs, rec.deps(fx.links, target), {
        remainingMs,
        reserveMs: 30_000,
      });
      // Assess: the first chunk written, the other two handed back at once, not counted as failures
      expect(target.calls.upsert).toBe(1);
      expect(res.counts).toMatchObject({ created: 2, deferred: 4, retrying: 0, failed: 0, dead: 0 });
      expect(res.retry.sort()).toEqual(
        msgs
          .slice(2)
          .map((m) => m.messageId)
          .sort(),
      );
      for (const m of msgs.slice(2)) expect(rec.delays.get(m.receiptHandle)).toBe(0);
      expect(rec.dlq).toEqual([]);
      const links = await fx.links.batchGet(sync.name, ['a', 'b', 'c', 'd', 'e', 'f'], { consistent: true });
      expect([...links.keys()].sort()).toEqual(['a', 'b']);
      expect(links.get('a')).toMatchObject({ status: 'ok', attempts: 0 });
    });

    it('always starts the first chunk: the reserve is at most half the time left at the start', async () => {
      // Prepare: a reserve larger than the whole budget (a misconfiguration) must not stall the queue
      const sync = freshSync({ batchSize: 2 });
      const target = new MemoryTarget({ mode: 'native' });
      const rec = new WriteRecorder();
      const msgs = ['a', 'b', 'c'].map((k) => delivered(message(sync, k, 1)));
      // Act
      const res = await processWriteBatch(sync, msgs, rec.deps(fx.links, target), {
        remainingMs: () => 10_000 - 6_000 * target.calls.upsert,
        reserveMs: 60_000,
      });
      // Assess
      expect(res.counts).toMatchObject({ created: 2, deferred: 1 });
    });
  });

  describe('refused credentials', () => {
    const unauthorized = () =>
      new TargetError('MEMORY_UNAUTHORIZED', 'Memory 401: the token is revoked', {
        disposition: 'permanent',
        httpStatus: 401,
      });
    /** A target that refuses every call for its credentials. */
    const revoked = () =>
      new MemoryTarget({ mode: 'native', fault: () => ({ kind: 'refuse', error: unauthorized() }) });
    /** A credential source over two connectors: the one in use, and the one a re-read gives. */
    const source = (current: MemoryTarget, reread: MemoryTarget) => {
      const calls = { current: 0, reconnect: 0 };
      return {
        calls,
        credentials: {
          name: 'writeback/memory',
          current: async () => {
            calls.current++;
            return current;
          },
          reconnect: async () => {
            calls.reconnect++;
            return reread;
          },
        },
      };
    };

    it('re-reads the credentials once and repeats the refused call with the new connector before failing anything', async () => {
      // Prepare: the secret was rotated; this container still holds the old token
      const sync = freshSync({ batchSize: 2 });
      const old = revoked();
      const rotated = new MemoryTarget({ mode: 'native' });
      const { calls, credentials } = source(old, rotated);
      const rec = new WriteRecorder();
      const msgs = ['a', 'b', 'c'].map((k) => delivered(message(sync, k, 1)));
      // Act
      const res = await processWriteBatch(sync, msgs, rec.deps(fx.links, old, { credentials }));
      // Assess: one re-read for the batch; the refused chunk repeated, the next chunk on the new connector
      expect(calls).toEqual({ current: 1, reconnect: 1 });
      expect(old.calls.upsert).toBe(1);
      expect(rotated.calls.upsert).toBe(2);
      expect(res).toMatchObject({ retry: [], counts: { created: 3, authRefused: 0, failed: 0 } });
      expect(rec.dlq).toEqual([]);
      expect((await fx.links.health.read(sync.name, Date.now(), 60_000)).auth).toBeUndefined();
    });

    it('hands the records back with a long backoff and opens an auth outage when the re-read does not help; never the DLQ', async () => {
      // Prepare: the token is revoked and the secret still holds it (the re-read gives the same connector)
      const sync = freshSync({ maxReceiveCount: 5 });
      const target = revoked();
      const { credentials } = source(target, target);
      const rec = new WriteRecorder();
      const msgs = ['a', 'b'].map((k) => delivered(message(sync, k, 1)));
      // Act
      const res = await processWriteBatch(sync, msgs, rec.deps(fx.links, target, { credentials }));
      // Assess
      expect(target.calls.upsert).toBe(1);
      expect(res.counts).toMatchObject({ authRefused: 2, failed: 0, dead: 0, retrying: 0 });
      expect(res.retry.sort()).toEqual(msgs.map((m) => m.messageId).sort());
      for (const m of msgs) expect(rec.delays.get(m.receiptHandle)).toBe(900);
      expect(rec.dlq).toEqual([]);
      expect(await fx.links.get(sync.name, 'a')).toMatchObject({
        status: 'retrying',
        lastError: { code: 'MEMORY_UNAUTHORIZED', httpStatus: 401 },
      });
      expect(await fx.links.get(sync.name, 'a')).not.toHaveProperty('leaseUntil', expect.any(Number));
      const { auth } = await fx.links.health.read(sync.name, Date.now(), 60_000);
      expect(auth).toMatchObject({
        code: 'MEMORY_UNAUTHORIZED',
        httpStatus: 401,
        connection: 'memory',
        secret: 'writeback/memory',
      });
    });

    it('parks a refused record on the delivery that would dead-letter it: acknowledged, link retrying, DLQ empty', async () => {
      // Prepare: maxReceiveCount 5 → the writer's own budget is 3 deliveries
      const sync = freshSync({ maxReceiveCount: 5 });
      const target = revoked();
      const rec = new WriteRecorder();
      // Act
      const res = await processWriteBatch(
        sync,
        [delivered(message(sync, 'a', 1), 3), delivered(message(sync, 'b', 1), 2)],
        rec.deps(fx.links, target),
      );
      // Assess: a is parked (not handed back, no DLQ), b comes back
      expect(res.counts).toMatchObject({ authRefused: 2, dead: 0 });
      expect(res.retry).toHaveLength(1);
      expect(rec.dlq).toEqual([]);
      expect(await fx.links.get(sync.name, 'a')).toMatchObject({
        status: 'retrying',
        lastError: { code: 'MEMORY_UNAUTHORIZED' },
      });
    });

    it('ends the auth outage with the first call that goes through again', async () => {
      // Prepare: refused once, then the secret is updated
      const sync = freshSync();
      const rec = new WriteRecorder();
      await processWriteBatch(sync, [delivered(message(sync, 'a', 1))], rec.deps(fx.links, revoked()));
      expect((await fx.links.health.read(sync.name, Date.now(), 60_000)).auth).toBeDefined();
      // Act
      const res = await processWriteBatch(
        sync,
        [delivered(message(sync, 'a', 1), 2)],
        rec.deps(fx.links, new MemoryTarget({ mode: 'native' })),
      );
      // Assess
      expect(res.counts).toMatchObject({ created: 1 });
      expect((await fx.links.health.read(sync.name, Date.now(), 60_000)).auth).toBeUndefined();
      expect(await fx.links.get(sync.name, 'a')).toMatchObject({ status: 'ok', attempts: 0 });
    });
  });
});

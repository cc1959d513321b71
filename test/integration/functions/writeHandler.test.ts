import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { publishMetrics } from '../../../functions/runMetrics.ts';
import { createWriteHandler } from '../../../functions/write.ts';
import type { WritebackConfig } from '../../../shared/config/schema.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE, WRITE_METRICS } from '../../../shared/contracts/metricNames.ts';
import { TargetError } from '../../../shared/errors.ts';
import { WriteMessageSchema } from '../../../shared/queue/WriteMessage.ts';
import { contentHash } from '../../../shared/util/contentHash.ts';
import { DLQ_ATTRIBUTES, SqsDeadLetterSink } from '../../../shared/write/DeadLetterSink.ts';
import { captureEmf, emfMetrics } from '../../helpers/emf.ts';
import { type EmulatorFixture, startEmulatorFixture } from '../../helpers/emulatorFixture.ts';
import { MemoryTarget } from '../../helpers/MemoryTarget.ts';
import { message, testSync } from '../../helpers/writeHarness.ts';

/**
 * The write handler as Lambda calls it: an SQS event as the event source mapping delivers it
 * (test/fixtures/sqs/writeBatch.json), answered with the partial batch response. Links live in
 * the DynamoDB emulator and dead letters go to the sync's DLQ in the SQS emulator; the target is
 * the in-memory fake, which answers each record on its own.
 */
const EVENT = JSON.parse(
  readFileSync(new URL('../../fixtures/sqs/writeBatch.json', import.meta.url), 'utf8'),
) as SQSEvent;
/** The fixture's records by what the target makes of them. */
const [VALID, RATE_LIMITED, INVALID] = EVENT.Records.map((r) => ({
  record: r,
  key: WriteMessageSchema.parse(JSON.parse(r.body)).key,
}));
/** The target's Retry-After for the rate-limited record, seconds. */
const RETRY_AFTER = 30;

const context = {
  functionName: 'Writeback-SyncPeopleWriteFunction',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:Writeback-SyncPeopleWriteFunction',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  getRemainingTimeInMillis: () => 60_000,
} as Context;

describe('Handler: write (an SQS event fixture, links and DLQ in the emulators, in-memory target)', () => {
  const sync = testSync({ name: 'people', maxReceiveCount: 5 });
  const config: WritebackConfig = { warehouse: {}, connections: {}, syncs: [sync] };
  let fx: EmulatorFixture;
  let target: MemoryTarget;
  /** The sync each invocation was resolved to from the event source ARN. */
  let sources: string[];
  /** Visibility changes the handler asked for, by receipt handle (ChangeMessageVisibility). */
  let delays: Map<string, number>;

  const handler = (metrics?: Metrics) =>
    createWriteHandler(
      async () => ({
        config,
        logger: new Logger({ logLevel: 'SILENT' }),
        syncForSource: (arn) => {
          sources.push(arn);
          return arn === VALID!.record.eventSourceARN ? sync.name : '';
        },
        depsFor: () => ({
          links: fx.links,
          connector: target,
          deadLetters: new SqsDeadLetterSink(fx.aws.sqs, fx.resources.queues[sync.name]!.dlqUrl),
          delay: async (receiptHandle, seconds) => {
            delays.set(receiptHandle, seconds);
          },
          now: Date.now,
          newToken: randomUUID,
        }),
      }),
      metrics ? { metrics } : {},
    );

  /** Every message in the sync's DLQ, with its reason attributes. */
  const deadLetters = async () => {
    const res = await fx.aws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: fx.resources.queues[sync.name]!.dlqUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 0,
      }),
    );
    return (res.Messages ?? []).map((m) => ({
      body: m.Body,
      attributes: Object.fromEntries(
        Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue]),
      ),
    }));
  };

  beforeAll(async () => {
    fx = await startEmulatorFixture([sync]);
  });
  afterAll(async () => fx?.stop());
  beforeEach(() => {
    target = new MemoryTarget({
      mode: 'native',
      // 429 for one record, as a target that rate-limits per record answers it.
      refuse: (r) =>
        r.key === RATE_LIMITED!.key
          ? new TargetError('MEMORY_RATE_LIMITED', 'too many requests for this record', {
              disposition: 'retryable',
              httpStatus: 429,
              retryAfterSeconds: RETRY_AFTER,
            })
          : undefined,
    });
    sources = [];
    delays = new Map();
  });

  it('holds a valid, a rate-limited and an invalid record of one sync, as the extract sends them', () => {
    // Assess: the fixture is what the writer will read (hashes match, one sync, one queue)
    expect(EVENT.Records).toHaveLength(3);
    for (const r of EVENT.Records) {
      const msg = WriteMessageSchema.parse(JSON.parse(r.body));
      expect(msg.sync).toBe(sync.name);
      expect(msg.hash).toBe(contentHash(msg.payload));
      expect(r.eventSourceARN).toBe(VALID!.record.eventSourceARN);
    }
    expect(new Set(EVENT.Records.map((r) => r.messageId)).size).toBe(3);
  });

  it('hands back exactly the rate-limited record; writes the valid one; dead-letters the invalid one with its reason', async () => {
    // Prepare: the handler as the Lambda entry point wires it, metrics published when it returns
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
    // Act
    let res: unknown;
    const emf = await captureEmf(async () => {
      res = await handler(metrics).use(publishMetrics(metrics))(EVENT, context);
    });
    // Assess: the partial batch response names only the record to retry
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: RATE_LIMITED!.record.messageId }] });
    expect(sources).toEqual([VALID!.record.eventSourceARN]);
    // ...which is delayed at least by the target's Retry-After, on its own receipt handle
    expect([...delays.keys()]).toEqual([RATE_LIMITED!.record.receiptHandle]);
    expect(delays.get(RATE_LIMITED!.record.receiptHandle)).toBeGreaterThanOrEqual(RETRY_AFTER);
    // the valid record is in the target, and only it
    expect(target.all()).toEqual([
      expect.objectContaining({
        externalId: VALID!.key,
        fields: { email: 'ada@example.com', name: 'Ada Lovelace' },
      }),
    ]);
    // the invalid record is in the DLQ with the original body and the target's reason
    const dlq = await deadLetters();
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.body).toBe(INVALID!.record.body);
    expect(dlq[0]!.attributes).toMatchObject({
      [DLQ_ATTRIBUTES.code]: 'MEMORY_VALIDATION_ERROR',
      [DLQ_ATTRIBUTES.message]: expect.stringContaining('not-an-email is not an email address'),
      [DLQ_ATTRIBUTES.httpStatus]: '400',
      [DLQ_ATTRIBUTES.sync]: sync.name,
      [DLQ_ATTRIBUTES.key]: INVALID!.key,
      [DLQ_ATTRIBUTES.attempts]: INVALID!.record.attributes.ApproximateReceiveCount,
    });
    // and the links say the same: written, waiting for a retry, failed for good
    const links = await fx.links.batchGet(sync.name, [VALID!.key, RATE_LIMITED!.key, INVALID!.key]);
    expect(links.get(VALID!.key)).toMatchObject({ status: 'ok', targetId: target.all()[0]!.targetId });
    expect(links.get(RATE_LIMITED!.key)).toMatchObject({
      status: 'retrying',
      targetId: undefined,
      lastError: { code: 'MEMORY_RATE_LIMITED', httpStatus: 429 },
    });
    expect(links.get(INVALID!.key)).toMatchObject({
      status: 'failed',
      lastError: { code: 'MEMORY_VALIDATION_ERROR', httpStatus: 400 },
    });
    // and the sync's write metrics count one of each
    const published = emfMetrics(emf);
    expect(Object.fromEntries(published.map((m) => [m.name, m.value]))).toEqual({
      [WRITE_METRICS.written]: 1,
      [WRITE_METRICS.failed]: 1,
      [WRITE_METRICS.retrying]: 1,
    });
    for (const m of published) {
      expect(m).toMatchObject({
        namespace: METRICS_NAMESPACE,
        dimensions: { service: METRICS_SERVICE, sync: sync.name },
      });
    }
  });

  describe('a sync of its own', () => {
    /** The handler for `own`, writing through `connector`; its events carry one message per key. */
    const ownHandler = (own: ReturnType<typeof testSync>, connector: MemoryTarget, metrics?: Metrics) =>
      createWriteHandler(
        async () => ({
          config: { warehouse: {}, connections: {}, syncs: [own] },
          logger: new Logger({ logLevel: 'SILENT' }),
          syncForSource: () => own.name,
          depsFor: () => ({
            links: fx.links,
            connector,
            deadLetters: new SqsDeadLetterSink(fx.aws.sqs, fx.resources.queues[sync.name]!.dlqUrl),
            delay: async (receiptHandle, seconds) => {
              delays.set(receiptHandle, seconds);
            },
            now: Date.now,
            newToken: randomUUID,
          }),
        }),
        metrics ? { metrics } : {},
      );
    const eventOf = (own: ReturnType<typeof testSync>, keys: readonly string[]): SQSEvent => ({
      Records: keys.map((key) => ({
        ...VALID!.record,
        messageId: randomUUID(),
        receiptHandle: randomUUID(),
        body: JSON.stringify(message(own, key, 1)),
      })),
    });

    it("hands back, before the deadline, the records it cannot start (the Lambda context's remaining time)", async () => {
      // Prepare: one record per target call; each call takes 40 s of the 60 s the invocation has
      const own = testSync({ name: 'people-deadline', batchSize: 1 });
      const slow = new MemoryTarget({ mode: 'native' });
      const event = eventOf(own, ['x', 'y', 'z']);
      const deadline = { ...context, getRemainingTimeInMillis: () => 60_000 - 40_000 * slow.calls.upsert };
      // Act
      const res = await ownHandler(own, slow)(event, deadline);
      // Assess: x written; y and z back at once, unclaimed
      expect(res).toEqual({
        batchItemFailures: event.Records.slice(1).map((r) => ({ itemIdentifier: r.messageId })),
      });
      expect(slow.calls.upsert).toBe(1);
      for (const r of event.Records.slice(1)) expect(delays.get(r.receiptHandle)).toBe(0);
      expect([...(await fx.links.batchGet(own.name, ['x', 'y', 'z'])).keys()]).toEqual(['x']);
    });

    it('publishes AuthFailures, and dead-letters nothing, when the target refuses the credentials', async () => {
      // Prepare
      const own = testSync({ name: 'people-revoked' });
      const revoked = new MemoryTarget({
        mode: 'native',
        fault: () => ({
          kind: 'refuse',
          error: new TargetError('MEMORY_UNAUTHORIZED', '401', { disposition: 'permanent', httpStatus: 401 }),
        }),
      });
      const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
      const event = eventOf(own, ['p', 'q']);
      // Act
      let res: unknown;
      const emf = await captureEmf(async () => {
        res = await ownHandler(own, revoked, metrics).use(publishMetrics(metrics))(event, context);
      });
      // Assess
      expect(res).toEqual({ batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) });
      expect(Object.fromEntries(emfMetrics(emf).map((m) => [m.name, m.value]))).toEqual({
        [WRITE_METRICS.authFailures]: 2,
      });
      expect((await deadLetters()).filter((m) => m.attributes[DLQ_ATTRIBUTES.sync] === own.name)).toEqual([]);
    });
  });
});

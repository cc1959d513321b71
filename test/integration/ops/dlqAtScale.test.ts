import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import { listDeadLetters, purgeDeadLetters, showDeadLetter } from '../../../shared/ops/dlq.ts';
import { OpsContext } from '../../../shared/ops/OpsContext.ts';
import { peekDeadLetters } from '../../../shared/ops/peekDeadLetters.ts';
import { progressInterval } from '../../../shared/ops/progressMeter.ts';
import { redriveDeadLetters } from '../../../shared/ops/redriveDeadLetters.ts';
import { forEachLimit } from '../../../shared/util/forEachLimit.ts';
import { DLQ_ATTRIBUTES } from '../../../shared/write/DeadLetterSink.ts';
import { type EmulatorFixture, startEmulatorFixture } from '../../helpers/emulatorFixture.ts';

const config = validateConfig({
  connections: { sink: { type: 'postgres', url: 'postgres://unused' } },
  syncs: [
    {
      name: 'people',
      source: { table: 'src.people', key: 'id', cursor: 'loaded_at' },
      target: { connection: 'sink', object: 'x', externalId: 'ext_id' },
      map: (row: Record<string, unknown>) => ({ email: row.email }),
    },
  ],
});

const fakeCreds = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Enough messages for 16 concurrent receivers to matter, few enough for CI. */
const N = 3000;

describe('DLQ commands on a DLQ of thousands of messages', () => {
  let fx: EmulatorFixture;
  let ctx: OpsContext;
  let dlqUrl: string;
  let queueUrl: string;
  const depth = async (url: string) => {
    const a = await fx.aws.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      visible: Number(a.Attributes?.ApproximateNumberOfMessages),
      hidden: Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible),
    };
  };

  /** N dead letters; keys 1..N, and `twice` keys failed a second time (a newer version). */
  const fill = async (twice = 0) => {
    const letters = [
      ...Array.from({ length: N - twice }, (_, i) => ({ key: String(i + 1), version: '1' })),
      ...Array.from({ length: twice }, (_, i) => ({ key: String(i + 1), version: '2' })),
    ];
    const batches = Array.from({ length: Math.ceil(letters.length / 10) }, (_, b) =>
      letters.slice(b * 10, b * 10 + 10),
    );
    await forEachLimit(batches, 16, async (batch) => {
      await fx.aws.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: batch.map((l, j) => ({
            Id: String(j),
            MessageBody: JSON.stringify({
              v: 1,
              sync: 'people',
              key: l.key,
              version: l.version,
              hash: `h${l.version}`,
              runId: 'run-1',
              enqueuedAt: '2026-01-01T00:00:00.000Z',
              payload: { email: `p${l.key}@example.com` },
            }),
            MessageAttributes: {
              [DLQ_ATTRIBUTES.key]: { DataType: 'String', StringValue: l.key },
              [DLQ_ATTRIBUTES.code]: { DataType: 'String', StringValue: 'WB_TARGET_REJECTED' },
              [DLQ_ATTRIBUTES.message]: { DataType: 'String', StringValue: 'invalid email' },
              [DLQ_ATTRIBUTES.failedAt]: {
                DataType: 'String',
                StringValue: `2026-01-0${l.version}T00:00:00.000Z`,
              },
            },
          })),
        }),
      );
    });
  };

  beforeAll(async () => {
    fx = await startEmulatorFixture(config.syncs);
    const q = fx.resources.queues.people!;
    dlqUrl = q.dlqUrl;
    queueUrl = q.url;
    ctx = new OpsContext({
      config,
      kind: 'local',
      description: 'test',
      resources: {
        stateTable: fx.resources.stateTable,
        linksTable: fx.resources.linksTable,
        syncs: { people: { queueUrl, dlqUrl } },
      },
      aws: fx.aws,
    });
    progressInterval.ms = 0;
  }, 60_000);
  afterAll(async () => {
    progressInterval.ms = 2000;
    await fx?.stop();
  });
  beforeEach(async () => {
    for (const url of [dlqUrl, queueUrl]) await purgeQueueNow(url);
  });
  const purgeQueueNow = async (url: string) => {
    const { PurgeQueueCommand } = await import('@aws-sdk/client-sqs');
    await fx.aws.sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
  };

  it('list reads every message, reports progress, and leaves the DLQ visible again as it returns', async () => {
    await fill();
    const lines: string[] = [];
    const entries = await listDeadLetters(ctx, 'people', {}, (l) => lines.push(l));
    expect(entries).toHaveLength(N);
    expect(new Set(entries.map((e) => e.key)).size).toBe(N);
    // every message visible again after list, within seconds
    await vi.waitFor(async () => expect((await depth(dlqUrl)).visible).toBe(N), { timeout: 3000 });
    expect(
      lines.some((l) => new RegExp(`^reading the DLQ: \\d+ of ~${N} \\(\\d+/s, \\d+ s\\)$`).test(l)),
    ).toBe(true);
    expect(lines.some((l) => l.startsWith(`reading the DLQ: ${N} of ~${N}`))).toBe(true);
    expect(lines.some((l) => l.startsWith('making the DLQ visible again: '))).toBe(true);
    // Nothing stays hidden: a receive gets the messages at once.
    const r = await fx.aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
    );
    expect(r.Messages).toHaveLength(10);
  }, 20_000);

  it('show finds one key among thousands and releases the rest', async () => {
    await fill(5);
    const d = await showDeadLetter(ctx, 'people', '3');
    expect(d.history.map((h) => h.version)).toEqual(['1', '2']);
    // every message visible again after show, within seconds
    await vi.waitFor(async () => expect((await depth(dlqUrl)).visible).toBe(N), { timeout: 3000 });
  }, 20_000);

  it('redrive --all moves every key to the queue once (the newest message), none lost, the DLQ empty', async () => {
    await fill(200);
    const lines: string[] = [];
    const r = await redriveDeadLetters(ctx, 'people', { from: 'stored', onProgress: (l) => lines.push(l) });
    expect(r.redriven).toHaveLength(N - 200);
    expect(r.messagesRemoved).toBe(N);
    expect(await depth(dlqUrl)).toEqual({ visible: 0, hidden: 0 });
    const sent = new Map<string, string>();
    for (;;) {
      const res = await fx.aws.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 600 }),
      );
      if (!res.Messages?.length) break;
      for (const m of res.Messages) {
        const body = JSON.parse(m.Body!) as { key: string; version: string };
        expect(sent.has(body.key)).toBe(false);
        sent.set(body.key, body.version);
      }
    }
    expect(sent.size).toBe(N - 200);
    expect(sent.get('1')).toBe('2');
    expect(sent.get('201')).toBe('1');
    expect(lines.some((l) => l.startsWith(`redriving: ${N - 200} of ~${N - 200}`))).toBe(true);
  }, 20_000);

  it('purge --key deletes only those keys, the rest visible again; purge --all empties the DLQ with PurgeQueue', async () => {
    await fill(10);
    const byKey = await purgeDeadLetters(ctx, 'people', { keys: ['1', '2', '3000'] });
    expect(byKey).toEqual({ messagesRemoved: 4, keys: 2 });
    // the other messages visible again after purge --key, within seconds
    await vi.waitFor(async () => expect((await depth(dlqUrl)).visible).toBe(N - 4), { timeout: 3000 });
    const all = await purgeDeadLetters(ctx, 'people');
    expect(all).toEqual({ messagesRemoved: N - 4, keys: undefined });
    expect(await depth(dlqUrl)).toEqual({ visible: 0, hidden: 0 });
  }, 20_000);

  it('purge --all within a minute of another (PurgeQueueInProgress) deletes by reading instead', async () => {
    await fill();
    const sqs = new SQSClient({
      endpoint: fx.emulators.sqsEndpoint,
      region: 'us-east-1',
      credentials: fakeCreds,
    });
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PurgeQueueCommand')
          throw Object.assign(new Error('Only one PurgeQueue operation is allowed every 60 seconds.'), {
            name: 'PurgeQueueInProgress',
          });
        return next(args);
      },
      { step: 'initialize', name: 'refusePurge' },
    );
    const refused = new OpsContext({
      config,
      kind: 'local',
      description: 'test',
      resources: {
        stateTable: fx.resources.stateTable,
        linksTable: fx.resources.linksTable,
        syncs: { people: { queueUrl, dlqUrl } },
      },
      aws: { ...fx.aws, sqs },
    });
    expect(await purgeDeadLetters(refused, 'people')).toEqual({ messagesRemoved: N, keys: undefined });
    expect(await depth(dlqUrl)).toEqual({ visible: 0, hidden: 0 });
    sqs.destroy();
  }, 20_000);

  it('a read slower than its hold (messages come back) still ends, each message once', async () => {
    await fill();
    const slow = new SQSClient({
      endpoint: fx.emulators.sqsEndpoint,
      region: 'us-east-1',
      credentials: fakeCreds,
    });
    let returned = 0;
    slow.middlewareStack.add(
      (next, context) => async (args) => {
        const res = await next(args);
        if (context.commandName === 'ReceiveMessageCommand') {
          returned += ((res.output as { Messages?: unknown[] }).Messages ?? []).length;
          await new Promise((r) => setTimeout(r, 5));
        }
        return res;
      },
      { step: 'initialize', name: 'slowReceive' },
    );
    const peek = await peekDeadLetters(slow, dlqUrl, { holdSeconds: 1, concurrency: 1, confirmEmpty: false });
    expect(returned).toBeGreaterThan(N);
    expect(peek.letters).toHaveLength(N);
    expect(new Set(peek.letters.map((l) => l.messageId)).size).toBe(N);
    await peek.release();
    // every message visible again, within seconds
    await vi.waitFor(async () => expect((await depth(dlqUrl)).visible).toBe(N), { timeout: 3000 });
    slow.destroy();
  }, 20_000);
});

import type { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { EnqueueError } from '../../../shared/errors.ts';
import {
  type ClaimCheckLocation,
  type ClaimCheckStore,
  claimCheckPointerOf,
  sha256Hex,
} from '../../../shared/queue/ClaimCheck.ts';
import { EnqueueRefusedError, SqsEnqueuer } from '../../../shared/queue/SqsEnqueuer.ts';
import { SQS_MAX_BATCH_BYTES } from '../../../shared/queue/sqsLimits.ts';
import type { WriteMessage } from '../../../shared/queue/WriteMessage.ts';

type Entry = { Id: string; MessageBody: string };
type Answer = (entries: Entry[]) => {
  Failed?: { Id: string; SenderFault: boolean; Code: string; Message?: string }[];
};

/** An SQS client that records each SendMessageBatch call and answers as told (default: all sent). */
function fakeSqs(answer: Answer = () => ({})) {
  const calls: Entry[][] = [];
  const client = {
    send: async (cmd: SendMessageBatchCommand) => {
      const entries = cmd.input.Entries as Entry[];
      calls.push(entries);
      // What SQS enforces per request, whatever the answer.
      expect(entries.length).toBeLessThanOrEqual(10);
      expect(entries.reduce((n, e) => n + Buffer.byteLength(e.MessageBody), 0)).toBeLessThanOrEqual(
        SQS_MAX_BATCH_BYTES,
      );
      return answer(entries);
    },
  } as unknown as SQSClient;
  return { client, calls };
}

function memoryStore(): ClaimCheckStore & { objects: Map<string, string> } {
  const objects = new Map<string, string>();
  return {
    objects,
    put: async (key, body) => {
      objects.set(key, body);
      return { bucket: 'b', key };
    },
    get: async (loc: ClaimCheckLocation) => objects.get(loc.key),
    delete: async (loc: ClaimCheckLocation) => void objects.delete(loc.key),
  };
}

const message = (key: string, text = 'x'): WriteMessage => ({
  v: 1,
  sync: 'items',
  key,
  version: '1',
  hash: `h${key}`,
  payload: { text },
  runId: 'run',
  enqueuedAt: '2026-01-01T00:00:00.000Z',
});

describe('Class: SqsEnqueuer', () => {
  it('packs batches by bytes as well as by count, in order', async () => {
    // Prepare: 300 KB messages, sent inline (no claim-check store): three per batch.
    const sqs = fakeSqs();
    const messages = Array.from({ length: 7 }, (_, i) => message(String(i), 'a'.repeat(300_000)));
    // Act
    const outcome = await new SqsEnqueuer(sqs.client, 'q', { concurrency: 1 }).trySendAll(messages);
    // Assess
    expect(outcome).toEqual({ sent: 7, claimChecked: 0, refused: [] });
    expect(sqs.calls.map((c) => c.length)).toEqual([3, 3, 1]);
    expect(sqs.calls.flat().map((e) => JSON.parse(e.MessageBody).key)).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
    ]);
  });

  it('measures UTF-8 bytes: multi-byte text fills a batch sooner than its length says', async () => {
    // Prepare: 200,000 characters of 'é' are 400,000 bytes: two per batch, not five.
    const sqs = fakeSqs();
    const messages = Array.from({ length: 4 }, (_, i) => message(String(i), 'é'.repeat(200_000)));
    // Act
    await new SqsEnqueuer(sqs.client, 'q', { concurrency: 1 }).sendAll(messages);
    // Assess
    expect(sqs.calls.map((c) => c.length)).toEqual([2, 2]);
  });

  it('stores a body above the threshold and sends a pointer naming the record, its size and SHA-256', async () => {
    // Prepare
    const sqs = fakeSqs();
    const store = memoryStore();
    const big = message('big', '😀'.repeat(1000));
    // Act
    const outcome = await new SqsEnqueuer(sqs.client, 'q', {
      claimChecks: store,
      claimCheckThresholdBytes: 1024,
    }).trySendAll([big, message('small')]);
    // Assess
    expect(outcome).toEqual({ sent: 2, claimChecked: 1, refused: [] });
    const bodies = sqs.calls.flat().map((e) => e.MessageBody);
    const pointer = pointerOf(bodies[0]!)!;
    expect(pointer).toMatchObject({ sync: 'items', key: 'big', version: '1', hash: 'hbig' });
    expect(pointer.claimCheck.key).toMatch(/^items\/[0-9a-f-]{36}\.json$/);
    const stored = store.objects.get(pointer.claimCheck.key)!;
    expect(JSON.parse(stored)).toEqual(big);
    expect(pointer.claimCheck.bytes).toBe(Buffer.byteLength(stored));
    expect(pointer.claimCheck.sha256).toBe(sha256Hex(stored));
    expect(JSON.parse(bodies[1]!)).toEqual(message('small'));
  });

  it('sets a message aside as too large when no claim-check store can carry it, and sends the rest', async () => {
    // Prepare
    const sqs = fakeSqs();
    const huge = message('huge', 'a'.repeat(1_100_000));
    // Act
    const outcome = await new SqsEnqueuer(sqs.client, 'q').trySendAll([message('1'), huge, message('2')]);
    // Assess
    expect(outcome.sent).toBe(2);
    expect(outcome.refused).toEqual([
      {
        message: huge,
        code: 'WB_MESSAGE_TOO_LARGE',
        reason: expect.stringMatching(/over the queue's limit/),
      },
    ]);
  });

  it('sends the other entries of a batch when SQS refuses one (sender fault), and reports that one with its key', async () => {
    // Prepare
    const sqs = fakeSqs((entries) => ({
      Failed: entries
        .filter((e) => JSON.parse(e.MessageBody).key === 'bad')
        .map((e) => ({ Id: e.Id, SenderFault: true, Code: 'InvalidMessageContents', Message: 'no' })),
    }));
    // Act
    const outcome = await new SqsEnqueuer(sqs.client, 'q').trySendAll([
      message('1'),
      message('bad'),
      message('2'),
    ]);
    // Assess
    expect(outcome.sent).toBe(2);
    expect(outcome.refused).toEqual([
      {
        message: message('bad'),
        code: 'WB_MESSAGE_REFUSED',
        reason: expect.stringContaining('InvalidMessageContents: no'),
      },
    ]);
    expect(sqs.calls).toHaveLength(1);
  });

  it('finds the entry behind a whole-request refusal by sending the entries one by one', async () => {
    // Prepare: the request fails as a whole while it holds the bad entry.
    const calls: number[] = [];
    const client = {
      send: async (cmd: SendMessageBatchCommand) => {
        const entries = cmd.input.Entries as Entry[];
        calls.push(entries.length);
        if (entries.some((e) => JSON.parse(e.MessageBody).key === 'bad'))
          throw Object.assign(new Error('Invalid characters found.'), { name: 'InvalidMessageContents' });
        return {};
      },
    } as unknown as SQSClient;
    // Act
    const outcome = await new SqsEnqueuer(client, 'q').trySendAll([
      message('1'),
      message('bad'),
      message('2'),
    ]);
    // Assess
    expect(outcome.sent).toBe(2);
    expect(outcome.refused.map((r) => [r.message.key, r.code])).toEqual([['bad', 'WB_MESSAGE_REFUSED']]);
    expect(calls).toEqual([3, 1, 1, 1]);
  });

  it('retries entries SQS failed on its side, and throws EnqueueError when they keep failing', async () => {
    // Prepare
    let n = 0;
    const flaky = fakeSqs((entries) =>
      n++ === 0
        ? { Failed: entries.map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError' })) }
        : {},
    );
    const down = fakeSqs((entries) => ({
      Failed: entries.map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError' })),
    }));
    // Act
    const outcome = await new SqsEnqueuer(flaky.client, 'q').trySendAll([message('1')]);
    const error = await new SqsEnqueuer(down.client, 'q').trySendAll([message('1')]).catch((e: unknown) => e);
    // Assess
    expect(outcome).toEqual({ sent: 1, claimChecked: 0, refused: [] });
    expect(error).toBeInstanceOf(EnqueueError);
    expect(error).not.toBeInstanceOf(EnqueueRefusedError);
  });

  it('throws EnqueueError when the claim-check store fails: the caller must not advance', async () => {
    // Prepare
    const store = memoryStore();
    store.put = async () => {
      throw new Error('S3 unavailable');
    };
    // Act
    const error = await new SqsEnqueuer(fakeSqs().client, 'q', {
      claimChecks: store,
      claimCheckThresholdBytes: 10,
    })
      .trySendAll([message('1', 'a'.repeat(100))])
      .catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(EnqueueError);
    expect((error as Error).message).toMatch(/S3 unavailable/);
  });

  it('sendAll sends everything else, then throws EnqueueRefusedError listing what was set aside', async () => {
    // Prepare
    const sqs = fakeSqs();
    const huge = message('huge', 'a'.repeat(1_100_000));
    // Act
    const error = await new SqsEnqueuer(sqs.client, 'q')
      .sendAll([message('1'), huge])
      .catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(EnqueueRefusedError);
    expect((error as EnqueueRefusedError).refused.map((r) => r.message.key)).toEqual(['huge']);
    expect(sqs.calls.flat()).toHaveLength(1);
  });
});

/** The claim-check pointer a body holds, if any. */
function pointerOf(body: string) {
  const found = claimCheckPointerOf(body);
  return found && 'pointer' in found ? found.pointer : undefined;
}

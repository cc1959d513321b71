import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type ClaimCheckStore, claimCheckPointerOf } from '../queue/ClaimCheck.ts';
import { type WriteMessage, WriteMessageSchema } from '../queue/WriteMessage.ts';
import { chunks } from '../util/chunks.ts';
import { forEachLimit } from '../util/forEachLimit.ts';
import { DLQ_ATTRIBUTES } from '../write/DeadLetterSink.ts';
import { progressMeter } from './progressMeter.ts';

/** Why a record is in the DLQ, from the attributes the writer set (or what SQS knows). */
export interface DeadLetterReason {
  readonly code: string;
  readonly message: string;
  readonly httpStatus?: number;
}

/** One message of a sync's DLQ, read without consuming it. */
export interface DeadLetter {
  readonly messageId: string;
  readonly receiptHandle: string;
  /** Source key: the writer's attribute, else the body's. Undefined when the body is unreadable. */
  readonly key: string | undefined;
  readonly reason: DeadLetterReason;
  /** Deliveries of the record before it was dead-lettered. */
  readonly attempts: number | undefined;
  /** When it was dead-lettered (ISO 8601). */
  readonly failedAt: string;
  readonly body: string;
  /** The parsed write message; undefined when the body is not one. */
  readonly message: WriteMessage | undefined;
}

/** Code shown for messages SQS moved itself after maxReceiveCount (no writer attributes). */
export const MOVED_BY_SQS = 'WB_MAX_RECEIVES';

/** Messages a peek holds invisible; release them (or delete them) when done. */
export interface DeadLetterPeek {
  readonly letters: readonly DeadLetter[];
  /**
   * Makes peeked messages visible again at once: these (when given), else every one not yet
   * removed or released.
   */
  release(only?: readonly DeadLetter[]): Promise<void>;
  /** Deletes these peeked messages (they were redriven or purged). */
  remove(letters: readonly DeadLetter[]): Promise<void>;
}

/** Limits of one peek. */
export interface PeekOptions {
  /** Stop after about this many messages (concurrent receivers may read a few more). @default 1000000 */
  readonly max?: number;
  /**
   * How long each received message stays invisible, fixed. By default it is computed per receive:
   * the time the rest of the read is expected to take (from the rate so far) plus `workSeconds`,
   * so a message read early is not visible again (and read twice) before the read ends, and one
   * read late is not hidden for longer than needed if the process dies before releasing it.
   */
  readonly holdSeconds?: number;
  /**
   * Time the caller needs after the read, before it releases or removes the messages; a function
   * of the queue's depth for work that grows with it. @default 30
   */
  readonly workSeconds?: number | ((messages: number) => number);
  /** Concurrent ReceiveMessage calls (each returns at most 10 messages). @default 16 */
  readonly concurrency?: number;
  /**
   * Long-poll once more before concluding the queue is empty: SQS answers a short poll from a
   * sample of its servers. The local emulator answers exactly and needs none. @default true
   */
  readonly confirmEmpty?: boolean;
  /** Progress for people, every few seconds: messages read of the queue's approximate depth, rate. */
  readonly onProgress?: (line: string) => void;
  /**
   * Reads the stored message of a claim-checked record (its body in the DLQ is a pointer), so a
   * replay can send it. Without it, or when the object is gone, such a letter has no `message`.
   */
  readonly claimChecks?: ClaimCheckStore;
}

/** Concurrent batch calls (receive, delete, change visibility, send) of the DLQ commands. */
export const DLQ_CONCURRENCY = 16;
/** Read rate assumed before one is measured (SQS does far more with 16 receivers). */
const ASSUMED_READ_RATE = 200;
/**
 * Receives in a row that return only messages already read and end the read: once the DLQ's depth
 * is read, and before that (a hold too short for the read: the queue goes round and round).
 */
const RECEIVES_WITHOUT_NEWS = { allRead: 3, notAllRead: 100 } as const;
/** SQS's longest visibility timeout. */
const MAX_HOLD_SECONDS = 43_200;

/**
 * Reads a whole DLQ without consuming it: receives every message with a visibility timeout that
 * covers the rest of the read (so each is seen once), then the caller releases them (visible again
 * at once) or removes the ones it handled. SQS has no "peek", and a receive with VisibilityTimeout
 * 0 returns the same messages again and again; this is the standard way to page through a queue.
 * `concurrency` receivers share the work (SQS returns at most 10 messages a call). DLQs have no
 * consumer, so holding their messages hides them from nobody but a second operator reading at the
 * same moment, and only until release() (or the hold, should the process die).
 */
export async function peekDeadLetters(
  sqs: SQSClient,
  dlqUrl: string,
  opts: PeekOptions = {},
): Promise<DeadLetterPeek> {
  const max = opts.max ?? 1_000_000;
  const concurrency = opts.concurrency ?? DLQ_CONCURRENCY;
  const total = await visibleMessages(sqs, dlqUrl);
  const workSeconds =
    typeof opts.workSeconds === 'function' ? opts.workSeconds(total) : (opts.workSeconds ?? 30);
  const seen = new Map<string, DeadLetter>();
  const emptyReceivesToStop = opts.confirmEmpty === false ? 1 : 2;
  const meter = progressMeter('reading the DLQ', total, opts.onProgress);
  const t0 = performance.now();
  const holdNow = (): number => {
    if (opts.holdSeconds !== undefined) return opts.holdSeconds;
    const elapsed = (performance.now() - t0) / 1000;
    const rate = seen.size >= 1000 && elapsed > 0 ? seen.size / elapsed : ASSUMED_READ_RATE;
    const rest = Math.max(0, total - seen.size) / rate;
    return Math.min(MAX_HOLD_SECONDS, Math.ceil(rest * 2 + workSeconds));
  };
  let stop = false;
  const receiver = async (): Promise<void> => {
    let nothingNew = 0;
    for (
      let emptyReceives = 0;
      !stop &&
      seen.size < max &&
      emptyReceives < emptyReceivesToStop &&
      nothingNew < (seen.size >= total ? RECEIVES_WITHOUT_NEWS.allRead : RECEIVES_WITHOUT_NEWS.notAllRead);
    ) {
      const res = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: holdNow(),
          // Long polling asks every SQS server: a short poll samples some and may miss messages.
          WaitTimeSeconds: emptyReceives === 0 ? 0 : 1,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const messages = res.Messages ?? [];
      if (messages.length === 0) {
        emptyReceives++;
        continue;
      }
      emptyReceives = 0;
      let news = false;
      for (const m of messages) {
        if (!m.MessageId) continue;
        const earlier = seen.get(m.MessageId);
        // Received again (its hold ran out): only the newest receipt handle releases or deletes it.
        if (earlier) seen.set(m.MessageId, { ...earlier, receiptHandle: m.ReceiptHandle ?? '' });
        else {
          seen.set(m.MessageId, toDeadLetter(m));
          news = true;
        }
      }
      // Every message the queue had is read and only those come back (their hold ran out): done,
      // rather than going round the queue again and again.
      nothingNew = news ? 0 : nothingNew + 1;
      meter.tick(seen.size);
    }
  };
  const outcomes = await Promise.allSettled(
    Array.from({ length: concurrency }, () =>
      receiver().catch((err: unknown) => {
        stop = true;
        throw err;
      }),
    ),
  );
  meter.done(seen.size);
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure) {
    // Nothing of a failed read is kept: everything read is visible again before the error goes up.
    await changeVisibility(sqs, dlqUrl, [...seen.values()], 0).catch(() => undefined);
    throw failure.reason;
  }
  if (opts.claimChecks) await resolveStoredMessages(seen, opts.claimChecks);
  const letters = [...seen.values()].sort((a, b) => a.failedAt.localeCompare(b.failedAt));
  // Removed or released: not held any more.
  const done = new Set<string>();
  return {
    letters,
    release: async (only) => {
      const held = (only ?? letters).filter((l) => !done.has(l.messageId));
      for (const l of held) done.add(l.messageId);
      await changeVisibility(sqs, dlqUrl, held, 0, opts.onProgress);
    },
    remove: async (handled) => {
      await deleteAll(sqs, dlqUrl, handled);
      for (const l of handled) done.add(l.messageId);
    },
  };
}

/** Messages a receive can return now (approximate on AWS, exact in the emulator). */
export async function visibleMessages(sqs: SQSClient, url: string): Promise<number> {
  const res = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(res.Attributes?.ApproximateNumberOfMessages ?? 0);
}

function toDeadLetter(m: Message): DeadLetter {
  const attr = (name: string): string | undefined => m.MessageAttributes?.[name]?.StringValue;
  const body = m.Body ?? '';
  let message: WriteMessage | undefined;
  try {
    const parsed = WriteMessageSchema.safeParse(JSON.parse(body));
    if (parsed.success) message = parsed.data;
  } catch {
    message = undefined;
  }
  const code = attr(DLQ_ATTRIBUTES.code);
  const http = attr(DLQ_ATTRIBUTES.httpStatus);
  const attempts = attr(DLQ_ATTRIBUTES.attempts) ?? m.Attributes?.ApproximateReceiveCount;
  const sent = Number(m.Attributes?.SentTimestamp);
  const reason: DeadLetterReason = code
    ? {
        code,
        message: attr(DLQ_ATTRIBUTES.message) ?? '',
        ...(http ? { httpStatus: Number(http) } : {}),
      }
    : {
        code: MOVED_BY_SQS,
        message:
          'moved to the DLQ by SQS after maxReceiveCount deliveries, without a reason (a writer crashed or timed out on its last delivery)',
      };
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    // A claim-checked record's body is a pointer that names the key (its message is in S3).
    key: attr(DLQ_ATTRIBUTES.key) ?? message?.key ?? pointerKey(body),
    reason,
    // Without writer attributes, the receive count is the DLQ's own and counts our peeks: not an attempt count.
    attempts: code && attempts !== undefined ? Number(attempts) : undefined,
    failedAt: attr(DLQ_ATTRIBUTES.failedAt) ?? (Number.isFinite(sent) ? new Date(sent).toISOString() : ''),
    body,
    message,
  };
}

async function changeVisibility(
  sqs: SQSClient,
  url: string,
  letters: readonly DeadLetter[],
  seconds: number,
  onProgress?: (line: string) => void,
): Promise<void> {
  const meter = progressMeter('making the DLQ visible again', letters.length, onProgress);
  let done = 0;
  // A message that is already visible again or gone fails alone (its entry), not the batch.
  await forEachLimit(chunks(letters, 10), DLQ_CONCURRENCY, async (batch) => {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: batch.map((l, j) => ({
          Id: String(j),
          ReceiptHandle: l.receiptHandle,
          VisibilityTimeout: seconds,
        })),
      }),
    );
    done += batch.length;
    meter.tick(done);
  });
  meter.done(done);
}

async function deleteAll(sqs: SQSClient, url: string, letters: readonly DeadLetter[]): Promise<void> {
  const failed: { Code?: string | undefined; Message?: string | undefined }[] = [];
  await forEachLimit(chunks(letters, 10), DLQ_CONCURRENCY, async (batch) => {
    const res = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: batch.map((l, j) => ({ Id: String(j), ReceiptHandle: l.receiptHandle })),
      }),
    );
    failed.push(...(res.Failed ?? []));
  });
  if (failed.length > 0) {
    throw new Error(
      `could not delete ${failed.length} DLQ message(s): ${failed[0]!.Code} ${failed[0]!.Message ?? ''}; they stay in the DLQ (a later redrive of them is harmless)`,
    );
  }
}

/** The dead letters of one source key, oldest first (a key fails again after a redrive). */
export interface KeyGroup {
  readonly key: string | undefined;
  /** Oldest first. */
  readonly letters: DeadLetter[];
}

/** Groups dead letters by key, in order of first failure; unreadable messages each stand alone. */
export function groupByKey(letters: readonly DeadLetter[]): KeyGroup[] {
  const groups = new Map<string, KeyGroup>();
  for (const l of letters) {
    // Unreadable messages each stand alone.
    const id = l.key === undefined ? `#${l.messageId}` : `k${l.key}`;
    let g = groups.get(id);
    if (!g) {
      g = { key: l.key, letters: [] };
      groups.set(id, g);
    }
    g.letters.push(l);
  }
  return [...groups.values()];
}

/** Replaces each claim-checked letter by one carrying its stored message (best effort: a gone object leaves it as it is). */
async function resolveStoredMessages(seen: Map<string, DeadLetter>, store: ClaimCheckStore): Promise<void> {
  const pointers = [...seen.values()].flatMap((l) => {
    const found = l.message ? undefined : claimCheckPointerOf(l.body);
    return found && 'pointer' in found ? [{ letter: l, pointer: found.pointer }] : [];
  });
  await forEachLimit(pointers, 8, async ({ letter, pointer }) => {
    const stored = await store.get(pointer.claimCheck).catch(() => undefined);
    if (stored === undefined) return;
    try {
      const parsed = WriteMessageSchema.safeParse(JSON.parse(stored));
      if (parsed.success && parsed.data.key === pointer.key)
        seen.set(letter.messageId, { ...letter, message: parsed.data });
    } catch {
      // Not JSON: the letter stays without a message (unreadable for a replay).
    }
  });
}

/** The record key a claim-check pointer body names, if the body is one. */
function pointerKey(body: string): string | undefined {
  const found = claimCheckPointerOf(body);
  return found && 'pointer' in found ? found.pointer.key : undefined;
}

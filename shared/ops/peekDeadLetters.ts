import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type ClaimCheckStore, claimCheckPointerOf } from '../queue/ClaimCheck.ts';
import { type WriteMessage, WriteMessageSchema } from '../queue/WriteMessage.ts';
import { chunks } from '../util/chunks.ts';
import { forEachLimit } from '../util/forEachLimit.ts';
import { DLQ_ATTRIBUTES } from '../write/DeadLetterSink.ts';

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
  /** Makes every peeked message that was not removed visible again at once. */
  release(): Promise<void>;
  /** Deletes these peeked messages (they were redriven or purged). */
  remove(letters: readonly DeadLetter[]): Promise<void>;
}

/** Limits of one peek. */
export interface PeekOptions {
  /** Stop after this many messages. @default 100000 */
  readonly max?: number;
  /** How long peeked messages stay invisible if the process dies before releasing them. @default 30 */
  readonly holdSeconds?: number;
  /**
   * Long-poll once more before concluding the queue is empty: SQS answers a short poll from a
   * sample of its servers. The local emulator answers exactly and needs none. @default true
   */
  readonly confirmEmpty?: boolean;
  readonly onProgress?: (read: number) => void;
  /**
   * Reads the stored message of a claim-checked record (its body in the DLQ is a pointer), so a
   * replay can send it. Without it, or when the object is gone, such a letter has no `message`.
   */
  readonly claimChecks?: ClaimCheckStore;
}

/**
 * Reads a whole DLQ without consuming it: receives every message with a short visibility
 * timeout (so each is seen once), then the caller releases them (visible again) or removes the
 * ones it handled. SQS has no "peek", and a receive with VisibilityTimeout 0 returns the same
 * messages again and again; this is the standard way to page through a queue. DLQs have no
 * consumer, so holding their messages for a few seconds hides them from nobody but a second
 * operator listing at the same moment.
 */
export async function peekDeadLetters(
  sqs: SQSClient,
  dlqUrl: string,
  opts: PeekOptions = {},
): Promise<DeadLetterPeek> {
  const max = opts.max ?? 100_000;
  const seen = new Map<string, DeadLetter>();
  const emptyReceivesToStop = opts.confirmEmpty === false ? 1 : 2;
  for (let emptyReceives = 0; seen.size < max && emptyReceives < emptyReceivesToStop; ) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: opts.holdSeconds ?? 30,
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
    for (const m of messages) {
      if (m.MessageId && !seen.has(m.MessageId)) seen.set(m.MessageId, toDeadLetter(m));
    }
    opts.onProgress?.(seen.size);
  }
  if (opts.claimChecks) await resolveStoredMessages(seen, opts.claimChecks);
  const letters = [...seen.values()].sort((a, b) => a.failedAt.localeCompare(b.failedAt));
  const removed = new Set<string>();
  return {
    letters,
    release: () =>
      changeVisibility(
        sqs,
        dlqUrl,
        letters.filter((l) => !removed.has(l.messageId)),
        0,
      ),
    remove: async (handled) => {
      await deleteAll(sqs, dlqUrl, handled);
      for (const l of handled) removed.add(l.messageId);
    },
  };
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
): Promise<void> {
  for (const batch of chunks(letters, 10)) {
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
  }
}

async function deleteAll(sqs: SQSClient, url: string, letters: readonly DeadLetter[]): Promise<void> {
  for (const batch of chunks(letters, 10)) {
    const res = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: batch.map((l, j) => ({ Id: String(j), ReceiptHandle: l.receiptHandle })),
      }),
    );
    const failed = res.Failed ?? [];
    if (failed.length > 0) {
      throw new Error(
        `could not delete ${failed.length} DLQ message(s): ${failed[0]!.Code} ${failed[0]!.Message ?? ''}; they stay in the DLQ (a later redrive of them is harmless)`,
      );
    }
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

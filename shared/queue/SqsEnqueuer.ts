import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { EnqueueError } from '../errors.ts';
import { forEachLimit } from '../util/forEachLimit.ts';
import { type ClaimCheckPointer, type ClaimCheckStore, sha256Hex } from './ClaimCheck.ts';
import {
  DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES,
  messageBytes,
  planBatches,
  SQS_MAX_BATCH_BYTES,
  SQS_MAX_BATCH_ENTRIES,
  SQS_MAX_MESSAGE_BYTES,
  sqsSafeJson,
} from './sqsLimits.ts';
import type { WriteMessage } from './WriteMessage.ts';

const MAX_ATTEMPTS = 5;

/** Codes of messages set aside instead of sent (see docs/write-protocol.md, "Message limits"). */
export const REFUSED_CODES = {
  /** Larger than the queue's message size limit, and no claim-check store to carry it. */
  tooLarge: 'WB_MESSAGE_TOO_LARGE',
  /** SQS refused the entry itself (sender fault); the reason carries SQS's code and message. */
  refused: 'WB_MESSAGE_REFUSED',
} as const;

/** A message that was not sent, and why; the other messages of the call were sent. */
export interface RefusedMessage {
  readonly message: WriteMessage;
  readonly code: string;
  readonly reason: string;
}

/** What a send did: every message is either sent or refused (with its reason). */
export interface EnqueueOutcome {
  readonly sent: number;
  /** Of `sent`: messages whose body travelled by claim check. */
  readonly claimChecked: number;
  readonly refused: RefusedMessage[];
}

/** Some messages were set aside (sendAll); every other message was enqueued durably. */
export class EnqueueRefusedError extends EnqueueError {
  public readonly refused: readonly RefusedMessage[];
  public constructor(refused: readonly RefusedMessage[]) {
    const first = refused[0]!;
    super(
      `SQS refused ${refused.length} message(s), the others were enqueued; first: key ${first.message.key}: ${first.code}: ${first.reason}`,
    );
    this.name = 'EnqueueRefusedError';
    this.refused = refused;
  }
}

export interface SqsEnqueuerOptions {
  /** SendMessageBatch calls in flight. @default 8 */
  readonly concurrency?: number;
  /** Where bodies above `claimCheckThresholdBytes` go. Without it they go inline up to the message size limit. */
  readonly claimChecks?: ClaimCheckStore;
  /** Bodies larger than this travel by claim check. @default 256 KiB */
  readonly claimCheckThresholdBytes?: number;
  /** The queue's MaximumMessageSize. @default 1 MiB (the stack sets it explicitly) */
  readonly maxMessageBytes?: number;
  /** Bytes per SendMessageBatch call. @default 1 MiB (SQS's limit) */
  readonly maxBatchBytes?: number;
}

/** One message as it goes on the wire. */
interface Entry {
  readonly message: WriteMessage;
  readonly body: string;
  readonly bytes: number;
  readonly claimChecked: boolean;
}

/**
 * Sends write messages to a sync's queue within what SQS enforces on AWS: bodies in SQS's
 * character set (sqsSafeJson), batches of at most 10 entries and 1 MiB, and bodies above the
 * claim-check threshold stored in S3 with a pointer in the queue (ClaimCheck.ts). Returns only
 * once every message is durably enqueued or refused with its reason.
 */
export class SqsEnqueuer {
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;
  private readonly concurrency: number;
  private readonly claimChecks: ClaimCheckStore | undefined;
  private readonly threshold: number;
  private readonly maxMessageBytes: number;
  private readonly maxBatchBytes: number;

  public constructor(sqs: SQSClient, queueUrl: string, opts: SqsEnqueuerOptions = {}) {
    this.sqs = sqs;
    this.queueUrl = queueUrl;
    this.concurrency = opts.concurrency ?? 8;
    this.claimChecks = opts.claimChecks;
    this.maxMessageBytes = opts.maxMessageBytes ?? SQS_MAX_MESSAGE_BYTES;
    this.threshold = Math.min(
      opts.claimCheckThresholdBytes ?? DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES,
      this.maxMessageBytes,
    );
    this.maxBatchBytes = opts.maxBatchBytes ?? SQS_MAX_BATCH_BYTES;
  }

  /**
   * Sends every message; those SQS cannot take are set aside, not thrown: the caller records
   * them (key, code, reason) and moves on. Throws EnqueueError only when messages could not be
   * sent for reasons that are not theirs (SQS or S3 unreachable, throttled past the retries): then
   * the caller must not advance.
   */
  public async trySendAll(messages: readonly WriteMessage[]): Promise<EnqueueOutcome> {
    const refused: RefusedMessage[] = [];
    const entries: Entry[] = [];
    await forEachLimit(
      messages.map((message, i) => ({ message, i })),
      this.concurrency,
      async ({ message, i }) => {
        const entry = await this.encode(message);
        if ('refused' in entry) refused.push(entry.refused);
        else entries[i] = entry;
      },
    );
    const ready = entries.filter((e): e is Entry => e !== undefined);
    const batches = planBatches(
      ready.map((e) => e.bytes),
      { maxEntries: SQS_MAX_BATCH_ENTRIES, maxBytes: this.maxBatchBytes },
    ).map((idx) => idx.map((i) => ready[i]!));
    await forEachLimit(batches, this.concurrency, async (batch) => {
      refused.push(...(await this.sendBatch(batch)));
    });
    const refusedSet = new Set(refused.map((r) => r.message));
    const sentEntries = ready.filter((e) => !refusedSet.has(e.message));
    return {
      sent: sentEntries.length,
      claimChecked: sentEntries.filter((e) => e.claimChecked).length,
      refused,
    };
  }

  /**
   * Sends every message, or throws: EnqueueRefusedError (with `refused`) when some were set aside
   * (every other message was sent first), EnqueueError when sending failed.
   */
  public async sendAll(messages: readonly WriteMessage[]): Promise<void> {
    const outcome = await this.trySendAll(messages);
    if (outcome.refused.length > 0) throw new EnqueueRefusedError(outcome.refused);
  }

  /** The body that goes on the queue: the message itself, or a pointer to it in the claim-check store. */
  private async encode(message: WriteMessage): Promise<Entry | { refused: RefusedMessage }> {
    const body = sqsSafeJson(message);
    const bytes = messageBytes(body);
    if (bytes <= this.threshold) return { message, body, bytes, claimChecked: false };
    if (!this.claimChecks) {
      if (bytes <= this.maxMessageBytes) return { message, body, bytes, claimChecked: false };
      return {
        refused: {
          message,
          code: REFUSED_CODES.tooLarge,
          reason: `the message is ${bytes} bytes, over the queue's limit of ${this.maxMessageBytes}, and no claim-check bucket is configured to carry it`,
        },
      };
    }
    let location: { bucket: string; key: string };
    try {
      location = await this.claimChecks.put(`${message.sync}/${randomUUID()}.json`, body);
    } catch (err) {
      throw new EnqueueError(
        `storing a ${bytes}-byte message in the claim-check bucket failed: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    const pointer: ClaimCheckPointer = {
      v: 1,
      claimCheck: { bucket: location.bucket, key: location.key, bytes, sha256: sha256Hex(body) },
      sync: message.sync,
      key: message.key,
      version: message.version,
      hash: message.hash,
      runId: message.runId,
      enqueuedAt: message.enqueuedAt,
    };
    const pointerBody = sqsSafeJson(pointer);
    const pointerBytes = messageBytes(pointerBody);
    if (pointerBytes > this.maxMessageBytes) {
      return {
        refused: {
          message,
          code: REFUSED_CODES.tooLarge,
          reason: `even its claim-check pointer is ${pointerBytes} bytes (the key is too long), over the queue's limit of ${this.maxMessageBytes}`,
        },
      };
    }
    return { message, body: pointerBody, bytes: pointerBytes, claimChecked: true };
  }

  /** Sends one batch with retries; returns the entries SQS refused (sender faults). */
  private async sendBatch(batch: readonly Entry[]): Promise<RefusedMessage[]> {
    const refused: RefusedMessage[] = [];
    let pending = batch.map((e, i) => ({ Id: String(i), MessageBody: e.body, entry: e }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      let failedIds: Set<string>;
      try {
        const res = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: pending.map(({ Id, MessageBody }) => ({ Id, MessageBody })),
          }),
        );
        const failed = res.Failed ?? [];
        // A sender fault is about the entry itself: retrying will not help; set it aside.
        for (const f of failed.filter((f) => f.SenderFault)) {
          const p = pending.find((x) => x.Id === f.Id);
          if (p) refused.push(refusal(p.entry, f.Code, f.Message));
        }
        failedIds = new Set(failed.filter((f) => !f.SenderFault).map((f) => f.Id!));
      } catch (err) {
        // The whole request was refused for what an entry holds: send the entries one by one to find it.
        if (isEntryContentError(err)) {
          if (pending.length === 1)
            refused.push(refusal(pending[0]!.entry, (err as Error).name, (err as Error).message));
          else for (const p of pending) refused.push(...(await this.sendBatch([p.entry])));
          return refused;
        }
        if (attempt >= MAX_ATTEMPTS)
          throw new EnqueueError(`SendMessageBatch failed: ${(err as Error).message}`, { cause: err });
        failedIds = new Set(pending.map((p) => p.Id));
      }
      pending = pending.filter((p) => failedIds.has(p.Id));
      if (pending.length > 0) {
        if (attempt >= MAX_ATTEMPTS)
          throw new EnqueueError(`${pending.length} messages not enqueued after ${attempt} attempts`);
        await sleep(50 * 2 ** attempt);
      }
    }
    return refused;
  }
}

function refusal(entry: Entry, code: string | undefined, message: string | undefined): RefusedMessage {
  return {
    message: entry.message,
    code: REFUSED_CODES.refused,
    reason: `SQS refused the message (${entry.bytes} bytes${entry.claimChecked ? ', claim-check pointer' : ''}): ${code ?? 'unknown'}: ${message ?? ''}`,
  };
}

/** Request-level errors SQS raises for what an entry holds (not for the queue, credentials or throttling). */
function isEntryContentError(err: unknown): boolean {
  const name = (err as { name?: string }).name ?? '';
  return /InvalidMessageContents|BatchRequestTooLong|MessageTooLong/.test(name);
}

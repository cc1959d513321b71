import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { EnqueueError } from '../errors.ts';
import type { WriteMessage } from './WriteMessage.ts';

const SQS_BATCH_MAX = 10;
const MAX_ATTEMPTS = 5;

/** Sends write messages in batches of 10; returns only once every message is durably enqueued. */
export class SqsEnqueuer {
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;
  private readonly concurrency: number;

  public constructor(sqs: SQSClient, queueUrl: string, concurrency = 8) {
    this.sqs = sqs;
    this.queueUrl = queueUrl;
    this.concurrency = concurrency;
  }

  /** Throws EnqueueError when some messages could not be sent after retries: the caller must not advance. */
  public async sendAll(messages: readonly WriteMessage[]): Promise<void> {
    const batches: WriteMessage[][] = [];
    for (let i = 0; i < messages.length; i += SQS_BATCH_MAX)
      batches.push(messages.slice(i, i + SQS_BATCH_MAX));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) await this.sendBatch(batches[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, batches.length) }, worker));
  }

  private async sendBatch(batch: WriteMessage[]): Promise<void> {
    let pending = batch.map((m, i) => ({ Id: String(i), MessageBody: JSON.stringify(m) }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      let failedIds: Set<string>;
      try {
        const res = await this.sqs.send(
          new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }),
        );
        const failed = res.Failed ?? [];
        // Sender faults (bad message) will not succeed on retry.
        const senderFault = failed.find((f) => f.SenderFault);
        if (senderFault)
          throw new EnqueueError(`SQS refused a message: ${senderFault.Code} ${senderFault.Message}`);
        failedIds = new Set(failed.map((f) => f.Id!));
      } catch (err) {
        if (err instanceof EnqueueError || attempt >= MAX_ATTEMPTS) {
          throw err instanceof EnqueueError
            ? err
            : new EnqueueError(`SendMessageBatch failed: ${(err as Error).message}`, { cause: err });
        }
        failedIds = new Set(pending.map((p) => p.Id));
      }
      pending = pending.filter((p) => failedIds.has(p.Id));
      if (pending.length > 0) {
        if (attempt >= MAX_ATTEMPTS)
          throw new EnqueueError(`${pending.length} messages not enqueued after ${attempt} attempts`);
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
  }
}

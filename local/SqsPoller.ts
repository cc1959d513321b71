import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { chunks } from '../shared/util/chunks.ts';
import { sqsRecord } from './sqsRecord.ts';

export interface SqsPollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  /** Most records per handler invocation (the event source mapping's BatchSize). */
  readonly batchSize: number;
  /** Concurrent invocations (the event source mapping's MaximumConcurrency). */
  readonly concurrency: number;
  readonly handler: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;
  /** Long-poll wait per receive, seconds. @default 1 */
  readonly waitSeconds?: number;
  readonly onError?: (err: unknown) => void;
}

/**
 * A local stand-in for Lambda's SQS event source mapping: long-polls the queue, hands batches to
 * the handler, deletes what succeeded and leaves the ids in batchItemFailures to come back after
 * their visibility timeout. A thrown handler error fails the whole batch, as on AWS. Redrive to
 * the DLQ after maxReceiveCount is done by the queue itself (its RedrivePolicy).
 */
export class SqsPoller {
  private readonly opts: SqsPollerOptions;
  private running = false;
  private loops: Promise<void>[] = [];
  private busy = 0;

  public constructor(opts: SqsPollerOptions) {
    this.opts = opts;
  }

  /** Invocations currently running. */
  public get inFlight(): number {
    return this.busy;
  }

  public start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = Array.from({ length: this.opts.concurrency }, () => this.loop());
  }

  public async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        const messages = await this.receiveBatch();
        if (messages.length === 0) continue;
        this.busy++;
        try {
          await this.invoke(messages);
        } finally {
          this.busy--;
        }
      } catch (err) {
        if (!this.running) return;
        this.opts.onError?.(err);
        await sleep(500);
      }
    }
  }

  /** Fills a batch up to batchSize with successive receives of at most 10 (the SQS limit per call). */
  private async receiveBatch(): Promise<Message[]> {
    const out: Message[] = [];
    while (this.running && out.length < this.opts.batchSize) {
      const res = await this.opts.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.opts.queueUrl,
          MaxNumberOfMessages: Math.min(10, this.opts.batchSize - out.length),
          WaitTimeSeconds: out.length === 0 ? (this.opts.waitSeconds ?? 1) : 0,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      const got = res.Messages ?? [];
      out.push(...got);
      if (got.length === 0) break;
    }
    return out;
  }

  private async invoke(messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((m) => sqsRecord(m, this.opts.queueArn, 'us-east-1')) };
    let failed: Set<string>;
    try {
      const res = await this.opts.handler(event);
      failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (err) {
      this.opts.onError?.(err);
      return; // whole batch comes back after the visibility timeout
    }
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    for (const batch of chunks(done, 10)) {
      await this.opts.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.opts.queueUrl,
          Entries: batch.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  }
}

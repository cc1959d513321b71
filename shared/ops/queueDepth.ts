import { setTimeout as sleep } from 'node:timers/promises';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SyncResources } from './stackResources.ts';

/** Approximate message counts of a sync's queue and DLQ (SQS's own counters). */
export interface QueueDepth {
  /** Waiting for a writer. */
  readonly visible: number;
  /** Being written, or waiting out a retry backoff. */
  readonly inFlight: number;
  /** Delayed on send (none today). */
  readonly delayed: number;
  readonly dlq: number;
}

/** Reads both queues' counters in parallel. */
export async function queueDepth(sqs: SQSClient, res: SyncResources): Promise<QueueDepth> {
  const attrs = async (url: string) =>
    (
      await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      )
    ).Attributes ?? {};
  const [main, dlq] = await Promise.all([attrs(res.queueUrl), attrs(res.dlqUrl)]);
  return {
    visible: Number(main.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(main.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(main.ApproximateNumberOfMessagesDelayed ?? 0),
    dlq:
      Number(dlq.ApproximateNumberOfMessages ?? 0) + Number(dlq.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/**
 * Waits until a sync's queue is empty (every message written, dead-lettered or given up), calling
 * `onTick` about once a second; false when `timeoutMs` passed first. SQS counters are approximate
 * on AWS, so an empty reading must hold for two polls in a row.
 */
export async function waitForQueueDrained(
  sqs: SQSClient,
  res: SyncResources,
  opts: { timeoutMs: number; onTick?: (depth: QueueDepth) => void; pollMs?: number },
): Promise<boolean> {
  const until = Date.now() + opts.timeoutMs;
  let emptyReadings = 0;
  for (;;) {
    const depth = await queueDepth(sqs, res);
    opts.onTick?.(depth);
    emptyReadings = depth.visible + depth.inFlight + depth.delayed === 0 ? emptyReadings + 1 : 0;
    if (emptyReadings >= 2) return true;
    if (Date.now() > until) return false;
    await sleep(opts.pollMs ?? 1000);
  }
}

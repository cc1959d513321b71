import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { sqsRecord } from '../sqsRecord.ts';
import type { InvocationResult } from './RehearsedFunction.ts';

/**
 * An AWS::Lambda::EventSourceMapping from an SQS queue, run the way Lambda runs one
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html): pollers receive up to 10 messages
 * a call with the function's own role, gather a batch up to BatchSize within the batching window,
 * invoke the function synchronously with no more than MaximumConcurrency batches at once, and then
 * delete what succeeded: every message after a plain success; with ReportBatchItemFailures, every
 * message but the ones listed (an unknown or empty itemIdentifier fails the whole batch); none
 * after an error, so the rest come back after the visibility timeout.
 */

export interface MappingSpec {
  readonly logicalId: string;
  readonly functionName: string;
  /** Queue ARN in the stack (the event's eventSourceARN). */
  readonly queueArn: string;
  readonly queueUrl: string;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly maximumConcurrency: number;
  readonly reportBatchItemFailures: boolean;
  readonly enabled: boolean;
}

/** Something the mapping saw that a deployed stack would get wrong. */
export interface MappingProblem {
  readonly mapping: string;
  readonly message: string;
}

export interface MappingOptions {
  /** An SQS client with the function role's credentials. */
  readonly sqs: SQSClient;
  readonly region: string;
  readonly invoke: (event: SQSEvent) => Promise<InvocationResult>;
  readonly onProblem: (problem: MappingProblem) => void;
}

/** The messages to delete after an invocation, as Lambda decides it. */
export function settledMessages(
  spec: MappingSpec,
  records: readonly SQSRecord[],
  result: InvocationResult,
  onProblem: (message: string) => void,
): SQSRecord[] {
  if (result.error) return [];
  let answer: unknown;
  try {
    answer = result.payload === undefined ? null : JSON.parse(result.payload);
  } catch {
    answer = null;
  }
  const failures = (answer as { batchItemFailures?: unknown } | null)?.batchItemFailures;
  if (!spec.reportBatchItemFailures) {
    if (Array.isArray(failures) && failures.length > 0) {
      onProblem(
        `the function reported ${failures.length} failed message(s) but its event source mapping has no FunctionResponseTypes ["ReportBatchItemFailures"]: Lambda deletes the whole batch, and those records are lost`,
      );
    }
    return [...records];
  }
  if (failures === undefined || failures === null) return [...records];
  if (!Array.isArray(failures)) return [];
  const ids = new Set(records.map((r) => r.messageId));
  const failed = new Set<string>();
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown })?.itemIdentifier;
    // An empty or unknown identifier makes Lambda treat the whole batch as failed.
    if (typeof id !== 'string' || !ids.has(id)) return [];
    failed.add(id);
  }
  return records.filter((r) => !failed.has(r.messageId));
}

export class EventSourceMapping {
  private readonly spec: MappingSpec;
  private readonly opts: MappingOptions;
  private running = false;
  private readonly pollers: Promise<void>[] = [];
  private active = 0;
  private readonly abort = new AbortController();
  invocations = 0;
  messagesDeleted = 0;

  constructor(spec: MappingSpec, opts: MappingOptions) {
    this.spec = spec;
    this.opts = opts;
  }

  get logicalId(): string {
    return this.spec.logicalId;
  }

  get queueUrl(): string {
    return this.spec.queueUrl;
  }

  /** Batches being handled right now. */
  get busy(): boolean {
    return this.active > 0;
  }

  /**
   * Starts the pollers. Lambda reads the queue's attributes with the function's role when the
   * mapping is created (GetQueueAttributes is one of the three permissions it requires), so a
   * mapping the role cannot use fails here, as its creation would.
   */
  async start(): Promise<void> {
    if (this.running || !this.spec.enabled) return;
    await this.opts.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.spec.queueUrl, AttributeNames: ['VisibilityTimeout'] }),
    );
    this.running = true;
    for (let i = 0; i < this.spec.maximumConcurrency; i++) this.pollers.push(this.poll());
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.allSettled(this.pollers);
  }

  private async poll(): Promise<void> {
    while (this.running) {
      try {
        const batch = await this.gather();
        if (!this.running && batch.length === 0) return;
        if (batch.length === 0) continue;
        await this.handle(batch);
      } catch (err) {
        if (!this.running) return;
        this.opts.onProblem({
          mapping: this.spec.logicalId,
          message: `polling failed: ${(err as Error).message}`,
        });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** Up to BatchSize messages, waiting at most the batching window once the first one arrived. */
  private async gather(): Promise<Message[]> {
    const batch: Message[] = [];
    const windowEnds = () => started + this.spec.batchingWindowSeconds * 1000;
    let started = 0;
    while (this.running && batch.length < this.spec.batchSize) {
      const waitSeconds = batch.length === 0 ? 1 : Math.max(0, Math.ceil((windowEnds() - Date.now()) / 1000));
      if (batch.length > 0 && Date.now() >= windowEnds()) break;
      const got = await this.opts.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.spec.queueUrl,
          MaxNumberOfMessages: Math.min(10, this.spec.batchSize - batch.length),
          WaitTimeSeconds: Math.min(waitSeconds, 20),
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: this.abort.signal },
      );
      const messages = got.Messages ?? [];
      if (messages.length > 0 && batch.length === 0) started = Date.now();
      batch.push(...messages);
      if (messages.length === 0 && batch.length > 0) break;
      if (messages.length === 0 && batch.length === 0) return batch;
    }
    return batch;
  }

  private async handle(batch: Message[]): Promise<void> {
    this.active += 1;
    try {
      const records = batch.map((m) => sqsRecord(m, this.spec.queueArn, this.opts.region));
      const result = await this.opts.invoke({ Records: records });
      this.invocations += 1;
      if (result.error) {
        this.opts.onProblem({
          mapping: this.spec.logicalId,
          message: `${this.spec.functionName} failed a batch of ${records.length}: ${result.error.errorType}: ${result.error.errorMessage}`,
        });
      }
      const done = settledMessages(this.spec, records, result, (message) =>
        this.opts.onProblem({ mapping: this.spec.logicalId, message }),
      );
      for (let i = 0; i < done.length; i += 10) {
        const chunk = done.slice(i, i + 10);
        const res = await this.opts.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.spec.queueUrl,
            Entries: chunk.map((r, j) => ({ Id: String(j), ReceiptHandle: r.receiptHandle })),
          }),
        );
        this.messagesDeleted += res.Successful?.length ?? 0;
      }
    } finally {
      this.active -= 1;
    }
  }
}

/** The mappings of the resolved template, checked for what the rehearsal needs to run them. */
export function mappingSpecs(
  resources: Readonly<Record<string, { Type: string; Properties?: Record<string, unknown> }>>,
  queueUrlOf: (arn: string) => string | undefined,
  functionNameOf: (ref: string) => string | undefined,
): MappingSpec[] {
  const specs: MappingSpec[] = [];
  for (const [logicalId, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    const p = r.Properties ?? {};
    const queueArn = String(p.EventSourceArn);
    const queueUrl = queueUrlOf(queueArn);
    const functionName = functionNameOf(String(p.FunctionName));
    if (!queueUrl || !functionName) {
      throw new Error(`${logicalId}: maps ${queueArn} to ${String(p.FunctionName)}, not both in the stack`);
    }
    const batchSize = Number(p.BatchSize ?? 10);
    specs.push({
      logicalId,
      functionName,
      queueArn,
      queueUrl,
      batchSize,
      batchingWindowSeconds: Number(p.MaximumBatchingWindowInSeconds ?? 0),
      maximumConcurrency: Number(
        (p.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency ?? 5,
      ),
      reportBatchItemFailures: ((p.FunctionResponseTypes as string[] | undefined) ?? []).includes(
        'ReportBatchItemFailures',
      ),
      enabled: p.Enabled !== false,
    });
  }
  return specs;
}

import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type MappingSpec, settledMessages } from '../../../local/rehearsal/EventSourceMapping.ts';
import { sqsRecord } from '../../../local/sqsRecord.ts';

/** Which messages Lambda deletes after an SQS-triggered invocation (AWS's documented rules). */
const spec = (reportBatchItemFailures: boolean): MappingSpec => ({
  logicalId: 'Esm',
  functionName: 'Write',
  queueArn: 'arn:aws:sqs:eu-west-1:123456789012:q',
  queueUrl: 'http://x/123456789012/q',
  batchSize: 10,
  batchingWindowSeconds: 0,
  maximumConcurrency: 2,
  reportBatchItemFailures,
  enabled: true,
});
const records = ['a', 'b', 'c'].map((id) =>
  sqsRecord(
    { MessageId: id, ReceiptHandle: `rh-${id}`, Body: id },
    'arn:aws:sqs:eu-west-1:123456789012:q',
    'eu-west-1',
  ),
);
const ids = (rs: SQSRecord[]) => rs.map((r) => r.messageId);
const ok = (payload: unknown) => ({ payload: JSON.stringify(payload), durationMs: 1 });

describe('settledMessages', () => {
  it('deletes every message but the reported failures when the mapping reports batch item failures', () => {
    const problems: string[] = [];
    const done = settledMessages(
      spec(true),
      records,
      ok({ batchItemFailures: [{ itemIdentifier: 'b' }] }),
      (m) => problems.push(m),
    );
    expect(ids(done)).toEqual(['a', 'c']);
    expect(problems).toEqual([]);
  });

  it('keeps the whole batch when a failure names no message of it', () => {
    expect(
      settledMessages(spec(true), records, ok({ batchItemFailures: [{ itemIdentifier: '' }] }), () => {}),
    ).toEqual([]);
    expect(
      settledMessages(spec(true), records, ok({ batchItemFailures: [{ itemIdentifier: 'zz' }] }), () => {}),
    ).toEqual([]);
  });

  it('keeps the whole batch after a function error', () => {
    const failed = { error: { errorType: 'Error', errorMessage: 'x' }, durationMs: 1 };
    expect(settledMessages(spec(true), records, failed, () => {})).toEqual([]);
    expect(settledMessages(spec(false), records, failed, () => {})).toEqual([]);
  });

  it('deletes the whole batch, failures included, without ReportBatchItemFailures, and says those records are lost', () => {
    const problems: string[] = [];
    const done = settledMessages(
      spec(false),
      records,
      ok({ batchItemFailures: [{ itemIdentifier: 'b' }] }),
      (m) => problems.push(m),
    );
    expect(ids(done)).toEqual(['a', 'b', 'c']);
    expect(problems).toEqual([expect.stringContaining('ReportBatchItemFailures')]);
  });

  it('gives the function Lambda’s record shape', () => {
    expect(records[0]).toMatchObject({
      messageId: 'a',
      receiptHandle: 'rh-a',
      body: 'a',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:q',
      awsRegion: 'eu-west-1',
      md5OfBody: '0cc175b9c0f1b6a831c399e269772661',
    });
  });
});

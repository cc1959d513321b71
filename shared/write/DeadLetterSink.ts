import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { isSqsSafe, sqsSafeText } from '../queue/sqsLimits.ts';

/** Why a record ended in the DLQ; sent as message attributes next to the original body. */
export interface DeadLetterReason {
  readonly code: string;
  readonly message: string;
  readonly httpStatus?: number;
  readonly attempts: number;
  readonly sync: string;
  readonly key?: string;
}

export interface DeadLetterSink {
  send(body: string, reason: DeadLetterReason): Promise<void>;
}

/** Attribute names are part of the operator contract (`writeback dlq list` reads them). */
export const DLQ_ATTRIBUTES = {
  code: 'wb-error-code',
  message: 'wb-error-message',
  httpStatus: 'wb-http-status',
  attempts: 'wb-attempts',
  sync: 'wb-sync',
  key: 'wb-key',
  failedAt: 'wb-failed-at',
} as const;

/** Sends permanently failed records straight to the sync's DLQ, with the reason as attributes. */
export class SqsDeadLetterSink implements DeadLetterSink {
  private readonly sqs: SQSClient;
  private readonly dlqUrl: string;
  private readonly now: () => number;

  public constructor(sqs: SQSClient, dlqUrl: string, now: () => number = Date.now) {
    this.sqs = sqs;
    this.dlqUrl = dlqUrl;
    this.now = now;
  }

  public async send(body: string, reason: DeadLetterReason): Promise<void> {
    // Attribute values obey SQS's character set like bodies do: an error text with a control
    // character or U+FFFE is shown escaped; a key that SQS would refuse is left to the body, which
    // keeps it exactly (peekDeadLetters reads it from there).
    const attr = (v: string) => ({ DataType: 'String', StringValue: sqsSafeText(v) });
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.dlqUrl,
        MessageBody: body,
        MessageAttributes: {
          [DLQ_ATTRIBUTES.code]: attr(reason.code),
          // Attribute values are limited in size with the body; keep the reason short.
          [DLQ_ATTRIBUTES.message]: attr(reason.message.slice(0, 1000) || '-'),
          [DLQ_ATTRIBUTES.attempts]: { DataType: 'Number', StringValue: String(reason.attempts) },
          [DLQ_ATTRIBUTES.sync]: attr(reason.sync),
          [DLQ_ATTRIBUTES.failedAt]: attr(new Date(this.now()).toISOString()),
          ...(reason.key && isSqsSafe(reason.key) ? { [DLQ_ATTRIBUTES.key]: attr(reason.key) } : {}),
          ...(reason.httpStatus
            ? { [DLQ_ATTRIBUTES.httpStatus]: { DataType: 'Number', StringValue: String(reason.httpStatus) } }
            : {}),
        },
      }),
    );
  }
}

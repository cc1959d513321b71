/**
 * What SQS enforces on AWS (not what an emulator lets through), and the pure helpers that keep
 * every message we send inside it: UTF-8 byte sizes, batches packed by count and by bytes, and
 * message bodies restricted to the character set SQS accepts.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
 */

/** Entries per SendMessageBatch call. */
export const SQS_MAX_BATCH_ENTRIES = 10;
/** Sum of all entries' sizes (bodies + message attributes) in one SendMessageBatch call. */
export const SQS_MAX_BATCH_BYTES = 1_048_576;
/** Largest MaximumMessageSize a queue may have (1 MiB); the stack sets its queues to it explicitly. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
/**
 * Bodies above this size travel by claim check (S3) instead of inline. Well below the 1 MiB
 * message limit, so four inline messages still fit one batch and a Lambda batch of the event
 * source mapping stays far below its 6 MB invocation payload.
 */
export const DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES = 256 * 1024;

/**
 * A character SQS refuses in a message body (or a string attribute value). AWS accepts
 * #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF: so the other C0 controls,
 * U+FFFE, U+FFFF and lone surrogates are refused. With the `u` flag a surrogate pair is one code
 * point (accepted) and a lone surrogate is matched on its own.
 */
const SQS_REFUSED = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** True when SQS accepts every character of `text` (AWS's rule, not the emulator's). */
export function isSqsSafe(text: string): boolean {
  SQS_REFUSED.lastIndex = 0;
  return !SQS_REFUSED.test(text);
}

/**
 * JSON text of `value` that SQS accepts as a message body and that JSON.parse turns back into
 * exactly `value`. JSON.stringify already escapes U+0000–U+001F and lone surrogates (well-formed
 * JSON.stringify, ES2019), but writes U+FFFE and U+FFFF as they are: those, and anything else SQS
 * refuses, are written as the JSON escape `\uXXXX`. Outside strings JSON.stringify writes ASCII
 * only, so every replaced character is inside a string, where the escape means the same character.
 */
export function sqsSafeJson(value: unknown): string {
  const json = JSON.stringify(value);
  SQS_REFUSED.lastIndex = 0;
  return json.replace(SQS_REFUSED, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Text SQS accepts as a string attribute value, for information only (the DLQ's reason and key):
 * refused characters are shown as `\uXXXX`. Not reversible; the body keeps the exact value.
 */
export function sqsSafeText(text: string): string {
  SQS_REFUSED.lastIndex = 0;
  return text.replace(SQS_REFUSED, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A message attribute as SQS counts it. */
export interface AttributeForSize {
  readonly DataType?: string | undefined;
  readonly StringValue?: string | undefined;
  readonly BinaryValue?: Uint8Array | undefined;
}

/**
 * Size of a message as SQS counts it against MaximumMessageSize and the batch limit: the body's
 * UTF-8 bytes plus, per attribute, the bytes of its name, data type and value.
 */
export function messageBytes(
  body: string,
  attributes: Readonly<Record<string, AttributeForSize>> = {},
): number {
  let size = Buffer.byteLength(body, 'utf8');
  for (const [name, attr] of Object.entries(attributes)) {
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(attr.DataType ?? '', 'utf8');
    if (attr.StringValue !== undefined) size += Buffer.byteLength(attr.StringValue, 'utf8');
    if (attr.BinaryValue !== undefined) size += attr.BinaryValue.byteLength;
  }
  return size;
}

/**
 * Splits messages of the given sizes into SendMessageBatch calls, in order: at most `maxEntries`
 * per call and at most `maxBytes` in total per call. Returns the indexes of each call's messages.
 * A message larger than `maxBytes` on its own gets a call of its own (SQS then refuses that one
 * entry, the caller reports it); callers keep each message within the message size limit first.
 */
export function planBatches(
  sizes: readonly number[],
  limits: { readonly maxEntries?: number; readonly maxBytes?: number } = {},
): number[][] {
  const maxEntries = limits.maxEntries ?? SQS_MAX_BATCH_ENTRIES;
  const maxBytes = limits.maxBytes ?? SQS_MAX_BATCH_BYTES;
  const batches: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  sizes.forEach((size, i) => {
    if (current.length > 0 && (current.length >= maxEntries || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  });
  if (current.length > 0) batches.push(current);
  return batches;
}

import { GetQueueAttributesCommand, PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { WritebackError } from '../errors.ts';
import type { Link } from '../links/Link.ts';
import { audited } from './audit.ts';
import type { OpsContext } from './OpsContext.ts';
import { type DeadLetterReason, groupByKey, type KeyGroup, peekDeadLetters } from './peekDeadLetters.ts';

/** One source key in the DLQ (a key can have several messages: it failed again after a redrive). */
export interface DeadLetterEntry {
  /** Undefined for a message whose body is not a write message (it names no key). */
  readonly key: string | undefined;
  /** Reason of the latest failure. */
  readonly reason: DeadLetterReason;
  readonly attempts: number | undefined;
  readonly firstFailedAt: string;
  readonly lastFailedAt: string;
  /** Source version of the latest message. */
  readonly version: string | undefined;
  readonly messages: number;
}

/** Filters of `dlq list`; all must match. */
export interface DeadLetterFilter {
  readonly keys?: readonly string[];
  /** Only this error code (exact, case-insensitive). */
  readonly code?: string;
  /** Only keys whose latest failure is at or after this time (ISO 8601). */
  readonly since?: string;
  /** At most this many entries. */
  readonly limit?: number;
}

type Progress = (line: string) => void;

/** The DLQ of a sync grouped by source key, oldest failure first. Reads only: every message stays. */
export async function listDeadLetters(
  ctx: OpsContext,
  syncName: string,
  filter: DeadLetterFilter = {},
  onProgress?: Progress,
): Promise<DeadLetterEntry[]> {
  ctx.sync(syncName);
  const peek = await peekDeadLetters(ctx.aws.sqs, ctx.syncResources(syncName).dlqUrl, {
    confirmEmpty: !ctx.exactQueues,
    // Only the grouping below runs between the read and the release.
    workSeconds: 15,
    ...(onProgress ? { onProgress } : {}),
  });
  try {
    const keys = filter.keys ? new Set(filter.keys) : undefined;
    const code = filter.code?.toUpperCase();
    const entries = groupByKey(peek.letters)
      .map(toEntry)
      .filter(
        (e) =>
          (!keys || (e.key !== undefined && keys.has(e.key))) &&
          (!code || e.reason.code.toUpperCase() === code) &&
          (!filter.since || e.lastFailedAt >= filter.since),
      );
    return filter.limit === undefined ? entries : entries.slice(0, filter.limit);
  } finally {
    await peek.release();
  }
}

/** Everything about one failed key: its messages (payload and reason of each failure) and its link. */
export interface DeadLetterDetail {
  readonly key: string;
  readonly link: Link | undefined;
  /** The latest message's payload, as the writer would have sent it. */
  readonly payload: Record<string, unknown> | undefined;
  /** Set when map() failed on the row: there is no payload to send. */
  readonly invalid: { readonly code: string; readonly message: string } | undefined;
  /** Every DLQ message of the key, oldest first. */
  readonly history: readonly {
    readonly failedAt: string;
    readonly reason: DeadLetterReason;
    readonly attempts: number | undefined;
    readonly version: string | undefined;
    readonly runId: string | undefined;
    readonly messageId: string;
  }[];
}

/** One key's dead letters and link; WB_NOT_FOUND when the key has neither. Reads only. */
export async function showDeadLetter(
  ctx: OpsContext,
  syncName: string,
  key: string,
  onProgress?: Progress,
): Promise<DeadLetterDetail> {
  ctx.sync(syncName);
  const [peek, link] = await Promise.all([
    peekDeadLetters(ctx.aws.sqs, ctx.syncResources(syncName).dlqUrl, {
      confirmEmpty: !ctx.exactQueues,
      workSeconds: 15,
      ...(onProgress ? { onProgress } : {}),
    }),
    ctx.links.get(syncName, key),
  ]);
  try {
    const letters = peek.letters.filter((l) => l.key === key);
    if (letters.length === 0 && !link) {
      throw new WritebackError(
        'WB_NOT_FOUND',
        `sync ${syncName} has neither a DLQ message nor a link for key ${key}: check the key (\`writeback dlq list ${syncName}\`)`,
      );
    }
    const latest = letters[letters.length - 1];
    return {
      key,
      link,
      payload: latest?.message && !latest.message.invalid ? latest.message.payload : undefined,
      invalid: latest?.message?.invalid,
      history: letters.map((l) => ({
        failedAt: l.failedAt,
        reason: l.reason,
        attempts: l.attempts,
        version: l.message?.version,
        runId: l.message?.runId,
        messageId: l.messageId,
      })),
    };
  } finally {
    await peek.release();
  }
}

/**
 * Deletes DLQ messages (all, or those of some keys). Their links stay failed/dead. The whole DLQ
 * goes with one PurgeQueue (it also removes what arrives during the purge); SQS allows one per
 * queue every 60 seconds, so a second purge within the minute, and a purge by key, read the DLQ
 * and delete the messages in batches.
 */
export async function purgeDeadLetters(
  ctx: OpsContext,
  syncName: string,
  opts: { keys?: readonly string[]; onProgress?: Progress } = {},
): Promise<{ messagesRemoved: number; keys: number | undefined }> {
  ctx.sync(syncName);
  const scope = opts.keys ? `--key (${opts.keys.length} asked)` : '--all';
  const dlqUrl = ctx.syncResources(syncName).dlqUrl;
  let purged: string[] = [];
  return audited(
    ctx,
    { sync: syncName, action: 'dlq-purge', detail: scope },
    async () => {
      if (!opts.keys) {
        const removed = await purgeWholeQueue(ctx, dlqUrl);
        if (removed !== undefined) return { messagesRemoved: removed, keys: undefined };
      }
      const peek = await peekDeadLetters(ctx.aws.sqs, dlqUrl, {
        confirmEmpty: !ctx.exactQueues,
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      });
      try {
        const wanted = opts.keys ? new Set(opts.keys) : undefined;
        const doomed = peek.letters.filter((l) => !wanted || (l.key !== undefined && wanted.has(l.key)));
        const doomedIds = new Set(doomed.map((l) => l.messageId));
        // Everything else is visible again before the deletes: nothing is hidden longer than needed.
        await peek.release(peek.letters.filter((l) => !doomedIds.has(l.messageId)));
        purged = [...new Set(doomed.map((l) => l.key ?? `(unreadable message ${l.messageId})`))];
        await peek.remove(doomed);
        if (!opts.keys) return { messagesRemoved: doomed.length, keys: undefined };
        return { messagesRemoved: doomed.length, keys: purged.length };
      } finally {
        await peek.release();
      }
    },
    (r) => ({
      records: r.keys ?? r.messagesRemoved,
      keys: purged,
      detail: `${scope}: ${r.messagesRemoved} DLQ message(s) deleted`,
    }),
  );
}

/**
 * PurgeQueue; the messages it removed (the queue's approximate depth just before). Undefined when
 * SQS refuses because the queue was purged less than 60 seconds ago: the caller deletes by reading.
 */
async function purgeWholeQueue(ctx: OpsContext, dlqUrl: string): Promise<number | undefined> {
  const attrs = await ctx.aws.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: dlqUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const a = attrs.Attributes ?? {};
  const depth =
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
  if (depth === 0) return 0;
  try {
    await ctx.aws.sqs.send(new PurgeQueueCommand({ QueueUrl: dlqUrl }));
  } catch (err) {
    if ((err as { name?: string }).name === 'PurgeQueueInProgress') return undefined;
    throw err;
  }
  return depth;
}

function toEntry(g: KeyGroup): DeadLetterEntry {
  const first = g.letters[0]!;
  const last = g.letters[g.letters.length - 1]!;
  return {
    key: g.key,
    reason: last.reason,
    attempts: last.attempts,
    firstFailedAt: first.failedAt,
    lastFailedAt: last.failedAt,
    version: last.message?.version,
    messages: g.letters.length,
  };
}

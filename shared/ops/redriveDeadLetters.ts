import { randomUUID } from 'node:crypto';
import type { SyncConfig } from '../config/schema.ts';
import { SqsEnqueuer } from '../queue/SqsEnqueuer.ts';
import type { WriteMessage } from '../queue/WriteMessage.ts';
import { readSourceRowsByKey } from '../write/readSourceRowsByKey.ts';
import { toWriteMessage } from '../write/toWriteMessage.ts';
import type { OpsContext } from './OpsContext.ts';
import { type DeadLetter, groupByKey, type KeyGroup, peekDeadLetters } from './peekDeadLetters.ts';

/** Which dead letters to send back, and built from what. */
export interface RedriveOptions {
  /** Only these keys; undefined: every key in the DLQ. */
  readonly keys?: readonly string[];
  /**
   * `source` (default): re-read each key's current row and map it with the current config, so a
   * fix in the source or in map() takes effect. `stored`: send the stored message as it is (replay).
   */
  readonly from?: 'source' | 'stored';
  readonly onProgress?: (line: string) => void;
}

/** What a redrive did, and what it left in the DLQ and why. */
export interface RedriveResult {
  /** Keys sent back to the sync's queue (their DLQ messages deleted). */
  readonly redriven: string[];
  /** DLQ messages deleted (a key may have had several). */
  messagesRemoved: number;
  /** Keys whose source row is gone (deleted, or excluded by the sync's where): left in the DLQ. */
  readonly sourceGone: string[];
  /** Keys whose row map() still refuses, with its message: left in the DLQ. */
  readonly stillInvalid: { key: string; message: string }[];
  /** Asked-for keys that are not in the DLQ. */
  readonly notFound: string[];
  /** Messages without a readable key: left in the DLQ (`dlq purge` removes them). */
  unreadable: number;
}

const READ_CHUNK = 500;

/**
 * Sends dead-lettered records back to their sync's queue, then deletes them from the DLQ. Sent
 * first, deleted after: a crash in between leaves a copy in both queues, which is harmless (the
 * link makes the second delivery a no-op). A redriven message keeps the run id of the run that
 * first sent it, so that run's counts show what became of its records.
 * Not yet: parents before children (no sync has a parent today); when they do, the parent sync's
 * DLQ must be redriven (and drained) before its children's.
 */
export async function redriveDeadLetters(
  ctx: OpsContext,
  syncName: string,
  opts: RedriveOptions = {},
): Promise<RedriveResult> {
  const sync = ctx.sync(syncName);
  const res = ctx.syncResources(syncName);
  const progress = opts.onProgress ?? (() => undefined);
  const peek = await peekDeadLetters(ctx.aws.sqs, res.dlqUrl, {
    holdSeconds: 120,
    confirmEmpty: !ctx.exactQueues,
    onProgress: (n) => progress(`read ${n} DLQ messages`),
  });
  const result: RedriveResult = {
    redriven: [],
    messagesRemoved: 0,
    sourceGone: [],
    stillInvalid: [],
    notFound: [],
    unreadable: 0,
  };
  try {
    const wanted = opts.keys ? new Set(opts.keys) : undefined;
    const groups = groupByKey(peek.letters);
    const selected = groups.filter((g) => g.key !== undefined && (!wanted || wanted.has(g.key)));
    if (!wanted) result.unreadable = groups.filter((g) => g.key === undefined).length;
    if (wanted) {
      const present = new Set(selected.map((g) => g.key));
      result.notFound.push(...[...wanted].filter((k) => !present.has(k)));
    }
    const enqueuer = new SqsEnqueuer(ctx.aws.sqs, res.queueUrl);
    for (let i = 0; i < selected.length; i += READ_CHUNK) {
      const chunk = selected.slice(i, i + READ_CHUNK);
      const messages =
        opts.from === 'stored'
          ? storedMessages(chunk, result)
          : await freshMessages(ctx, sync, chunk, result);
      await enqueuer.sendAll(messages.map((m) => m.message));
      const done = messages.flatMap((m) => m.letters);
      await peek.remove(done);
      result.redriven.push(...messages.map((m) => m.message.key));
      result.messagesRemoved += done.length;
      progress(`redriven ${result.redriven.length} of ${selected.length} keys`);
    }
    return result;
  } finally {
    await peek.release();
  }
}

interface Outgoing {
  readonly message: WriteMessage;
  readonly letters: readonly DeadLetter[];
}

/** The newest stored message of each key, unchanged (replay). */
function storedMessages(groups: readonly KeyGroup[], result: RedriveResult): Outgoing[] {
  const out: Outgoing[] = [];
  for (const g of groups) {
    const newest = [...g.letters].reverse().find((l) => l.message && !l.message.invalid);
    if (!newest?.message) {
      const invalid = g.letters[g.letters.length - 1]?.message?.invalid;
      result.stillInvalid.push({
        key: g.key!,
        message: invalid
          ? `stored message has no payload (map failed: ${invalid.message}); redrive from the source instead`
          : 'stored message is unreadable',
      });
      continue;
    }
    out.push({ message: newest.message, letters: g.letters });
  }
  return out;
}

/** A message built from each key's current source row, with the current map(). */
async function freshMessages(
  ctx: OpsContext,
  sync: SyncConfig,
  groups: readonly KeyGroup[],
  result: RedriveResult,
): Promise<Outgoing[]> {
  const sql = await ctx.warehouse();
  const rows = new Map(
    (
      await readSourceRowsByKey(
        sql,
        sync,
        groups.map((g) => g.key!),
      )
    ).map((r) => [r.key, r]),
  );
  const enqueuedAt = new Date().toISOString();
  const fallbackRunId = `redrive-${randomUUID()}`;
  const out: Outgoing[] = [];
  for (const g of groups) {
    const row = rows.get(g.key!);
    if (!row) {
      result.sourceGone.push(g.key!);
      continue;
    }
    const runId = [...g.letters].reverse().find((l) => l.message)?.message?.runId ?? fallbackRunId;
    const message = toWriteMessage(sync, row, runId, enqueuedAt);
    if (message.invalid) {
      result.stillInvalid.push({ key: g.key!, message: message.invalid.message });
      continue;
    }
    out.push({ message, letters: g.letters });
  }
  return out;
}

import { randomUUID } from 'node:crypto';
import type { SyncConfig } from '../config/schema.ts';
import { buildMessages, childReadersOf } from '../extract/buildMessages.ts';
import type { WriteMessage } from '../queue/WriteMessage.ts';
import { chunks } from '../util/chunks.ts';
import { forEachLimit } from '../util/forEachLimit.ts';
import { readSourceRowsByKey } from '../write/readSourceRowsByKey.ts';
import { audited } from './audit.ts';
import type { OpsContext } from './OpsContext.ts';
import {
  type DeadLetter,
  DLQ_CONCURRENCY,
  groupByKey,
  type KeyGroup,
  peekDeadLetters,
} from './peekDeadLetters.ts';
import { progressMeter } from './progressMeter.ts';

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
  /**
   * The failed parents of these records, redriven first (from the parent sync's DLQ) so that the
   * children wait for them instead of failing again; one entry per parent sync, recursively.
   */
  readonly parents: ParentRedrive[];
}

/** What redriving the failed parents of a sync's dead letters did. */
export interface ParentRedrive extends RedriveResult {
  readonly sync: string;
  /**
   * Parent keys whose link is failed or dead but that are not in the parent sync's DLQ (purged):
   * sent from their current source row instead (also counted in `redriven`).
   */
  readonly fromSource: string[];
  /** Such keys that could not be sent: a replay (`--stored`) has no stored message for them. */
  readonly missingFromDlq: string[];
}

const READ_CHUNK = 500;
/** Chunks of a sync without parents redriven at once (each sends and deletes in parallel too). */
const CHUNKS_AT_ONCE = 4;
/** Keys a second a redrive is assumed to manage at least, for how long it holds the DLQ. */
const REDRIVE_RATE_FLOOR = 200;

/**
 * Sends dead-lettered records back to their sync's queue, then deletes them from the DLQ. Sent
 * first, deleted after: a crash in between leaves a copy in both queues, which is harmless (the
 * link makes the second delivery a no-op). A redriven message keeps the run id of the run that
 * first sent it, so that run's counts show what became of its records.
 *
 * Parents before children: when a record references a parent whose link is failed or dead, that
 * parent is redriven first from its own sync's DLQ (and its parents before it), and its link is
 * marked `retrying` before any child is sent. A child that arrives before its parent is written
 * then waits for it (WB_PARENT_NOT_LINKED, retried with backoff) instead of going straight back
 * to the DLQ as parent-failed. Each redriven key's failed or dead link is marked `retrying` too,
 * so `status` shows it in flight.
 */
export async function redriveDeadLetters(
  ctx: OpsContext,
  syncName: string,
  opts: RedriveOptions = {},
): Promise<RedriveResult> {
  ctx.sync(syncName);
  const replay = opts.from === 'stored';
  return audited(
    ctx,
    {
      sync: syncName,
      action: replay ? 'replay' : 'dlq-redrive',
      detail: `${opts.keys ? `--key (${opts.keys.length} asked)` : '--all'}, ${replay ? 'as stored' : 'from the current source rows'}`,
    },
    () => redriveUnaudited(ctx, syncName, opts),
    (r) => ({
      records: r.redriven.length,
      keys: r.redriven,
      detail:
        `${opts.keys ? `--key (${opts.keys.length} asked)` : '--all'}, ${replay ? 'as stored' : 'from the current source rows'}: ` +
        `${r.messagesRemoved} DLQ message(s) removed` +
        (r.parents.length > 0
          ? `; parents first: ${flatParents(r.parents)
              .map((p) => `${p.sync} ${p.redriven.length}`)
              .join(', ')}`
          : ''),
    }),
  );
}

/** Every parent sync a redrive went through, grandparents included. */
function flatParents(parents: readonly ParentRedrive[]): ParentRedrive[] {
  return parents.flatMap((p) => [p, ...flatParents(p.parents)]);
}

/** redriveDeadLetters without its audit record: the parents' redrives are part of the child's. */
async function redriveUnaudited(
  ctx: OpsContext,
  syncName: string,
  opts: RedriveOptions,
): Promise<RedriveResult> {
  const sync = ctx.sync(syncName);
  const res = ctx.syncResources(syncName);
  const progress = opts.onProgress ?? (() => undefined);
  const peek = await peekDeadLetters(ctx.aws.sqs, res.dlqUrl, {
    // Each chunk deletes what it sent and releases what it left: the hold covers only a crash.
    workSeconds: (messages) => 120 + Math.ceil(messages / REDRIVE_RATE_FLOOR),
    // A claim-checked record's stored message, for a replay (`--stored`).
    ...(ctx.claimChecks ? { claimChecks: ctx.claimChecks } : {}),
    confirmEmpty: !ctx.exactQueues,
    onProgress: progress,
  });
  const result: RedriveResult = {
    redriven: [],
    messagesRemoved: 0,
    sourceGone: [],
    stillInvalid: [],
    notFound: [],
    unreadable: 0,
    parents: [],
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
    // What this redrive does not send is visible again now, not when the redrive ends.
    const selectedIds = new Set(selected.flatMap((g) => g.letters.map((l) => l.messageId)));
    await peek.release(peek.letters.filter((l) => !selectedIds.has(l.messageId)));
    const enqueuer = ctx.enqueuer(syncName);
    const meter = progressMeter('redriving', selected.length, progress);
    // Chunks in parallel only where no record has a parent: parents go first, one chunk at a time.
    await forEachLimit(chunks(selected, READ_CHUNK), sync.parent ? 1 : CHUNKS_AT_ONCE, async (chunk) => {
      const messages =
        opts.from === 'stored'
          ? storedMessages(chunk, result)
          : await freshMessages(ctx, sync, chunk, result);
      await redriveFailedParents(
        ctx,
        messages.map((m) => m.message),
        opts,
        result,
      );
      await markLinksRedriven(
        ctx,
        sync.name,
        messages.map((m) => m.message),
      );
      // Sent, then deleted: a crash between the two leaves a copy in both queues, never none.
      await enqueuer.sendAll(messages.map((m) => m.message));
      const done = messages.flatMap((m) => m.letters);
      await peek.remove(done);
      // Keys left in the DLQ (source gone, still invalid) are visible again at once.
      await peek.release(chunk.flatMap((g) => g.letters));
      result.redriven.push(...messages.map((m) => m.message.key));
      result.messagesRemoved += done.length;
      meter.tick(result.redriven.length);
    });
    meter.done(result.redriven.length);
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

/**
 * A message built from each key's current source row, as the extract builds it (embedded children
 * attached, soft deletes as deletes, the current map()).
 */
async function freshMessages(
  ctx: OpsContext,
  sync: SyncConfig,
  groups: readonly KeyGroup[],
  result: RedriveResult,
): Promise<Outgoing[]> {
  const sql = await ctx.warehouse();
  const rows = await readSourceRowsByKey(
    sql,
    sync,
    groups.map((g) => g.key!),
  );
  const children = childReadersOf(sql, sync);
  const built = new Map(
    (await buildMessages(sync, rows, `redrive-${randomUUID()}`, children, Date.now)).map((m) => [m.key, m]),
  );
  const out: Outgoing[] = [];
  for (const g of groups) {
    const message = built.get(g.key!);
    if (!message) {
      result.sourceGone.push(g.key!);
      continue;
    }
    if (message.invalid) {
      result.stillInvalid.push({ key: g.key!, message: message.invalid.message });
      continue;
    }
    // The run that first sent the record keeps it, so that run's counts show what became of it.
    const runId = [...g.letters].reverse().find((l) => l.message)?.message?.runId ?? message.runId;
    out.push({ message: { ...message, runId }, letters: g.letters });
  }
  return out;
}

/**
 * Redrives, from the parent sync's DLQ, the parents of these messages whose links are failed or
 * dead; recursive through redriveUnaudited, so grandparents go first.
 */
async function redriveFailedParents(
  ctx: OpsContext,
  messages: readonly WriteMessage[],
  opts: RedriveOptions,
  result: RedriveResult,
): Promise<void> {
  const byParentSync = new Map<string, Set<string>>();
  for (const m of messages) {
    if (m.parent && !m.delete)
      byParentSync.set(m.parent.sync, (byParentSync.get(m.parent.sync) ?? new Set()).add(m.parent.key));
  }
  for (const [parentSync, keys] of byParentSync) {
    const links = await ctx.links.batchGet(parentSync, [...keys]);
    const failed = [...keys].filter((k) => {
      const status = links.get(k)?.status;
      return status === 'failed' || status === 'dead';
    });
    if (failed.length === 0) continue;
    const parent = await redriveUnaudited(ctx, parentSync, {
      keys: failed,
      ...(opts.from ? { from: opts.from } : {}),
      ...(opts.onProgress
        ? { onProgress: (line) => opts.onProgress!(`${parentSync} (parents): ${line}`) }
        : {}),
    });
    // A failed parent whose dead letter was purged still blocks its children: send it from its source row.
    const fromSource =
      opts.from === 'stored' || parent.notFound.length === 0
        ? []
        : await sendFromSource(ctx, parentSync, parent.notFound, opts, parent);
    const missingFromDlq = parent.notFound.filter((k) => !fromSource.includes(k));
    const earlier = result.parents.find((p) => p.sync === parentSync);
    if (earlier) {
      earlier.redriven.push(...parent.redriven);
      earlier.messagesRemoved += parent.messagesRemoved;
      earlier.sourceGone.push(...parent.sourceGone);
      earlier.stillInvalid.push(...parent.stillInvalid);
      earlier.fromSource.push(...fromSource);
      earlier.missingFromDlq.push(...missingFromDlq);
      earlier.parents.push(...parent.parents);
    } else {
      result.parents.push({ ...parent, sync: parentSync, notFound: [], fromSource, missingFromDlq });
    }
  }
}

/**
 * Sends keys that have no dead letter from their current source rows, as a redrive would (their
 * own failed parents first); what cannot be built is recorded in `result`. The keys sent.
 */
async function sendFromSource(
  ctx: OpsContext,
  syncName: string,
  keys: readonly string[],
  opts: RedriveOptions,
  result: RedriveResult,
): Promise<string[]> {
  const built = await freshMessages(
    ctx,
    ctx.sync(syncName),
    keys.map((key) => ({ key, letters: [] })),
    result,
  );
  const messages = built.map((m) => m.message);
  await redriveFailedParents(ctx, messages, opts, result);
  await markLinksRedriven(ctx, syncName, messages);
  await ctx.enqueuer(syncName).sendAll(messages);
  result.redriven.push(...messages.map((m) => m.key));
  return messages.map((m) => m.key);
}

/** Failed and dead links of the keys about to be sent say `retrying`: children wait for them. */
async function markLinksRedriven(
  ctx: OpsContext,
  syncName: string,
  messages: readonly WriteMessage[],
): Promise<void> {
  const links = await ctx.links.batchGet(
    syncName,
    messages.map((m) => m.key),
  );
  const now = Date.now();
  await forEachLimit(messages, DLQ_CONCURRENCY, async (m) => {
    const link = links.get(m.key);
    if (link?.status !== 'failed' && link?.status !== 'dead') return;
    // False when a writer moved the link on meanwhile: then it is no longer failed anyway.
    await ctx.links.markRedriven({ sync: syncName, key: m.key, seen: link, runId: m.runId, now });
  });
}

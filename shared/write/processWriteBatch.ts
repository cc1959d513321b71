import type { SyncConfig } from '../config/schema.ts';
import type { Connector } from '../connectors/Connector.ts';
import type { Link } from '../links/Link.ts';
import type { LinkStore } from '../links/LinkStore.ts';
import { newestVersion } from '../links/newestVersion.ts';
import type { PairStore } from '../pair/PairStore.ts';
import type { ClaimCheckStore } from '../queue/ClaimCheck.ts';
import { chunks } from '../util/chunks.ts';
import { forEachLimit } from '../util/forEachLimit.ts';
import { type BatchContext, type Item, LINK_CONCURRENCY } from './BatchContext.ts';
import { backoffSeconds } from './backoff.ts';
import type { DeadLetterSink } from './DeadLetterSink.ts';
import type { CredentialSource } from './RenewableConnection.ts';
import { readInbound } from './readInbound.ts';
import { STUCK_AFTER_MS } from './redriveFailed.ts';
import type { SharedRateLimiter } from './SharedRateLimiter.ts';
import { retryBudget, settleDeferred, settleUnchanged } from './settle.ts';
import { writeChunk } from './writeChunk.ts';

export { retryBudget } from './settle.ts';

/** One delivered SQS message, independent of how it arrived (Lambda event, local poller). */
export interface InboundMessage {
  readonly messageId: string;
  readonly body: string;
  readonly receiptHandle: string;
  /** ApproximateReceiveCount: 1 on the first delivery. */
  readonly receiveCount: number;
}

/** Points of the protocol where the chaos tests crash the writer (a throw there aborts the invocation). */
export type WriteStep = 'received' | 'claimed' | 'written' | 'committed';

/** Fault injection for tests: called at each step for each key; throwing simulates a crash right there. */
export interface WriteFaults {
  at(step: WriteStep, key: string): void | Promise<void>;
}

export interface WriteDeps {
  readonly links: LinkStore;
  /** The entity state of two-way pairs; required by a sync that is one direction of a pair. */
  readonly pairs?: PairStore;
  /** The target's connector; with `credentials`, the one it gives each batch is used instead. */
  readonly connector: Connector;
  /**
   * Where the connector's credentials come from when they can change while the writer runs
   * (Secrets Manager on AWS): each batch takes its connector from `current()` (credentials cached
   * with a time to live), and when the target refuses the credentials the writer re-reads them
   * once (`reconnect()`) and repeats the refused call with the new connector. @default none
   */
  readonly credentials?: CredentialSource;
  /**
   * Seconds before a record whose credentials the target refused (after the re-read) comes back.
   * Long: only an operator updating the secret helps, and the sync is paused meanwhile. @default 900
   */
  readonly authBackoffSeconds?: number;
  readonly deadLetters: DeadLetterSink;
  /** Delays the next delivery of a message (ChangeMessageVisibility). */
  readonly delay: (receiptHandle: string, seconds: number) => Promise<void>;
  readonly now: () => number;
  readonly newToken: () => string;
  /** Told the counts of every finished batch (local progress display, metrics). */
  readonly onResult?: (counts: WriteCounts) => void;
  /** Paces target calls across every writer of the connection. @default none */
  readonly limiter?: SharedRateLimiter;
  /** Longest wait for a rate-limit slot before handing records back to the queue. @default 20000 */
  readonly maxRateWaitMs?: number;
  /**
   * Lease on a claimed key. Must exceed the longest target call (connector timeout) by a wide
   * margin: a writer that outlives its lease may race the one that took over. @default 120000
   */
  readonly leaseMs?: number;
  /** Seconds before a failed record's next delivery. @default backoffSeconds */
  readonly backoff?: (receiveCount: number, retryAfterSeconds?: number) => number;
  /** Crash points for the chaos tests. */
  readonly faults?: WriteFaults;
  /**
   * Where bodies too large for a message are stored (claim check): a pointer message is resolved
   * here, and its object deleted once the message is settled. @default none: pointers are dead-lettered
   */
  readonly claimChecks?: ClaimCheckStore;
}

export interface WriteCounts {
  created: number;
  updated: number;
  unchanged: number;
  stale: number;
  retrying: number;
  failed: number;
  dead: number;
  busy: number;
  /** Of `retrying`: children whose parent is not linked yet. */
  waitingForParent: number;
  /** Records deleted or archived in the target (soft-deleted source rows). */
  deleted: number;
  /**
   * Records handed back unstarted because the invocation's time ran out (no attempt used, links
   * untouched): they come back at once, for another invocation.
   */
  deferred: number;
  /**
   * Records the target refused for the connection's credentials, after a re-read of the secret:
   * handed back with a long backoff (or parked, see settleAuthRefused), never dead-lettered.
   */
  authRefused: number;
}

/** All counters at zero. */
export function emptyWriteCounts(): WriteCounts {
  return {
    created: 0,
    updated: 0,
    unchanged: 0,
    stale: 0,
    retrying: 0,
    failed: 0,
    dead: 0,
    busy: 0,
    waitingForParent: 0,
    deleted: 0,
    deferred: 0,
    authRefused: 0,
  };
}

/** What one invocation adds to the write dependencies. */
export interface WriteBatchOptions {
  /**
   * Milliseconds left before the invocation must return (Lambda's getRemainingTimeInMillis). A
   * chunk starts only while at least `reserveMs` is left; the rest goes back unstarted.
   * @default no deadline
   */
  readonly remainingMs?: () => number;
  /**
   * Time one chunk needs once started: its target call (the connector's timeout; the repeat after
   * a re-read of the credentials is skipped when it no longer fits) and its link writes. At most
   * half the time left when the batch starts, so a batch always starts its first chunk.
   * @default 35000 (the HTTP connectors' 30 s timeout and 5 s for claims and commits)
   */
  readonly reserveMs?: number;
}

/** @see WriteBatchOptions.reserveMs */
export const CALL_RESERVE_MS = 35_000;

export interface WriteBatchResult {
  /** Message ids to report in batchItemFailures: they come back after their (backed-off) visibility. */
  readonly retry: string[];
  readonly counts: WriteCounts;
}

const LEASE_MS = 120_000;

/**
 * Flags the sync's links for a redrive when a message of the batch is redelivered: at once when it
 * is on its last attempt (it may go dead, whose backoff the extract then reads), else from when a
 * link it leaves retrying or pending would turn stuck.
 */
async function flagComebacks(
  sync: SyncConfig,
  inbound: readonly InboundMessage[],
  deps: WriteDeps,
): Promise<void> {
  const budget = retryBudget(sync.maxReceiveCount);
  const last = inbound.some((m) => m.receiveCount >= budget);
  if (!last && !inbound.some((m) => m.receiveCount >= 2)) return;
  const now = deps.now();
  await deps.links.health.flagRedrive(sync.name, last ? now : now + STUCK_AFTER_MS, now);
}

/**
 * The write protocol for one batch of messages of one sync (DESIGN.md, "The write protocol";
 * docs/write-protocol.md): drop duplicates and stale versions through the links, then per chunk
 * of the target's batch size claim each key with a lease, write through the connector (with the
 * recovery path its capabilities call for), commit each link conditional on its lease, and sort
 * failures into retry-later (batchItemFailures with backoff) and dead-letter (with the reason).
 * Throws only when the link store is unreachable or a crash is injected: the whole batch is
 * then retried, and the links make the retry safe.
 */
export async function processWriteBatch(
  sync: SyncConfig,
  inbound: readonly InboundMessage[],
  deps: WriteDeps,
  opts: WriteBatchOptions = {},
): Promise<WriteBatchResult> {
  const startedAt = deps.now();
  const { remainingMs } = opts;
  const reserveMs = remainingMs ? Math.min(opts.reserveMs ?? CALL_RESERVE_MS, remainingMs() / 2) : 0;
  const ctx: BatchContext = {
    sync,
    deps,
    counts: emptyWriteCounts(),
    retry: [],
    deadLettered: new Set(),
    stats: { calls: 0, failedCalls: 0 },
    leaseMs: deps.leaseMs ?? LEASE_MS,
    backoff: deps.backoff ?? ((n, after) => backoffSeconds(n, after)),
    // Cached with a time to live: a rotated secret is picked up here, without a failed call.
    connector: deps.credentials ? await deps.credentials.current() : deps.connector,
    startableMs: remainingMs ? () => remainingMs() - reserveMs : () => Number.POSITIVE_INFINITY,
    auth: {},
  };

  // 0. A message that comes back may leave its link for the extract's redrive: claimed by a delivery
  //    that crashed, retrying, parked, or dead on its last attempt. Flagged before anything is
  //    claimed, so that a crash on this delivery still leaves the flag (the quiet extract looks for
  //    links to redrive only when flagged; the happy path, first deliveries, writes no flag).
  await flagComebacks(sync, inbound, deps);

  // 1. Parse, after following claim-check pointers to the stored body; a message we cannot read
  //    is dead-lettered at once, never retried (only a failing object store is retried).
  const items = await readInbound(ctx, inbound);
  for (const it of items) await deps.faults?.at('received', it.msg.key);

  // 2. Per key keep only the newest version in this batch; older ones are superseded.
  const newest = newestPerKey(ctx, items);

  // 3. Duplicate or stale against the links: no target call.
  const toClaim = await dropUnchanged(ctx, newest);

  // 4. Claim, write and commit one target batch at a time: a lease only has to outlast one call.
  //    A chunk starts only while its call and commits fit in the invocation's time; the rest goes
  //    back unclaimed before the deadline, so the batch never times out as a whole.
  const batchSize = Math.min(
    sync.batchSize ?? ctx.connector.capabilities.maxBatchSize,
    ctx.connector.capabilities.maxBatchSize,
  );
  const pending = chunks(toClaim, batchSize);
  for (const [i, chunk] of pending.entries()) {
    if (ctx.startableMs() < 0) {
      await settleDeferred(ctx, pending.slice(i).flat());
      break;
    }
    await writeChunk(ctx, chunk);
  }

  // 5. Health: how the target answered and how far behind the queue is (best effort).
  await recordHealth(ctx, items, startedAt);
  await deleteSettledClaimChecks(ctx, items);
  deps.onResult?.(ctx.counts);
  return { retry: ctx.retry, counts: ctx.counts };
}

/** The newest version of each key in the batch; every older one is counted stale. */
function newestPerKey(ctx: BatchContext, items: readonly Item[]): Map<string, Item> {
  const newest = new Map<string, Item>();
  for (const it of items) {
    const cur = newest.get(it.msg.key);
    // Of two equal versions the later one wins, unless only the earlier one is a repair.
    const keepRepair = cur?.msg.repair === true && it.msg.repair !== true;
    if (
      !cur ||
      BigInt(it.msg.version) > BigInt(cur.msg.version) ||
      (BigInt(it.msg.version) === BigInt(cur.msg.version) && !keepRepair)
    ) {
      if (cur) ctx.counts.stale++;
      newest.set(it.msg.key, it);
    } else {
      ctx.counts.stale++;
    }
  }
  return newest;
}

/**
 * The items to claim: those the links do not show as stale or already written.
 *
 * A first delivery is claimed without a read: the extract has just found it changed against the
 * links, and the claim's conditions alone refuse a stale, duplicate or busy key (a refused claim
 * tells them apart). The happy path so pays two conditional writes and no read. A redelivery is
 * often a duplicate of a write that was committed (the writer crashed before the acknowledgement):
 * one strongly consistent read is cheaper than a refused write, so those are read first. Throws
 * LinkStoreUnavailableError before any target call when the link store cannot be read: the whole
 * batch comes back. Strongly consistent: an eventually consistent read may miss a commit of the
 * last moment and call a newer message unchanged. Even so, "unchanged" is only acknowledged when
 * the read shows this version or a newer one, or a conditional write (touchVersion) proves it.
 */
async function dropUnchanged(ctx: BatchContext, newest: ReadonlyMap<string, Item>): Promise<Item[]> {
  const { sync, deps, counts } = ctx;
  const redelivered = [...newest.values()].filter((it) => it.inbound.receiveCount >= 2);
  const links = redelivered.length
    ? await deps.links.batchGet(
        sync.name,
        redelivered.map((it) => it.msg.key),
        { consistent: true },
      )
    : new Map<string, Link>();
  const toClaim: Item[] = [];
  for (const it of newest.values()) {
    // A first delivery has no link read: undefined, so it goes to the claim.
    const link = links.get(it.msg.key);
    const seen = newestVersion(link);
    if (seen !== undefined && seen > BigInt(it.msg.version)) counts.stale++;
    // A repair rewrites content the link says the target holds: the target lost or changed it.
    else if (!it.msg.repair && link?.status === 'ok' && link.hash === it.msg.hash) {
      // The link changed since the read (a writer claimed or committed other content): claim decides.
      if (!(await settleUnchanged(ctx, it, link))) toClaim.push(it);
    } else toClaim.push(it);
  }
  return toClaim;
}

/**
 * Records how the target answered and how far behind the queue is, for the extract's pause (best
 * effort). Credentials refused after the re-read open (or keep open) the sync's auth outage; a
 * call that went through ends it.
 */
async function recordHealth(ctx: BatchContext, items: readonly Item[], startedAt: number): Promise<void> {
  const { sync, deps } = ctx;
  const lagMs = queueLag(items, deps.now());
  if (ctx.stats.calls > 0 || lagMs !== undefined) {
    await deps.links.health.record(sync.name, deps.now(), { ...ctx.stats, lagMs }).catch(() => undefined);
  }
  const refused = ctx.auth.refused;
  if (refused) {
    await deps.links.health
      .recordAuthRefusal(sync.name, deps.now(), {
        code: refused.code,
        message: refused.message,
        ...(refused.httpStatus !== undefined ? { httpStatus: refused.httpStatus } : {}),
        connection: sync.target.connection,
        secret: deps.credentials?.name ?? `of connection ${sync.target.connection}`,
      })
      .catch(() => undefined);
  } else if (ctx.auth.accepted) {
    await deps.links.health.clearAuthRefusal(sync.name, startedAt).catch(() => undefined);
  }
}

/**
 * Deletes the stored bodies of claim-checked messages that are settled: not handed back for a
 * retry, not dead-lettered (the DLQ keeps the pointer), and no other message of their key is
 * retried (a redelivery after a crash finds the link written). Best effort: the bucket's
 * lifecycle rule removes whatever is left. A redelivery that finds its object gone is recognised
 * through the link (resolveClaimCheck) and never dead-lettered for a record that was written.
 */
async function deleteSettledClaimChecks(ctx: BatchContext, items: readonly Item[]): Promise<void> {
  const store = ctx.deps.claimChecks;
  if (!store) return;
  const retried = new Set(ctx.retry);
  const retriedKeys = new Set(
    items.filter((it) => retried.has(it.inbound.messageId)).map((it) => it.msg.key),
  );
  const settled = items.filter(
    (it) =>
      it.pointer !== undefined &&
      !retried.has(it.inbound.messageId) &&
      !retriedKeys.has(it.msg.key) &&
      !ctx.deadLettered.has(it.inbound.messageId),
  );
  await forEachLimit(settled, LINK_CONCURRENCY, async (it) => {
    await store.delete(it.pointer!.claimCheck).catch(() => undefined);
  });
}

/** Enqueue-to-first-delivery lag of the oldest first delivery in the batch (retries do not count). */
function queueLag(items: readonly Item[], now: number): number | undefined {
  let lag: number | undefined;
  for (const it of items) {
    if (it.inbound.receiveCount !== 1) continue;
    const at = Date.parse(it.msg.enqueuedAt);
    if (Number.isFinite(at)) lag = Math.max(lag ?? 0, now - at);
  }
  return lag;
}

import type { SyncConfig } from '../config/schema.ts';
import type { AssociationPair, AssociationResult, Connector, UpsertResult } from '../connectors/Connector.ts';
import { describeError, TargetError } from '../errors.ts';
import type { DynamoLinkStore } from '../links/DynamoLinkStore.ts';
import type { Link } from '../links/Link.ts';
import { newestVersion } from '../links/newestVersion.ts';
import type { ClaimCheckPointer, ClaimCheckStore } from '../queue/ClaimCheck.ts';
import { type WriteMessage, WriteMessageSchema } from '../queue/WriteMessage.ts';
import { forEachLimit } from '../util/forEachLimit.ts';
import { parseJsonExact } from '../util/parseJsonExact.ts';
import { backoffSeconds } from './backoff.ts';
import { type CallStats, callTarget, type TargetWrite } from './callTarget.ts';
import type { DeadLetterSink } from './DeadLetterSink.ts';
import { matchesPointer, resolveClaimCheck } from './resolveClaimCheck.ts';
import { resolveParents } from './resolveParents.ts';
import type { SharedRateLimiter } from './SharedRateLimiter.ts';

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
  readonly links: DynamoLinkStore;
  readonly connector: Connector;
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
  };
}

export interface WriteBatchResult {
  /** Message ids to report in batchItemFailures: they come back after their (backed-off) visibility. */
  readonly retry: string[];
  readonly counts: WriteCounts;
}

interface Item {
  readonly inbound: InboundMessage;
  readonly msg: WriteMessage;
  /** Set when the body came by claim check: its object is deleted once the message is settled. */
  readonly pointer?: ClaimCheckPointer;
}
interface Claimed extends Item {
  readonly token: string;
  /** The link before our claim; undefined for a key never seen. */
  readonly previous: Link | undefined;
}

interface BatchContext {
  readonly sync: SyncConfig;
  readonly deps: WriteDeps;
  readonly counts: WriteCounts;
  readonly retry: string[];
  /** Message ids sent to the DLQ by settleFailure (their claim-check objects are kept). */
  readonly deadLettered: Set<string>;
  readonly stats: CallStats;
  readonly leaseMs: number;
  readonly backoff: (receiveCount: number, retryAfterSeconds?: number) => number;
}

const LINK_CONCURRENCY = 16;
const LEASE_MS = 120_000;
const MAX_RATE_WAIT_MS = 20_000;
/** From this delivery on, a busy key waits for the holder's lease to end (it may have crashed). */
const BUSY_WAITS_FOR_LEASE_FROM = 3;
const MAX_VISIBILITY_SECONDS = 900;
/**
 * Deliveries kept back from the writer's own retry budget. SQS moves a message to the DLQ after
 * maxReceiveCount deliveries without asking the writer, so a handler that crashed on the last
 * one would leave a message without a reason and a link that never heard of it. The writer gives
 * up (with the reason, link dead) this many deliveries earlier: only that many crashes in a row
 * on one message reach SQS's redrive.
 */
const CRASH_RESERVE = 2;

/** Failed deliveries after which the writer dead-letters a record itself. */
export function retryBudget(maxReceiveCount: number): number {
  return Math.max(1, maxReceiveCount - CRASH_RESERVE);
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
): Promise<WriteBatchResult> {
  const ctx: BatchContext = {
    sync,
    deps,
    counts: emptyWriteCounts(),
    retry: [],
    deadLettered: new Set(),
    stats: { calls: 0, failedCalls: 0 },
    leaseMs: deps.leaseMs ?? LEASE_MS,
    backoff: deps.backoff ?? ((n, after) => backoffSeconds(n, after)),
  };
  const { counts } = ctx;

  // 1. Parse, after following claim-check pointers to the stored body; a message we cannot read
  //    is dead-lettered at once, never retried (only a failing object store is retried).
  const resolved = new Array<Awaited<ReturnType<typeof resolveClaimCheck>>>(inbound.length);
  await forEachLimit([...inbound.keys()], LINK_CONCURRENCY, async (i) => {
    const m = inbound[i]!;
    resolved[i] = await resolveClaimCheck(m.body, {
      sync: sync.name,
      claimChecks: deps.claimChecks,
      links: deps.links,
      lastAttempt: m.receiveCount >= retryBudget(sync.maxReceiveCount),
    });
  });
  const items: Item[] = [];
  for (const [i, m] of inbound.entries()) {
    const r = resolved[i]!;
    if (r.kind === 'settled') {
      counts[r.outcome]++;
      continue;
    }
    if (r.kind === 'retry') {
      counts.retrying++;
      ctx.retry.push(m.messageId);
      await deps.delay(m.receiptHandle, ctx.backoff(m.receiveCount)).catch(() => undefined);
      continue;
    }
    const parsed: { msg: WriteMessage } | { error: string; code?: string; key?: string } =
      r.kind === 'deadLetter'
        ? { error: r.message, code: r.code, key: r.key }
        : parseMessage(r.body, sync.name);
    if ('msg' in parsed && r.kind === 'body' && r.pointer && !matchesPointer(parsed.msg, r.pointer)) {
      await deps.deadLetters.send(m.body, {
        code: 'WB_CLAIM_CHECK_MISMATCH',
        message: `the stored body is record ${parsed.msg.sync}/${parsed.msg.key} v${parsed.msg.version}, not the one its pointer names`,
        attempts: m.receiveCount,
        sync: sync.name,
        key: r.pointer.key,
      });
      counts.failed++;
    } else if ('error' in parsed) {
      await deps.deadLetters.send(m.body, {
        code: parsed.code ?? 'WB_MESSAGE_INVALID',
        message: parsed.error,
        attempts: m.receiveCount,
        sync: sync.name,
        ...(parsed.key !== undefined ? { key: parsed.key } : {}),
      });
      counts.failed++;
    } else {
      items.push({
        inbound: m,
        msg: parsed.msg,
        ...(r.kind === 'body' && r.pointer ? { pointer: r.pointer } : {}),
      });
    }
  }
  for (const it of items) await deps.faults?.at('received', it.msg.key);

  // 2. Per key keep only the newest version in this batch; older ones are superseded.
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
      if (cur) counts.stale++;
      newest.set(it.msg.key, it);
    } else {
      counts.stale++;
    }
  }

  // 3. Duplicate or stale against the links: no target call. Throws LinkStoreUnavailableError
  //    before any target call when the link store cannot be read: the whole batch comes back.
  //    A strongly consistent read: an eventually consistent one may miss a commit of the last
  //    moment and call a newer message unchanged. Even so, "unchanged" is only acknowledged when
  //    the read shows this version or a newer one, or a conditional write (touchVersion) proves it.
  const links = await deps.links.batchGet(sync.name, [...newest.keys()], { consistent: true });
  const toClaim: Item[] = [];
  for (const it of newest.values()) {
    const link = links.get(it.msg.key);
    const seen = newestVersion(link);
    if (seen !== undefined && seen > BigInt(it.msg.version)) counts.stale++;
    // A repair rewrites content the link says the target holds: the target lost or changed it.
    else if (!it.msg.repair && link?.status === 'ok' && link.hash === it.msg.hash) {
      // The link changed since the read (a writer claimed or committed other content): claim decides.
      if (!(await unchanged(ctx, it, link))) toClaim.push(it);
    } else toClaim.push(it);
  }

  // 4. Claim, write and commit one target batch at a time: a lease only has to outlast one call.
  const batchSize = Math.min(
    sync.batchSize ?? deps.connector.capabilities.maxBatchSize,
    deps.connector.capabilities.maxBatchSize,
  );
  for (let i = 0; i < toClaim.length; i += batchSize) {
    await writeChunk(ctx, toClaim.slice(i, i + batchSize));
  }

  // 5. Health: how the target answered and how far behind the queue is (best effort).
  const lagMs = queueLag(items, deps.now());
  if (ctx.stats.calls > 0 || lagMs !== undefined) {
    await deps.links.health.record(sync.name, deps.now(), { ...ctx.stats, lagMs }).catch(() => undefined);
  }
  await deleteSettledClaimChecks(ctx, items);
  deps.onResult?.(counts);
  return { retry: ctx.retry, counts };
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

async function writeChunk(ctx: BatchContext, chunk: readonly Item[]): Promise<void> {
  const { sync, deps, counts } = ctx;
  const claimed: Claimed[] = [];
  await forEachLimit(chunk, LINK_CONCURRENCY, async (it) => {
    const token = deps.newToken();
    const res = await deps.links.claim({
      sync: sync.name,
      key: it.msg.key,
      version: it.msg.version,
      hash: it.msg.hash,
      token,
      runId: it.msg.runId,
      now: deps.now(),
      leaseMs: ctx.leaseMs,
      ...(it.msg.repair ? { repair: true } : {}),
    });
    if (res.outcome === 'claimed') claimed.push({ ...it, token, previous: res.previous });
    else if (res.outcome === 'stale') counts.stale++;
    // Unchanged, unless the link moved on between the claim and the touch: then try again later.
    else if (res.outcome === 'unchanged') {
      if (!(await unchanged(ctx, it, res.link))) await busy(ctx, it, res.link);
    } else await busy(ctx, it, res.link);
  });
  for (const c of claimed) await deps.faults?.at('claimed', c.msg.key);

  // Rows that map() could not handle fail permanently, with map's reason.
  const valid: Claimed[] = [];
  const deletes: Claimed[] = [];
  for (const c of claimed) {
    if (c.msg.delete) deletes.push(c);
    else if (!c.msg.invalid) valid.push(c);
    else {
      const error = new TargetError(c.msg.invalid.code, c.msg.invalid.message, { disposition: 'permanent' });
      await settleFailure(ctx, c, error);
    }
  }
  await deleteInTarget(ctx, deletes);
  // Children get their parent's target id; a child whose parent is not linked yet waits.
  const payloads = await resolveParents(
    deps.links,
    valid.map((c) => c.msg),
  );
  const writes: TargetWrite[] = [];
  const byKey = new Map<string, Claimed>();
  const parentOf = new Map<string, string>();
  for (const c of valid) {
    const resolved = payloads.get(c.msg.key)!;
    if ('error' in resolved) {
      if (resolved.error.code === 'WB_PARENT_NOT_LINKED') counts.waitingForParent++;
      await settleFailure(ctx, c, resolved.error);
      continue;
    }
    byKey.set(c.msg.key, c);
    if (resolved.parentTargetId) parentOf.set(c.msg.key, resolved.parentTargetId);
    // A repair does not trust the link's target id: the record may be gone from the target. It is
    // written by external id (native upsert), or looked up by it first (see callTarget).
    const repair = c.msg.repair === true;
    const targetId = repair ? undefined : c.previous?.targetId;
    writes.push({
      record: {
        key: c.msg.key,
        externalId: c.msg.key,
        ...(targetId ? { targetId } : {}),
        // Per (sync, key), not per version: a newer version replaying a crashed create must not create
        // twice. A repair's own key (its run id is unique per repair) keeps the target from answering
        // it with a write it remembers under the usual key.
        idempotencyKey: repair ? `${sync.name}:${c.msg.key}:${c.msg.runId}` : `${sync.name}:${c.msg.key}`,
        payload: resolved.payload,
      },
      recover: c.previous !== undefined && c.previous.targetId === undefined,
      ...(repair ? { lookupFirst: true } : {}),
    });
  }
  if (writes.length === 0) return;

  const results = await callTarget(deps.connector, sync.target.object, writes, {
    limiter: deps.limiter,
    maxRateWaitMs: deps.maxRateWaitMs ?? MAX_RATE_WAIT_MS,
    stats: ctx.stats,
  });

  // Associated children: once upserted, each record is associated with its parent (idempotent).
  const associated = await associateWithParents(ctx, byKey, results, parentOf);

  await forEachLimit([...byKey.values()], LINK_CONCURRENCY, async (c) => {
    const result = results.get(c.msg.key)!;
    if (!result.ok) return settleFailure(ctx, c, result.error);
    const association = associated.get(c.msg.key);
    if (association && !association.ok) return settleFailure(ctx, c, association.error);
    await deps.faults?.at('written', c.msg.key);
    // A lost lease means another delivery took over after ours expired; it writes the same or newer content.
    await deps.links.commit({
      sync: sync.name,
      key: c.msg.key,
      token: c.token,
      targetId: result.targetId,
      hash: c.msg.hash,
      version: c.msg.version,
      now: deps.now(),
      ...(association?.ok ? { associatedWith: association.toId } : {}),
    });
    await deps.faults?.at('committed', c.msg.key);
    if (result.created) counts.created++;
    else counts.updated++;
  });
}

/**
 * Deletes (or archives) the target records of soft-deleted source rows, by the target id in their
 * links, and marks the links deleted. A record without a target id has nothing to delete.
 */
async function deleteInTarget(ctx: BatchContext, deletes: readonly Claimed[]): Promise<void> {
  if (deletes.length === 0) return;
  const { sync, deps } = ctx;
  const withTarget = deletes.filter((c) => c.previous?.targetId !== undefined);
  let results = new Map<string, UpsertResult>();
  if (withTarget.length > 0) {
    if (!deps.connector.archive) {
      const error = new TargetError(
        'WB_DELETE_UNSUPPORTED',
        `syncs[${sync.name}].deletes: the ${deps.connector.type} connector cannot delete or archive records`,
        { disposition: 'permanent' },
      );
      for (const c of withTarget) await settleFailure(ctx, c, error);
      return;
    }
    const archived = await deps.connector.archive(
      sync.target.object,
      withTarget.map((c) => c.previous!.targetId!),
    );
    results = new Map(archived.map((r) => [r.key, r]));
  }
  await forEachLimit(deletes, LINK_CONCURRENCY, async (c) => {
    const targetId = c.previous?.targetId;
    const result = targetId ? results.get(targetId) : undefined;
    if (result && !result.ok) return settleFailure(ctx, c, result.error);
    if (targetId && !result) {
      const error = new TargetError('WB_NO_RESULT', 'the connector returned no result for this delete', {
        disposition: 'retryable',
      });
      return settleFailure(ctx, c, error);
    }
    await deps.links.commitDeleted({
      sync: sync.name,
      key: c.msg.key,
      token: c.token,
      version: c.msg.version,
      now: deps.now(),
    });
    ctx.counts.deleted++;
  });
}

/**
 * Associates each upserted record of a sync with `target.associate` with its parent, in one call
 * per batch. The association is idempotent, so a redelivery upserts and associates again safely; a
 * failed association fails the record (retried or dead-lettered by its error), the upsert stands.
 * It is made on every write, even when the link says this pair was associated: a repair (`verify
 * --repair`) relies on that to restore an association someone removed in the target.
 */
async function associateWithParents(
  ctx: BatchContext,
  byKey: ReadonlyMap<string, Claimed>,
  results: ReadonlyMap<string, UpsertResult>,
  parentOf: ReadonlyMap<string, string>,
): Promise<Map<string, AssociationResult>> {
  const out = new Map<string, AssociationResult>();
  const spec = ctx.sync.target.associate;
  if (!spec) return out;
  const pairs: AssociationPair[] = [];
  for (const key of byKey.keys()) {
    const result = results.get(key);
    const parent = parentOf.get(key);
    if (result?.ok && parent) pairs.push({ key, fromId: result.targetId, toId: parent });
  }
  if (pairs.length === 0) return out;
  if (!ctx.deps.connector.associate) {
    const error = new TargetError(
      'WB_ASSOCIATE_UNSUPPORTED',
      `syncs[${ctx.sync.name}].target.associate: the ${ctx.deps.connector.type} connector cannot associate records`,
      { disposition: 'permanent' },
    );
    for (const p of pairs) out.set(p.key!, { key: p.key!, fromId: p.fromId, toId: p.toId, ok: false, error });
    return out;
  }
  const associated = await ctx.deps.connector.associate(ctx.sync.target.object, spec.with, pairs, {
    ...(spec.types ? { types: spec.types } : {}),
  });
  for (const r of associated) out.set(r.key, r);
  await dissociateFormerParents(ctx, byKey, out);
  return out;
}

/**
 * A child whose parent changed in the source is associated with its new parent above; the pair
 * the link recorded (the former parent) is removed here, so the target does not keep it under
 * both. Only the association this sync made is removed, and only once the new one stands. A
 * failed removal fails the record like a failed association: its retry associates (idempotent)
 * and removes again, and the link keeps the former parent until both are done.
 */
async function dissociateFormerParents(
  ctx: BatchContext,
  byKey: ReadonlyMap<string, Claimed>,
  associated: Map<string, AssociationResult>,
): Promise<void> {
  const spec = ctx.sync.target.associate;
  const moved: AssociationPair[] = [];
  for (const [key, r] of associated) {
    const former = byKey.get(key)?.previous?.associatedWith;
    if (r.ok && former !== undefined && former !== r.toId)
      moved.push({ key, fromId: r.fromId, toId: former });
  }
  if (!spec || moved.length === 0) return;
  if (!ctx.deps.connector.dissociate) {
    const error = new TargetError(
      'WB_DISSOCIATE_UNSUPPORTED',
      `syncs[${ctx.sync.name}].target.associate: the ${ctx.deps.connector.type} connector cannot remove the association with a former parent`,
      { disposition: 'permanent' },
    );
    for (const p of moved)
      associated.set(p.key!, { key: p.key!, fromId: p.fromId, toId: p.toId, ok: false, error });
    return;
  }
  const removed = await ctx.deps.connector.dissociate(ctx.sync.target.object, spec.with, moved);
  for (const r of removed) if (!r.ok) associated.set(r.key, r);
}

/**
 * The link says the target holds this content. At this version or a newer one: done (a
 * duplicate). At an older one, the link's version moves on (touchVersion), so that an older,
 * different message delivered later is stale; the acknowledgement depends on that conditional
 * write. False (not acknowledged, not counted) when it failed: the link changed since it was read,
 * and the content is not known to be in the target: the caller claims or retries the message.
 */
async function unchanged(ctx: BatchContext, it: Item, link: Link): Promise<boolean> {
  if (link.version === undefined || BigInt(it.msg.version) > BigInt(link.version)) {
    const moved = await ctx.deps.links.touchVersion({
      sync: ctx.sync.name,
      key: it.msg.key,
      version: it.msg.version,
      hash: it.msg.hash,
      now: ctx.deps.now(),
    });
    if (!moved) return false;
  }
  ctx.counts.unchanged++;
  return true;
}

/**
 * Another delivery holds the key. Early on, back off briefly (a live writer finishes in moments);
 * later, wait for its lease to run out (it may have crashed), so a crash does not use up retries.
 */
async function busy(ctx: BatchContext, it: Item, link: Link | undefined): Promise<void> {
  ctx.counts.busy++;
  ctx.retry.push(it.inbound.messageId);
  const n = it.inbound.receiveCount;
  let seconds = ctx.backoff(n);
  if (n >= BUSY_WAITS_FOR_LEASE_FROM && link?.leaseUntil !== undefined)
    seconds = Math.max(seconds, Math.ceil((link.leaseUntil - ctx.deps.now()) / 1000) + 1);
  await ctx.deps
    .delay(it.inbound.receiptHandle, Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, seconds)))
    .catch(() => undefined);
}

async function settleFailure(ctx: BatchContext, c: Claimed, error: TargetError): Promise<void> {
  const { sync, deps, counts } = ctx;
  const attempts = c.inbound.receiveCount;
  const reason = describeError(error);
  // Out of retries: dead-letter it ourselves, with the reason, before SQS's redrive would move it silently.
  const exhausted = attempts >= retryBudget(sync.maxReceiveCount);
  if (error.disposition === 'retryable' && !exhausted) {
    counts.retrying++;
    await deps.links.recordFailure({
      sync: sync.name,
      key: c.msg.key,
      token: c.token,
      status: 'retrying',
      error: reason,
      now: deps.now(),
    });
    ctx.retry.push(c.inbound.messageId);
    await deps
      .delay(c.inbound.receiptHandle, ctx.backoff(attempts, error.retryAfterSeconds))
      .catch(() => undefined);
    return;
  }
  const status = error.disposition === 'retryable' ? 'dead' : 'failed';
  if (status === 'dead') counts.dead++;
  else counts.failed++;
  ctx.deadLettered.add(c.inbound.messageId);
  await deps.deadLetters.send(c.inbound.body, { ...reason, attempts, sync: sync.name, key: c.msg.key });
  await deps.links.recordFailure({
    sync: sync.name,
    key: c.msg.key,
    token: c.token,
    status,
    error: reason,
    now: deps.now(),
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

function parseMessage(body: string, syncName: string): { msg: WriteMessage } | { error: string } {
  let json: unknown;
  try {
    json = parseJsonExact(body);
  } catch {
    return { error: 'message body is not JSON' };
  }
  const parsed = WriteMessageSchema.safeParse(json);
  if (!parsed.success) {
    return {
      error: `message does not match schema v1: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    };
  }
  if (parsed.data.sync !== syncName)
    return { error: `message for sync ${parsed.data.sync} arrived at ${syncName}'s queue` };
  return { msg: parsed.data };
}

import { isAuthRefusal } from '../connectors/authErrors.ts';
import { describeError, type TargetError } from '../errors.ts';
import type { Link } from '../links/Link.ts';
import { forEachLimit } from '../util/forEachLimit.ts';
import { type BatchContext, type Claimed, type Item, LINK_CONCURRENCY } from './BatchContext.ts';

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
/** Default wait before a record refused for its credentials comes back (WriteDeps.authBackoffSeconds). */
export const AUTH_BACKOFF_SECONDS = 900;
/** SQS's longest visibility timeout: 12 hours. */
const SQS_MAX_VISIBILITY_SECONDS = 43_200;

/** Failed deliveries after which the writer dead-letters a record itself. */
export function retryBudget(maxReceiveCount: number): number {
  return Math.max(1, maxReceiveCount - CRASH_RESERVE);
}

/**
 * The link says the target holds this content. At this version or a newer one: done (a
 * duplicate). At an older one, the link's version moves on (touchVersion), so that an older,
 * different message delivered later is stale; the acknowledgement depends on that conditional
 * write. False (not acknowledged, not counted) when it failed: the link changed since it was read,
 * and the content is not known to be in the target: the caller claims or retries the message.
 */
export async function settleUnchanged(ctx: BatchContext, it: Item, link: Link): Promise<boolean> {
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
export async function settleBusy(ctx: BatchContext, it: Item, link: Link | undefined): Promise<void> {
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

/**
 * A claimed record that failed: retried later (the link says retrying, the message comes back
 * after its backoff) while the error is retryable and retries are left; otherwise dead-lettered
 * with the reason, and the link says dead (out of retries) or failed (permanent).
 */
export async function settleFailure(ctx: BatchContext, c: Claimed, error: TargetError): Promise<void> {
  if (isAuthRefusal(error)) return settleAuthRefused(ctx, c, error);
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

/**
 * The target refused the connection's credentials for a claimed record, even after the writer
 * re-read them (writeChunk): nothing is wrong with the record, and every record would fail the
 * same way until an operator updates the secret. So it is never dead-lettered: the link says
 * `retrying` with the refusal (the lease is released), the batch opens the sync's auth outage
 * (the extract pauses, AuthFailures is published), and the message comes back after a long
 * backoff. On the delivery where an ordinary failure would be dead-lettered (the retry budget),
 * the message is acknowledged instead, "parked": SQS's own redrive, which counts every receive,
 * never moves it to the DLQ. Its link keeps it: redriveFailed sends the key again with its current
 * row once the sync runs (retrying links untouched for 30 minutes; refusals do not count towards
 * maxRedrives).
 */
export async function settleAuthRefused(ctx: BatchContext, c: Claimed, error: TargetError): Promise<void> {
  const { sync, deps, counts } = ctx;
  counts.authRefused++;
  ctx.auth.refused = error;
  await deps.links.recordFailure({
    sync: sync.name,
    key: c.msg.key,
    token: c.token,
    status: 'retrying',
    error: describeError(error),
    now: deps.now(),
  });
  if (c.inbound.receiveCount >= retryBudget(sync.maxReceiveCount)) return;
  ctx.retry.push(c.inbound.messageId);
  const seconds = Math.min(SQS_MAX_VISIBILITY_SECONDS, deps.authBackoffSeconds ?? AUTH_BACKOFF_SECONDS);
  await deps.delay(c.inbound.receiptHandle, seconds).catch(() => undefined);
}

/**
 * Records the batch will not start before the invocation's deadline: handed back unclaimed, so
 * their links are untouched and no attempt is counted, and visible again at once for the next
 * invocation (the receive count still grows by one, as for any redelivery).
 */
export async function settleDeferred(ctx: BatchContext, items: readonly Item[]): Promise<void> {
  ctx.counts.deferred += items.length;
  for (const it of items) ctx.retry.push(it.inbound.messageId);
  await forEachLimit(items, LINK_CONCURRENCY, async (it) => {
    await ctx.deps.delay(it.inbound.receiptHandle, 0).catch(() => undefined);
  });
}

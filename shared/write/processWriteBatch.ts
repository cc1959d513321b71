import type { SyncConfig } from '../config/schema.ts';
import type { Connector, UpsertRecord, UpsertResult } from '../connectors/Connector.ts';
import { describeError, TargetError } from '../errors.ts';
import type { DynamoLinkStore } from '../links/DynamoLinkStore.ts';
import { type WriteMessage, WriteMessageSchema } from '../queue/WriteMessage.ts';
import { backoffSeconds } from './backoff.ts';
import type { DeadLetterSink } from './DeadLetterSink.ts';

/** One delivered SQS message, independent of how it arrived (Lambda event, local poller). */
export interface InboundMessage {
  readonly messageId: string;
  readonly body: string;
  readonly receiptHandle: string;
  /** ApproximateReceiveCount: 1 on the first delivery. */
  readonly receiveCount: number;
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
}

export interface WriteBatchResult {
  /** Message ids to report in batchItemFailures: they come back after their (backed-off) visibility. */
  readonly retry: string[];
  readonly counts: WriteCounts;
}

interface Item {
  readonly inbound: InboundMessage;
  readonly msg: WriteMessage;
}
interface Claimed extends Item {
  readonly token: string;
  readonly targetId: string | undefined;
}

const CLAIM_CONCURRENCY = 16;
/** Longer than one target call with its timeout; an expired lease lets a redelivery take over. */
const LEASE_MS = 120_000;

/**
 * The write protocol for one batch of messages of one sync (DESIGN.md, "The write protocol"):
 * drop duplicates and stale versions through the links, claim each key with a lease, write in
 * the target's batch size, commit each link conditional on its lease, and sort failures into
 * retry-later (batchItemFailures with backoff) and dead-letter (with the reason).
 */
export async function processWriteBatch(
  sync: SyncConfig,
  inbound: readonly InboundMessage[],
  deps: WriteDeps,
): Promise<WriteBatchResult> {
  const counts: WriteCounts = {
    created: 0,
    updated: 0,
    unchanged: 0,
    stale: 0,
    retrying: 0,
    failed: 0,
    dead: 0,
    busy: 0,
  };
  const retry: string[] = [];

  // 1. Parse; a message we cannot read is dead-lettered at once, never retried.
  const items: Item[] = [];
  for (const m of inbound) {
    const parsed = parseMessage(m.body, sync.name);
    if ('error' in parsed) {
      await deps.deadLetters.send(m.body, {
        code: 'WB_MESSAGE_INVALID',
        message: parsed.error,
        attempts: m.receiveCount,
        sync: sync.name,
      });
      counts.failed++;
    } else {
      items.push({ inbound: m, msg: parsed.msg });
    }
  }

  // 2. Per key keep only the newest version in this batch; older ones are superseded.
  const newest = new Map<string, Item>();
  for (const it of items) {
    const cur = newest.get(it.msg.key);
    if (!cur || BigInt(it.msg.version) >= BigInt(cur.msg.version)) {
      if (cur) counts.stale++;
      newest.set(it.msg.key, it);
    } else {
      counts.stale++;
    }
  }

  // 3. Duplicate or stale against the links: no target call. (Throws LinkStoreUnavailable: whole batch retried.)
  const links = await deps.links.batchGet(sync.name, [...newest.keys()]);
  const toClaim: Item[] = [];
  for (const it of newest.values()) {
    const link = links.get(it.msg.key);
    if (link?.status === 'ok' && link.hash === it.msg.hash) counts.unchanged++;
    else if (link?.version !== undefined && BigInt(link.version) > BigInt(it.msg.version)) counts.stale++;
    else toClaim.push(it);
  }

  // 4. Claim each key (intent recorded before any target call).
  const claimed: Claimed[] = [];
  await forEachLimit(toClaim, CLAIM_CONCURRENCY, async (it) => {
    const token = deps.newToken();
    const res = await deps.links.claim({
      sync: sync.name,
      key: it.msg.key,
      version: it.msg.version,
      hash: it.msg.hash,
      token,
      runId: it.msg.runId,
      now: deps.now(),
      leaseMs: LEASE_MS,
    });
    if (res.outcome === 'stale') counts.stale++;
    else if (res.outcome === 'busy') {
      counts.busy++;
      retry.push(it.inbound.messageId);
      await deps
        .delay(it.inbound.receiptHandle, backoffSeconds(it.inbound.receiveCount))
        .catch(() => undefined);
    } else claimed.push({ ...it, token, targetId: res.link.targetId });
  });

  // 5. Rows that map() could not handle fail permanently, with map's reason.
  const writable: Claimed[] = [];
  for (const c of claimed) {
    if (c.msg.invalid) {
      await settleFailure(
        sync,
        c,
        new TargetError(c.msg.invalid.code, c.msg.invalid.message, { disposition: 'permanent' }),
        deps,
        counts,
        retry,
      );
    } else writable.push(c);
  }

  // 6. Write in the target's batch size; one result per record.
  const batchSize = Math.min(
    sync.batchSize ?? deps.connector.capabilities.maxBatchSize,
    deps.connector.capabilities.maxBatchSize,
  );
  for (let i = 0; i < writable.length; i += batchSize) {
    const chunk = writable.slice(i, i + batchSize);
    const records: UpsertRecord[] = chunk.map((c) => ({
      key: c.msg.key,
      externalId: c.msg.key,
      ...(c.targetId ? { targetId: c.targetId } : {}),
      idempotencyKey: `${sync.name}:${c.msg.key}:${c.msg.version}`,
      payload: c.msg.payload,
    }));
    let results: UpsertResult[];
    try {
      results = await deps.connector.upsertBatch(sync.target.object, records);
    } catch (err) {
      const error =
        err instanceof TargetError
          ? err
          : new TargetError('WB_TARGET_CALL_FAILED', describeError(err).message, {
              disposition: 'retryable',
              cause: err,
            });
      results = records.map((r) => ({ key: r.key, ok: false as const, error }));
    }
    const byKey = new Map(results.map((r) => [r.key, r]));
    await forEachLimit(chunk, CLAIM_CONCURRENCY, async (c) => {
      const result =
        byKey.get(c.msg.key) ??
        ({
          key: c.msg.key,
          ok: false,
          error: new TargetError('WB_NO_RESULT', 'the connector returned no result for this record', {
            disposition: 'retryable',
          }),
        } as const);
      if (result.ok) {
        // A lost lease means another delivery took over after ours expired; it writes the same or newer content.
        await deps.links.commit({
          sync: sync.name,
          key: c.msg.key,
          token: c.token,
          targetId: result.targetId,
          hash: c.msg.hash,
          version: c.msg.version,
          now: deps.now(),
        });
        if (result.created) counts.created++;
        else counts.updated++;
      } else {
        await settleFailure(sync, c, result.error, deps, counts, retry);
      }
    });
  }
  deps.onResult?.(counts);
  return { retry, counts };
}

async function settleFailure(
  sync: SyncConfig,
  c: Claimed,
  error: TargetError,
  deps: WriteDeps,
  counts: WriteCounts,
  retry: string[],
): Promise<void> {
  const attempts = c.inbound.receiveCount;
  const reason = describeError(error);
  // Last delivery before SQS would redrive it silently: dead-letter it ourselves, with the reason.
  const exhausted = attempts >= sync.maxReceiveCount;
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
    retry.push(c.inbound.messageId);
    await deps
      .delay(c.inbound.receiptHandle, backoffSeconds(attempts, error.retryAfterSeconds))
      .catch(() => undefined);
    return;
  }
  const status = error.disposition === 'retryable' ? 'dead' : 'failed';
  if (status === 'dead') counts.dead++;
  else counts.failed++;
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

function parseMessage(body: string, syncName: string): { msg: WriteMessage } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
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

async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

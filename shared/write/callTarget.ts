import type { Connector, UpsertRecord, UpsertResult } from '../connectors/Connector.ts';
import { describeError, TargetError } from '../errors.ts';
import { forEachLimit } from '../util/forEachLimit.ts';
import type { SharedRateLimiter } from './SharedRateLimiter.ts';

/** One record to send, as the write protocol prepared it. */
export interface TargetWrite {
  readonly record: UpsertRecord;
  /**
   * A previous attempt at this key may have created the record in the target without us learning
   * its id (the link exists but has no target id: a crash, a lost answer or a timeout before).
   */
  readonly recover: boolean;
  /**
   * The link's target id is not to be trusted (a repair: the record may be gone from the target).
   * Without a native upsert the record is looked up by its external id first: found → updated by
   * the id found, not found → created.
   */
  readonly lookupFirst?: boolean;
}

/** Target calls made for one chunk, for the health buckets and the benchmark. */
export interface CallStats {
  calls: number;
  /** Calls whose every record failed retryably: the signal that the target is down. */
  failedCalls: number;
}

export interface CallTargetOptions {
  readonly limiter?: SharedRateLimiter | undefined;
  /** Longest wait for a rate-limit slot before giving the records back to the queue. */
  readonly maxRateWaitMs: number;
  readonly stats: CallStats;
}

const LOOKUP_CONCURRENCY = 4;

/**
 * Gets one result per record from the connector, choosing the recovery path by capability
 * (DESIGN.md, "The write protocol", step 3):
 * - native upsert by external id: send as is; replaying a create is an update;
 * - idempotency key (deterministic per sync and source key): send as is; the target answers a
 *   replayed create with the record it created the first time (`created: false`), whose content
 *   may be an older attempt's, so that record is then updated with this payload by its id;
 * - neither: a record to recover is looked up by its external id first; found → updated by id,
 *   not found → created, lookup failed → the record fails (never create after a failed lookup).
 * Every call waits for a slot of the shared rate limiter; a 429 pushes every writer back.
 */
export async function callTarget(
  connector: Connector,
  object: string,
  writes: readonly TargetWrite[],
  opts: CallTargetOptions,
): Promise<Map<string, UpsertResult>> {
  const caps = connector.capabilities;
  const results = new Map<string, UpsertResult>();
  const fail = (key: string, error: TargetError): void => {
    results.set(key, { key, ok: false, error });
  };

  // 1. Lookups for records a crashed attempt may have created, when nothing else makes a replay safe.
  const toSend: UpsertRecord[] = [];
  const lookups = writes.filter(
    (w) =>
      w.record.targetId === undefined &&
      !caps.nativeUpsert &&
      (w.lookupFirst === true || (w.recover && !caps.idempotencyKey)),
  );
  const lookedUp = new Set(lookups.map((w) => w.record.key));
  for (const w of writes) if (!lookedUp.has(w.record.key)) toSend.push(w.record);
  await forEachLimit(lookups, LOOKUP_CONCURRENCY, async (w) => {
    const slot = await acquire(opts);
    if (slot) return fail(w.record.key, slot);
    opts.stats.calls++;
    try {
      const found = await connector.lookup(object, w.record.externalId);
      toSend.push(found ? { ...w.record, targetId: found.targetId } : w.record);
    } catch (err) {
      const error = asTargetError(err, 'WB_LOOKUP_FAILED');
      if (error.disposition === 'retryable') opts.stats.failedCalls++;
      await noteRateLimit(error, opts);
      fail(w.record.key, error);
    }
  });

  // 2. One call for the chunk.
  for (const r of await upsert(connector, object, toSend, opts)) results.set(r.key, r);

  // 3. Replayed creates (idempotency key): bring the record the first attempt created up to date.
  if (caps.idempotencyKey && !caps.nativeUpsert) {
    const sent = new Map(toSend.map((r) => [r.key, r]));
    const replayed: UpsertRecord[] = [];
    for (const r of results.values()) {
      const record = sent.get(r.key);
      if (r.ok && !r.created && record && record.targetId === undefined)
        replayed.push({ ...record, targetId: r.targetId });
    }
    for (const r of await upsert(connector, object, replayed, opts)) results.set(r.key, r);
  }

  for (const w of writes) {
    if (!results.has(w.record.key)) {
      fail(
        w.record.key,
        new TargetError('WB_NO_RESULT', 'the connector returned no result for this record', {
          disposition: 'retryable',
        }),
      );
    }
  }
  return results;
}

async function upsert(
  connector: Connector,
  object: string,
  records: readonly UpsertRecord[],
  opts: CallTargetOptions,
): Promise<UpsertResult[]> {
  if (records.length === 0) return [];
  const slot = await acquire(opts);
  if (slot) return records.map((r) => ({ key: r.key, ok: false as const, error: slot }));
  opts.stats.calls++;
  let results: UpsertResult[];
  try {
    results = await connector.upsertBatch(object, records);
  } catch (err) {
    const error = asTargetError(err, 'WB_TARGET_CALL_FAILED');
    results = records.map((r) => ({ key: r.key, ok: false as const, error }));
  }
  const wanted = new Set(records.map((r) => r.key));
  results = results.filter((r) => wanted.has(r.key));
  const failures = results.filter((r) => !r.ok);
  if (
    results.length > 0 &&
    failures.length === results.length &&
    failures.every((r) => r.error.disposition === 'retryable')
  ) {
    opts.stats.failedCalls++;
  }
  const rateLimited = failures.find((r) => r.error.httpStatus === 429);
  if (rateLimited && !rateLimited.ok) await noteRateLimit(rateLimited.error, opts);
  return results;
}

/** Waits for a rate-limit slot; returns the error to give the records when the wait is too long. */
async function acquire(opts: CallTargetOptions): Promise<TargetError | undefined> {
  if (!opts.limiter) return undefined;
  const slot = await opts.limiter.acquire(opts.maxRateWaitMs);
  if (slot.ok) return undefined;
  return new TargetError(
    'WB_RATE_LIMIT_WAIT',
    `the connection's shared rate limit has no free slot for ${slot.retryAfterSeconds} s; not sent`,
    { disposition: 'retryable', retryAfterSeconds: slot.retryAfterSeconds },
  );
}

async function noteRateLimit(error: TargetError, opts: CallTargetOptions): Promise<void> {
  if (opts.limiter && error.httpStatus === 429)
    await opts.limiter.backOff(error.retryAfterSeconds ?? 1).catch(() => undefined);
}

function asTargetError(err: unknown, code: string): TargetError {
  if (err instanceof TargetError) return err;
  return new TargetError(code, describeError(err).message, { disposition: 'retryable', cause: err });
}

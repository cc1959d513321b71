import type { Payload, SyncConfig } from '../config/schema.ts';
import { isAuthRefusal } from '../connectors/authErrors.ts';
import type { AssociationResult, Connector, UpsertResult } from '../connectors/Connector.ts';
import { TargetError } from '../errors.ts';
import { forEachLimit } from '../util/forEachLimit.ts';
import { associateWithParents } from './associateWithParents.ts';
import { type BatchContext, type Claimed, type Item, LINK_CONCURRENCY } from './BatchContext.ts';
import { callTarget, type TargetWrite } from './callTarget.ts';
import { deleteInTarget } from './deleteInTarget.ts';
import { recordPairWrite } from './recordPairWrite.ts';
import { resolveParents } from './resolveParents.ts';
import { settleBusy, settleFailure, settleUnchanged } from './settle.ts';

const MAX_RATE_WAIT_MS = 20_000;

/** The writes of a chunk, ready for one target call, with what the commit needs of each record. */
interface PreparedWrites {
  readonly writes: TargetWrite[];
  /** The claimed record of each key written. */
  readonly byKey: Map<string, Claimed>;
  /** The parent's target id of each child written. */
  readonly parentOf: Map<string, string>;
}

/**
 * One target batch of the write protocol: claim each key with a lease, settle what needs no upsert
 * (invalid rows, deletes, children whose parent is not linked), upsert the rest in one target call
 * (associating children with their parents), then commit each link conditional on its lease.
 */
export async function writeChunk(ctx: BatchContext, chunk: readonly Item[]): Promise<void> {
  const { sync, deps } = ctx;
  const claimed = await claimChunk(ctx, chunk);
  for (const c of claimed) await deps.faults?.at('claimed', c.msg.key);
  const { valid, deletes } = await sortClaimed(ctx, claimed);
  await deleteInTarget(ctx, deletes);
  const { writes, byKey, parentOf } = await prepareWrites(ctx, valid);
  if (writes.length === 0) return;
  const call = (connector: Connector, batch: readonly TargetWrite[]) =>
    callTarget(connector, sync.target.object, batch, {
      limiter: deps.limiter,
      // A slot further away than the chunk's time allows is as good as none: hand the records back.
      maxRateWaitMs: Math.max(0, Math.min(deps.maxRateWaitMs ?? MAX_RATE_WAIT_MS, ctx.startableMs())),
      stats: ctx.stats,
    });
  // Taken before the call: the apps of a two-way pair stamp the record as modified after it.
  const calledAt = deps.now();
  const results = await call(ctx.connector, writes);
  // Credentials refused: re-read them once (a rotated or replaced secret) and, when that gave
  // another connector, repeat the refused records' call before anything is declared failed.
  const refused = writes.filter((w) => refusedForCredentials(results.get(w.record.key)));
  if (refused.length > 0 && (await renewConnector(ctx)) && ctx.startableMs() >= 0) {
    for (const [key, result] of await call(ctx.connector, refused)) results.set(key, result);
  }
  if ([...results.values()].some((r) => r.ok)) ctx.auth.accepted = true;
  // Associated children: once upserted, each record is associated with its parent (idempotent).
  const associated = await associateWithParents(ctx, byKey, results, parentOf);
  await commitWrites(ctx, byKey, results, associated, calledAt);
}

function refusedForCredentials(result: UpsertResult | undefined): boolean {
  return result !== undefined && !result.ok && isAuthRefusal(result.error);
}

/**
 * Re-reads the credentials (past their cache), at most once per batch; true when that gave a
 * connector other than the one refused, which the rest of the batch then uses. False without a
 * credential source, when the credentials did not change (the same call would be refused the same
 * way), or when they could not be read.
 */
async function renewConnector(ctx: BatchContext): Promise<boolean> {
  const source = ctx.deps.credentials;
  if (!source) return false;
  const refusedWith = ctx.connector;
  ctx.auth.renewal ??= source.reconnect().catch(() => undefined);
  const renewed = await ctx.auth.renewal;
  if (!renewed || renewed === refusedWith) return false;
  ctx.connector = renewed;
  return true;
}

/** Claims each key with a lease; a key that is stale, unchanged or busy is settled here. */
async function claimChunk(ctx: BatchContext, chunk: readonly Item[]): Promise<Claimed[]> {
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
      ...(it.inbound.receiveCount >= 2 ? { retried: true } : {}),
    });
    if (res.outcome === 'claimed') claimed.push({ ...it, token, previous: res.previous });
    else if (res.outcome === 'stale') counts.stale++;
    // Unchanged, unless the link moved on between the claim and the touch: then try again later.
    else if (res.outcome === 'unchanged') {
      if (!(await settleUnchanged(ctx, it, res.link))) await settleBusy(ctx, it, res.link);
    } else await settleBusy(ctx, it, res.link);
  });
  return claimed;
}

/** Deletes apart from writes; rows that map() could not handle fail permanently, with map's reason. */
async function sortClaimed(
  ctx: BatchContext,
  claimed: readonly Claimed[],
): Promise<{ valid: Claimed[]; deletes: Claimed[] }> {
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
  return { valid, deletes };
}

/** Children get their parent's target id; a child whose parent is not linked yet waits (retried). */
async function prepareWrites(ctx: BatchContext, valid: readonly Claimed[]): Promise<PreparedWrites> {
  const payloads = await resolveParents(
    ctx.deps.links,
    valid.map((c) => c.msg),
  );
  const prepared: PreparedWrites = { writes: [], byKey: new Map(), parentOf: new Map() };
  for (const c of valid) {
    const resolved = payloads.get(c.msg.key)!;
    if ('error' in resolved) {
      if (resolved.error.code === 'WB_PARENT_NOT_LINKED') ctx.counts.waitingForParent++;
      await settleFailure(ctx, c, resolved.error);
      continue;
    }
    prepared.byKey.set(c.msg.key, c);
    if (resolved.parentTargetId) prepared.parentOf.set(c.msg.key, resolved.parentTargetId);
    prepared.writes.push(toTargetWrite(ctx.sync, c, resolved.payload));
  }
  return prepared;
}

/** The upsert of one claimed record, with the recovery path its link calls for (see callTarget). */
function toTargetWrite(sync: SyncConfig, c: Claimed, payload: Payload): TargetWrite {
  const syncName = sync.name;
  // A repair does not trust the link's target id: the record may be gone from the target. It is
  // written by external id (native upsert), or looked up by it first (see callTarget). Except in a
  // two-way pair, where the link is the record's identity: a record the other app created carries
  // no external id of ours, and writing it by one would create it twice.
  const repair = c.msg.repair === true && !sync.pair;
  const targetId = repair ? undefined : c.previous?.targetId;
  return {
    record: {
      key: c.msg.key,
      externalId: c.msg.key,
      ...(targetId ? { targetId } : {}),
      // A pair's record may have been created by the other app, without our external id in it.
      ...(targetId && sync.pair ? { byId: true } : {}),
      // Per (sync, key), not per version: a newer version replaying a crashed create must not create
      // twice. A repair's own key (its run id is unique per repair) keeps the target from answering
      // it with a write it remembers under the usual key.
      idempotencyKey: repair ? `${syncName}:${c.msg.key}:${c.msg.runId}` : `${syncName}:${c.msg.key}`,
      payload,
    },
    recover: c.previous !== undefined && c.previous.targetId === undefined,
    ...(repair ? { lookupFirst: true } : {}),
  };
}

/** Commits each written record's link, conditional on our lease; a failed upsert or association settles instead. */
async function commitWrites(
  ctx: BatchContext,
  byKey: ReadonlyMap<string, Claimed>,
  results: ReadonlyMap<string, UpsertResult>,
  associated: ReadonlyMap<string, AssociationResult>,
  calledAt: number,
): Promise<void> {
  const { sync, deps, counts } = ctx;
  await forEachLimit([...byKey.values()], LINK_CONCURRENCY, async (c) => {
    const result = results.get(c.msg.key)!;
    if (!result.ok) return settleFailure(ctx, c, result.error);
    const association = associated.get(c.msg.key);
    if (association && !association.ok) return settleFailure(ctx, c, association.error);
    await deps.faults?.at('written', c.msg.key);
    // Before the commit: a crash in between redelivers the message, which records it again.
    await recordPairWrite(ctx, c.msg, result.targetId, calledAt);
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

import { WritebackError } from '../errors.ts';
import type { PairWrite } from '../pair/PairStore.ts';
import type { PairConfig } from '../pair/pairSchema.ts';
import type { WriteMessage } from '../queue/WriteMessage.ts';
import type { BatchContext } from './BatchContext.ts';

/**
 * For one direction of a two-way pair, records a write that succeeded: the other direction's link
 * to the record (so it updates that record and never creates it again), the values the written
 * fields now agree on, and when the app was written (a copy row older than that does not show the
 * write yet). Nothing for a sync that is not a pair, or a message without pair data (a repair).
 */
export async function recordPairWrite(
  ctx: BatchContext,
  msg: WriteMessage,
  targetId: string,
  calledAt: number,
): Promise<void> {
  const pair = ctx.sync.pair;
  if (!pair || !msg.pair) return;
  const pairMsg = { ...msg, pair: msg.pair };
  const store = ctx.deps.pairs;
  if (!store) {
    throw new WritebackError(
      'WB_PAIR_STORE_MISSING',
      `sync ${ctx.sync.name} is one direction of a two-way pair but the writer was given no pair store`,
    );
  }
  await store.recordWrite(pairWriteOf(pair, pairMsg, targetId, calledAt));
}

/** What a successful write of a pair's message records (pure: the property test drives it too). */
export function pairWriteOf(
  pair: PairConfig,
  msg: WriteMessage & { readonly pair: NonNullable<WriteMessage['pair']> },
  targetId: string,
  calledAt: number,
): PairWrite {
  const readsA = pair.side === 'a';
  return {
    pair: pair.name,
    partner: pair.partner,
    // Side a's id names the entity: the row's key when reading a, else the record written (a create
    // into a learns it only now).
    entity: readsA ? msg.key : (msg.pair.entity ?? targetId),
    b: readsA ? targetId : msg.key,
    into: readsA ? 'b' : 'a',
    writtenId: targetId,
    readId: msg.key,
    agreed: msg.pair.agreed,
    now: calledAt,
  };
}

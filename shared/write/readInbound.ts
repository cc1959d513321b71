import { type WriteMessage, WriteMessageSchema } from '../queue/WriteMessage.ts';
import { forEachLimit } from '../util/forEachLimit.ts';
import { parseJsonExact } from '../util/parseJsonExact.ts';
import { type BatchContext, type Item, LINK_CONCURRENCY } from './BatchContext.ts';
import type { InboundMessage } from './processWriteBatch.ts';
import { matchesPointer, type ResolvedBody, resolveClaimCheck } from './resolveClaimCheck.ts';
import { retryBudget } from './settle.ts';

/**
 * The batch's messages parsed, after following claim-check pointers to the stored body. A message
 * that cannot be read is dead-lettered at once, never retried (only a failing object store is
 * retried); one the link already accounts for is counted. Only the rest come back, in order.
 */
export async function readInbound(ctx: BatchContext, inbound: readonly InboundMessage[]): Promise<Item[]> {
  const { sync, deps } = ctx;
  const resolved = new Array<ResolvedBody>(inbound.length);
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
    const item = await toItem(ctx, m, resolved[i]!);
    if (item) items.push(item);
  }
  return items;
}

/** One message's item, or undefined once the message is settled: counted, handed back or dead-lettered. */
async function toItem(ctx: BatchContext, m: InboundMessage, r: ResolvedBody): Promise<Item | undefined> {
  const { sync, deps, counts } = ctx;
  if (r.kind === 'settled') {
    counts[r.outcome]++;
    return undefined;
  }
  if (r.kind === 'retry') {
    counts.retrying++;
    ctx.retry.push(m.messageId);
    await deps.delay(m.receiptHandle, ctx.backoff(m.receiveCount)).catch(() => undefined);
    return undefined;
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
    return undefined;
  }
  if ('error' in parsed) {
    await deps.deadLetters.send(m.body, {
      code: parsed.code ?? 'WB_MESSAGE_INVALID',
      message: parsed.error,
      attempts: m.receiveCount,
      sync: sync.name,
      ...(parsed.key !== undefined ? { key: parsed.key } : {}),
    });
    counts.failed++;
    return undefined;
  }
  return { inbound: m, msg: parsed.msg, ...(r.kind === 'body' && r.pointer ? { pointer: r.pointer } : {}) };
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

import type { WriteMessage } from '../queue/WriteMessage.ts';
import { forEachLimit } from '../util/forEachLimit.ts';
import type { Link } from './Link.ts';
import type { LinkStore } from './LinkStore.ts';

/**
 * What the extract does with a row, judged from its link:
 * - `send`: a message is needed (new key, other content, or the same content at a newer version
 *   than the one in flight or failed);
 * - `unchanged`: no message: the link has seen this content at this version or a newer one;
 * - `touch`: the target holds this content at an older version: no message if the link's version
 *   can be moved on (a conditional write), else send.
 */
export type EnqueueDecision = 'send' | 'unchanged' | 'touch';

/**
 * The extract's decision for one message (DESIGN "Avoiding duplicates"; docs/write-protocol.md,
 * "Reverts: A → B → A").
 *
 * Why `touch` and not simply `unchanged` when the committed content equals the row's: the row may
 * have gone A → B → A while the B message waits in the queue. Skipping A would let B be written
 * last. Moving the link's version to A's (conditional on the link still holding A, unclaimed)
 * makes the queued B stale; if the condition fails, a writer claimed or committed something else
 * meanwhile, and A is sent like any change.
 *
 * Why the same content in flight or failed at an older version is sent again: a B queued behind it
 * would be written after it (its version is newer). The new message, newer than B, ends the key
 * at A (or fails it again with A's reason).
 *
 * Eventually consistent reads are enough here: the decisions without a write (`unchanged`) need
 * the link to show this content at this version or newer, and versions only grow, so an old
 * snapshot can only show older versions: it turns `unchanged` into `touch` or `send` (one extra
 * conditional write or message), never the other way.
 */
export function enqueueDecision(
  link: Link | undefined,
  msg: Pick<WriteMessage, 'hash' | 'version'>,
): EnqueueDecision {
  if (!link) return 'send';
  const v = BigInt(msg.version);
  if (link.status === 'ok' || link.status === 'deleted') {
    if (link.hash !== msg.hash) return 'send';
    return link.version !== undefined && BigInt(link.version) >= v ? 'unchanged' : 'touch';
  }
  // pending, retrying, failed, dead: compare with the content claimed (in flight, or set aside).
  if (link.pendingHash !== msg.hash) return 'send';
  return link.pendingVersion !== undefined && BigInt(link.pendingVersion) >= v ? 'unchanged' : 'send';
}

export interface SelectedMessages {
  /** The messages to enqueue. */
  readonly send: WriteMessage[];
  /** Messages not sent (the links have them), touched ones included. */
  readonly unchanged: number;
  /** Of `unchanged`: links whose version was moved on. */
  readonly touched: number;
}

const TOUCH_CONCURRENCY = 16;

/**
 * The messages of a page the extract must send, from one batched (eventually consistent) link
 * read plus one conditional write per row whose content the target holds at an older version.
 * A deleted row is acted on only for a record this integration wrote or is writing (found
 * through its link, read strongly when the first read shows no target id).
 */
export async function selectChanged(
  links: LinkStore,
  sync: string,
  candidates: readonly WriteMessage[],
  now: () => number,
  /** The candidates' links as the caller already read them (eventually consistent): not read again. */
  known?: ReadonlyMap<string, Link>,
): Promise<SelectedMessages> {
  const found = known
    ? new Map(candidates.flatMap((m) => (known.has(m.key) ? [[m.key, known.get(m.key)!] as const] : [])))
    : await links.batchGet(
        sync,
        candidates.map((m) => m.key),
      );
  // "Never written" is the one judgement an old snapshot could get wrong (a link created a moment
  // ago has no target id in it yet): read those links again, strongly. A link that exists without
  // a target id is a write in flight or failed: the delete is sent and waits for it.
  const unlinkedDeletes = candidates.filter((m) => m.delete && found.get(m.key)?.targetId === undefined);
  if (unlinkedDeletes.length > 0) {
    const strong = await links.batchGet(
      sync,
      unlinkedDeletes.map((m) => m.key),
      { consistent: true },
    );
    for (const m of unlinkedDeletes) {
      const link = strong.get(m.key);
      if (link) found.set(m.key, link);
      else found.delete(m.key);
    }
  }
  const decisions = candidates.map((m) => {
    const link = found.get(m.key);
    if (m.delete && link === undefined) return 'unchanged' as const;
    return enqueueDecision(link, m);
  });
  const touchedOk = new Set<number>();
  const toTouch = [...decisions.keys()].filter((i) => decisions[i] === 'touch');
  await forEachLimit(toTouch, TOUCH_CONCURRENCY, async (i) => {
    const m = candidates[i]!;
    const moved = await links.touchVersion({
      sync,
      key: m.key,
      version: m.version,
      hash: m.hash,
      now: now(),
    });
    if (moved) touchedOk.add(i);
  });
  const send = candidates.filter(
    (_, i) => decisions[i] === 'send' || (decisions[i] === 'touch' && !touchedOk.has(i)),
  );
  return { send, unchanged: candidates.length - send.length, touched: touchedOk.size };
}

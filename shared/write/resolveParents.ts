import type { Payload } from '../config/schema.ts';
import { TargetError } from '../errors.ts';
import type { LinkStore } from '../links/LinkStore.ts';
import { PARENT_TARGET_ID, type WriteMessage } from '../queue/WriteMessage.ts';

export type ResolvedPayload =
  | { readonly payload: Payload; readonly parentTargetId?: string }
  | { readonly error: TargetError };

/**
 * Puts each child's parent target id into its payload (where map() left PARENT_TARGET_ID), from
 * the parent sync's links: one BatchGetItem per parent sync. A parent without a target id yet
 * (not written yet, or a write in flight) gives a retryable WB_PARENT_NOT_LINKED: the child waits
 * and is retried with backoff; it is never written with a missing reference. A parent that failed
 * (in its DLQ) gives a permanent WB_PARENT_FAILED naming the parent key: the child goes to the DLQ. Messages without a parent
 * keep their payload. Keyed by the message key.
 */
export async function resolveParents(
  links: LinkStore,
  messages: readonly WriteMessage[],
): Promise<Map<string, ResolvedPayload>> {
  const out = new Map<string, ResolvedPayload>();
  const byParentSync = new Map<string, WriteMessage[]>();
  for (const m of messages) {
    if (!m.parent) out.set(m.key, { payload: m.payload });
    else byParentSync.set(m.parent.sync, [...(byParentSync.get(m.parent.sync) ?? []), m]);
  }
  for (const [parentSync, children] of byParentSync) {
    const parents = await links.batchGet(
      parentSync,
      children.map((c) => c.parent!.key),
    );
    for (const child of children) {
      const parent = parents.get(child.parent!.key);
      // A parent written before has a valid target id, even while a newer version of it is in flight.
      if (parent?.targetId) {
        out.set(child.key, {
          payload: withParentId(child.payload, parent.targetId) as Payload,
          parentTargetId: parent.targetId,
        });
      } else if (parent && (parent.status === 'failed' || parent.status === 'dead')) {
        // The parent was never written and is in its DLQ: waiting cannot help. Redrive it, then this child.
        out.set(child.key, {
          error: new TargetError(
            'WB_PARENT_FAILED',
            `parent-failed: parent ${parentSync}/${child.parent!.key} is ${parent.status}` +
              `${parent.lastError ? ` (${parent.lastError.code})` : ''}; redrive it, then this record`,
            { disposition: 'permanent' },
          ),
        });
      } else {
        out.set(child.key, {
          error: new TargetError(
            'WB_PARENT_NOT_LINKED',
            `parent ${parentSync}/${child.parent!.key} has no target id yet (${parent ? `link ${parent.status}` : 'never written'}); waiting for it`,
            { disposition: 'retryable' },
          ),
        });
      }
    }
  }
  return out;
}

/** Replaces the placeholder wherever map() put it: as a value, inside a string, in arrays and objects. */
export function withParentId(value: unknown, targetId: string): unknown {
  if (typeof value === 'string') return value.replaceAll(PARENT_TARGET_ID, targetId);
  if (Array.isArray(value)) return value.map((v) => withParentId(v, targetId));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withParentId(v, targetId)]));
  }
  return value;
}

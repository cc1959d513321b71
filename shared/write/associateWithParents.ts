import type { AssociationPair, AssociationResult, UpsertResult } from '../connectors/Connector.ts';
import { TargetError } from '../errors.ts';
import type { BatchContext, Claimed } from './BatchContext.ts';

/**
 * Associates each upserted record of a sync with `target.associate` with its parent, in one call
 * per batch. The association is idempotent, so a redelivery upserts and associates again safely; a
 * failed association fails the record (retried or dead-lettered by its error), the upsert stands.
 * It is made on every write, even when the link says this pair was associated: a repair (`verify
 * --repair`) relies on that to restore an association someone removed in the target.
 */
export async function associateWithParents(
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
  if (!ctx.connector.associate) {
    const error = new TargetError(
      'WB_ASSOCIATE_UNSUPPORTED',
      `syncs[${ctx.sync.name}].target.associate: the ${ctx.connector.type} connector cannot associate records`,
      { disposition: 'permanent' },
    );
    for (const p of pairs) out.set(p.key!, { key: p.key!, fromId: p.fromId, toId: p.toId, ok: false, error });
    return out;
  }
  const associated = await ctx.connector.associate(ctx.sync.target.object, spec.with, pairs, {
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
  if (!ctx.connector.dissociate) {
    const error = new TargetError(
      'WB_DISSOCIATE_UNSUPPORTED',
      `syncs[${ctx.sync.name}].target.associate: the ${ctx.connector.type} connector cannot remove the association with a former parent`,
      { disposition: 'permanent' },
    );
    for (const p of moved)
      associated.set(p.key!, { key: p.key!, fromId: p.fromId, toId: p.toId, ok: false, error });
    return;
  }
  const removed = await ctx.connector.dissociate(ctx.sync.target.object, spec.with, moved);
  for (const r of removed) if (!r.ok) associated.set(r.key, r);
}

import type { UpsertResult } from '../connectors/Connector.ts';
import { TargetError } from '../errors.ts';
import { forEachLimit } from '../util/forEachLimit.ts';
import { type BatchContext, type Claimed, LINK_CONCURRENCY } from './BatchContext.ts';
import { settleFailure } from './settle.ts';

/**
 * Deletes (or archives) the target records of soft-deleted source rows, by the target id in their
 * links, and marks the links deleted. A record without a target id has nothing to delete.
 */
export async function deleteInTarget(ctx: BatchContext, deletes: readonly Claimed[]): Promise<void> {
  if (deletes.length === 0) return;
  const { sync, deps } = ctx;
  const withTarget = deletes.filter((c) => c.previous?.targetId !== undefined);
  let results = new Map<string, UpsertResult>();
  if (withTarget.length > 0) {
    if (!ctx.connector.archive) {
      const error = new TargetError(
        'WB_DELETE_UNSUPPORTED',
        `syncs[${sync.name}].deletes: the ${ctx.connector.type} connector cannot delete or archive records`,
        { disposition: 'permanent' },
      );
      for (const c of withTarget) await settleFailure(ctx, c, error);
      return;
    }
    const archived = await ctx.connector.archive(
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

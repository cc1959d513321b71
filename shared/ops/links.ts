import type { AttentionStatus, Link } from '../links/Link.ts';
import type { OpsContext } from './OpsContext.ts';

/** Where a source row went: its link, or undefined when the key was never sent. */
export async function linkOf(ctx: OpsContext, syncName: string, key: string): Promise<Link | undefined> {
  ctx.sync(syncName);
  return ctx.links.get(syncName, key);
}

/**
 * Which source row a target record came from: the `byTarget` index maps the target id to the link
 * (normally one; more would mean two keys claim one target record).
 */
export async function linksByTarget(ctx: OpsContext, syncName: string, targetId: string): Promise<Link[]> {
  ctx.sync(syncName);
  const keys = await ctx.links.keysByTarget(syncName, targetId);
  // The index is eventually consistent: read each link itself for its current state.
  const links = await ctx.links.batchGet(syncName, keys, { consistent: true });
  return [...links.values()].filter((l) => l.targetId === targetId);
}

/** Links of a sync that need attention (one status or all four), newest first. */
export async function linksNeedingAttention(
  ctx: OpsContext,
  syncName: string,
  statuses: readonly AttentionStatus[],
  limit: number,
): Promise<Link[]> {
  ctx.sync(syncName);
  const out: Link[] = [];
  for (const status of statuses) {
    if (out.length >= limit) break;
    const keys = await ctx.links.keysByStatus(syncName, status, limit - out.length);
    const links = await ctx.links.batchGet(syncName, keys);
    out.push(...keys.map((k) => links.get(k)).filter((l): l is Link => l !== undefined));
  }
  return out;
}

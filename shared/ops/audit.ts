import { randomUUID } from 'node:crypto';
import type { OperatorAction, OperatorActionKind } from '../state/OperatorAction.ts';
import { exportOperatorActions } from '../verify/exportSyncLogs.ts';
import type { OpsContext } from './OpsContext.ts';
import { redactSecrets } from './warehouseCredentials.ts';

/** Keys an action record keeps (the count is always whole). */
const KEYS_KEPT = 100;

/** What an operator is about to do to a sync. */
export interface ActionIntent {
  readonly sync: string;
  readonly action: OperatorActionKind;
  readonly detail?: string;
  readonly keys?: readonly string[];
}

/** What the action did, from its result: how many records, which, under which run id. */
export interface ActionOutcome {
  readonly records?: number;
  readonly keys?: readonly string[];
  readonly runId?: string;
  readonly detail?: string;
}

/**
 * Runs an operator action that changes state with its audit trail: who (the AWS principal, or the
 * OS user on the local stack; an actor that cannot be told stops the action before it starts),
 * when, what, on which sync, how many records. The record goes to the state table before the
 * action (`started`) and again with its outcome (`ok`, or `failed` with the reason), then to the
 * warehouse's `writeback.operator_actions` when the warehouse is at hand (otherwise the next
 * verification copies it there from the state table).
 */
export async function audited<T>(
  ctx: OpsContext,
  intent: ActionIntent,
  act: () => Promise<T>,
  outcome: (result: T) => ActionOutcome = () => ({}),
): Promise<T> {
  const started: OperatorAction = {
    id: randomUUID(),
    sync: intent.sync,
    action: intent.action,
    at: new Date().toISOString(),
    outcome: 'started',
    actor: await ctx.actor(),
    where: ctx.description,
    ...(intent.detail ? { detail: intent.detail } : {}),
    ...(intent.keys ? { keys: intent.keys.slice(0, KEYS_KEPT), records: intent.keys.length } : {}),
  };
  await ctx.state.recordAction(started);
  let result: T;
  try {
    result = await act();
  } catch (err) {
    await finish(ctx, {
      ...started,
      outcome: 'failed',
      finishedAt: new Date().toISOString(),
      message: redactSecrets(err instanceof Error ? err.message : String(err)).slice(0, 1000),
    }).catch(() => undefined);
    throw err;
  }
  const o = outcome(result);
  await finish(ctx, {
    ...started,
    outcome: 'ok',
    finishedAt: new Date().toISOString(),
    ...(o.records !== undefined ? { records: o.records } : {}),
    ...(o.keys ? { keys: o.keys.slice(0, KEYS_KEPT) } : {}),
    ...(o.runId ? { runId: o.runId } : {}),
    ...(o.detail ? { detail: o.detail } : {}),
  });
  return result;
}

/** Records an action that has finished (also for actions whose outcome is known at once). */
async function finish(ctx: OpsContext, action: OperatorAction): Promise<void> {
  await ctx.state.recordAction(action);
  await toWarehouse(ctx, action);
}

/**
 * The action into `writeback.operator_actions` when the warehouse is at hand: already connected,
 * or its address given (local stack, --dwh-url, the config's url). A failure (no route, a
 * read-only user) is a note, not an error: the state table has the action, and the next
 * verification exports it with the verify function's own credentials.
 */
async function toWarehouse(ctx: OpsContext, action: OperatorAction): Promise<void> {
  const pending = ctx.warehouseIfGiven;
  if (!pending) return;
  try {
    await exportOperatorActions(await pending, [action]);
  } catch (err) {
    ctx.warn(
      `${action.action} of ${action.sync} is in the audit trail (writeback audit ${action.sync}) but not yet in the warehouse's writeback.operator_actions (${(err as Error).message}): the next verification copies it there`,
    );
  }
}

/**
 * The audit trail of some syncs (every sync of the config when none is named), newest first, up
 * to `limit` actions in all.
 */
export async function auditTrail(
  ctx: OpsContext,
  syncNames: readonly string[],
  limit = 50,
): Promise<OperatorAction[]> {
  const syncs =
    syncNames.length > 0 ? syncNames.map((n) => ctx.sync(n).name) : ctx.config.syncs.map((s) => s.name);
  const lists = await Promise.all(syncs.map((s) => ctx.state.listActions(s, limit)));
  return lists
    .flat()
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))
    .slice(0, limit);
}

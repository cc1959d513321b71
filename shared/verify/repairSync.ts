import { randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import type { SyncConfig } from '../config/schema.ts';
import { buildMessages, childReadersOf } from '../extract/buildMessages.ts';
import type { WriteMessage } from '../queue/WriteMessage.ts';
import { chunks } from '../util/chunks.ts';
import { readSourceRowsByKey } from '../write/readSourceRowsByKey.ts';
import type { Finding, FindingKind } from './VerifyReport.ts';

/**
 * The findings a repair re-sends: records missing from the target (never linked, or linked but
 * gone) and records that drifted there, including associated children that lost their association
 * with their parent (the writer associates every record it writes with its parent again; HubSpot
 * keeps one association per pair). Never orphans: a repair deletes nothing, nor removes an
 * association. Dead records have their own way back (`writeback dlq redrive`), backlog is on its way.
 */
export const REPAIRABLE_KINDS: readonly FindingKind[] = ['missing', 'drift'];

/** The source keys to repair, once each, in key order of the findings. */
export function repairableKeys(findings: readonly Finding[]): string[] {
  const keys = new Set<string>();
  for (const f of findings) if (REPAIRABLE_KINDS.includes(f.kind)) keys.add(f.key);
  return [...keys];
}

export interface RepairDeps {
  /** The warehouse: the current source rows are read from it. */
  readonly sql: Sql;
  /** The sync's queue. */
  readonly enqueuer: { sendAll(messages: readonly WriteMessage[]): Promise<void> };
  readonly now: () => number;
}

/**
 * Records one repair of a sync re-sends without being told it may send more (`--max`, `--yes`): a
 * verification against a copy that is stale or half loaded must not re-send a whole sync unasked.
 */
export const DEFAULT_REPAIR_MAX = 1000;

/** What a repair sent, and what it could not. */
export interface RepairResult {
  /** Run id of the repair's messages (the links of the repaired records name it). */
  readonly runId: string;
  /** Keys asked for. */
  readonly requested: number;
  /** Messages sent to the sync's queue (0 in a dry run, or when held over the cap). */
  enqueued: number;
  /** The first keys sent (at most 1000), for people and scripts. */
  readonly enqueuedKeys: string[];
  /** A dry run: nothing was sent; `wouldEnqueue` and `wouldEnqueueKeys` say what would have been. */
  readonly dryRun?: true;
  readonly wouldEnqueue?: number;
  readonly wouldEnqueueKeys?: string[];
  /**
   * More keys to repair (`requested`) than this cap: nothing was sent. Sending them takes a
   * confirmation (`--yes`, or the person at the terminal) or a higher `--max`.
   */
  readonly heldOverMax?: number;
  /** Keys whose source row is gone since the verification (or now excluded by `where`): not sent. */
  readonly sourceGone: string[];
  /** Keys whose row map() refuses: sent all the same, so the writer dead-letters them with the reason, as a run would. */
  readonly invalid: { key: string; message: string }[];
}

const READ_CHUNK = 500;
const KEYS_SHOWN = 1000;

/**
 * Re-enqueues records through the normal write path: each key's current source row, built into a
 * message by the extract's own builder (embedded children, their versions, map(), the parent
 * reference), marked `repair` so that the writer writes it although the link says the target holds
 * this content, and without trusting the link's target id. The writer's claim (lease and version)
 * makes a repair idempotent: sent twice, or racing a run, the record is written once per delivery
 * at most and never with older content. Nothing is deleted.
 */
export async function enqueueRepairs(
  sync: SyncConfig,
  keys: readonly string[],
  deps: RepairDeps,
  opts: {
    readonly runId?: string;
    /** Read and build every message as a repair would, send none. */
    readonly dryRun?: boolean;
  } = {},
): Promise<RepairResult> {
  const runId = opts.runId ?? `repair-${randomUUID()}`;
  const result: RepairResult = {
    runId,
    requested: keys.length,
    enqueued: 0,
    enqueuedKeys: [],
    sourceGone: [],
    invalid: [],
  };
  const would: string[] = [];
  let wouldEnqueue = 0;
  const children = childReadersOf(deps.sql, sync);
  for (const chunk of chunks(keys, READ_CHUNK)) {
    // By key, whatever the bookmark, through the sync's own `where`.
    const rows = await readSourceRowsByKey(deps.sql, sync, chunk);
    const found = new Set(rows.map((r) => r.key));
    for (const key of chunk) if (!found.has(key)) result.sourceGone.push(key);
    const messages = (await buildMessages(sync, rows, runId, children, deps.now)).map(
      (m): WriteMessage => ({ ...m, repair: true }),
    );
    for (const m of messages) if (m.invalid) result.invalid.push({ key: m.key, message: m.invalid.message });
    if (opts.dryRun) {
      wouldEnqueue += messages.length;
      for (const m of messages) if (would.length < KEYS_SHOWN) would.push(m.key);
      continue;
    }
    await deps.enqueuer.sendAll(messages);
    result.enqueued += messages.length;
    for (const m of messages) if (result.enqueuedKeys.length < KEYS_SHOWN) result.enqueuedKeys.push(m.key);
  }
  return opts.dryRun ? { ...result, dryRun: true, wouldEnqueue, wouldEnqueueKeys: would } : result;
}

/**
 * The repair of a verification's findings, within a cap: more repairable keys than `max` are held
 * (nothing sent, `heldOverMax` set) for the caller to confirm; a dry run sends nothing whatever
 * their number. Without `max`, no cap (the caller confirmed).
 */
export async function repairFindings(
  sync: SyncConfig,
  findings: readonly Finding[],
  deps: RepairDeps,
  opts: { readonly dryRun?: boolean; readonly max?: number } = {},
): Promise<RepairResult> {
  const keys = repairableKeys(findings);
  if (!opts.dryRun && opts.max !== undefined && keys.length > opts.max)
    return heldRepair(keys.length, opts.max);
  return enqueueRepairs(sync, keys, deps, opts.dryRun ? { dryRun: true } : {});
}

/** A repair held over its cap: nothing sent. */
export function heldRepair(requested: number, max: number): RepairResult {
  return {
    runId: `repair-${randomUUID()}`,
    requested,
    enqueued: 0,
    enqueuedKeys: [],
    sourceGone: [],
    invalid: [],
    heldOverMax: max,
  };
}

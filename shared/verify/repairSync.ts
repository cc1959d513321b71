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

/** What a repair sent, and what it could not. */
export interface RepairResult {
  /** Run id of the repair's messages (the links of the repaired records name it). */
  readonly runId: string;
  /** Keys asked for. */
  readonly requested: number;
  /** Messages sent to the sync's queue. */
  enqueued: number;
  /** The first keys sent (at most 1000), for people and scripts. */
  readonly enqueuedKeys: string[];
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
  opts: { readonly runId?: string } = {},
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
    await deps.enqueuer.sendAll(messages);
    result.enqueued += messages.length;
    for (const m of messages) if (result.enqueuedKeys.length < KEYS_SHOWN) result.enqueuedKeys.push(m.key);
  }
  return result;
}

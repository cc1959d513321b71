import type { Sql } from 'postgres';
import type { SyncConfig } from '../config/schema.ts';
import { isAuthRefusal } from '../connectors/authErrors.ts';
import type { Link } from '../links/Link.ts';
import type { LinkStore } from '../links/LinkStore.ts';
import type { WriteMessage } from '../queue/WriteMessage.ts';
import type { SourceRow } from '../source/SourceReader.ts';
import { chunks } from '../util/chunks.ts';
import { forEachLimit } from '../util/forEachLimit.ts';
import { checkTargetHealth, type TargetHealthOptions } from './checkTargetHealth.ts';
import { readSourceRowsByKey } from './readSourceRowsByKey.ts';
import { toWriteMessage } from './toWriteMessage.ts';

/** What redriveFailed needs; the extract's own dependencies fit. */
export interface RedriveDeps {
  readonly sql: Sql;
  readonly links: LinkStore;
  readonly enqueuer: { sendAll(messages: readonly WriteMessage[]): Promise<void> };
  readonly now: () => number;
  /**
   * Builds the messages of re-read rows exactly as the extract does (embedded children, their
   * versions). Required for a sync with `children`. @default toWriteMessage per row
   */
  readonly buildMessages?: (rows: readonly SourceRow[], runId: string) => Promise<WriteMessage[]>;
}

export interface RedriveOptions {
  readonly runId: string;
  /** Redrives of one key before it is left dead for an operator. @default 5 */
  readonly maxRedrives?: number;
  /** Wait after a key died before its first redrive; doubles with each redrive. @default 300000 */
  readonly baseDelayMs?: number;
  /** Longest wait between redrives. @default 21600000 (6 h) */
  readonly maxDelayMs?: number;
  /**
   * A retrying or pending link untouched this long has lost its message (a crash on its last
   * delivery moved it to the DLQ without a reason, or the writer parked it on refused credentials):
   * it is re-driven too. Must exceed the longest backoff (15 min) plus a lease. @default 1800000
   */
  readonly stuckAfterMs?: number;
  /** Most keys read per status per run. @default 1000 */
  readonly limit?: number;
  /** Skip the redrive while the target is down (see checkTargetHealth); false: always redrive. */
  readonly health?: TargetHealthOptions | false;
}

/** What the run summary shows, so that no record sits in failed or dead silently. */
export interface RedriveSummary {
  /** Keys re-enqueued with their current source row. */
  redriven: number;
  /** Dead keys whose next redrive is not due yet. */
  waiting: number;
  /** Keys past maxRedrives: they stay dead until their row changes or an operator acts. */
  gaveUp: number;
  /** Keys whose source row is gone (deleted, or filtered out by the sync's where). */
  sourceGone: number;
  /** Links failed permanently (in the DLQ; tried again when the row changes). */
  failed: number;
  /** Links dead (retries exhausted; in the DLQ). */
  dead: number;
  /** The target is down: nothing was re-driven this run. */
  paused: boolean;
  /** Why it is paused (checkTargetHealth's reason), for the run record. */
  pausedReason?: string;
  /**
   * When a link will next be due (a dead key's backoff, a retrying or pending key turning stuck),
   * ms; undefined when none will (the redrive flag is then removed). `now` when work is left.
   */
  nextDueAt?: number | undefined;
}

const READ_CHUNK = 500;

/**
 * A retrying or pending link untouched this long has lost its message (see RedriveOptions.stuckAfterMs);
 * writers flag a sync's links for a redrive this far ahead when they leave links retrying or see a
 * message come back (TargetHealthStore.flagRedrive).
 */
export const STUCK_AFTER_MS = 1_800_000;

/**
 * Gives failed records another chance, whatever the cursor: each run re-reads the current source
 * rows of dead keys (with exponential backoff between redrives and a cap) and of retrying or
 * pending keys whose message was lost, and enqueues them again. Permanently failed keys are not
 * re-driven (the same content would fail the same way); the extract sends them again as soon as
 * their row changes (enqueueDecision). Returns the counts for the run summary.
 */
export async function redriveFailed(
  sync: SyncConfig,
  deps: RedriveDeps,
  opts: RedriveOptions,
): Promise<RedriveSummary> {
  const now = deps.now();
  const maxRedrives = opts.maxRedrives ?? 5;
  const baseDelayMs = opts.baseDelayMs ?? 300_000;
  const maxDelayMs = opts.maxDelayMs ?? 21_600_000;
  const stuckAfterMs = opts.stuckAfterMs ?? STUCK_AFTER_MS;
  const stuckBefore = new Date(now - stuckAfterMs).toISOString();
  const limit = opts.limit ?? 1000;
  const summary: RedriveSummary = {
    redriven: 0,
    waiting: 0,
    gaveUp: 0,
    sourceGone: 0,
    failed: 0,
    dead: 0,
    paused: false,
  };
  if ((sync.children?.length ?? 0) > 0 && !deps.buildMessages) {
    throw new Error(
      `redriveFailed: sync ${sync.name} embeds children; pass deps.buildMessages (the extract's message builder) so that re-driven records carry them`,
    );
  }

  const health =
    opts.health === false ? undefined : await checkTargetHealth(deps.links, sync.name, now, opts.health);
  if (health?.paused) {
    summary.paused = true;
    if (health.reason) summary.pausedReason = health.reason;
    // Nothing was looked at: look again next run.
    summary.nextDueAt = now;
  } else {
    const [dead, retrying, pending] = await Promise.all([
      deps.links.listByStatus(sync.name, 'dead', limit),
      deps.links.listByStatus(sync.name, 'retrying', limit, stuckBefore),
      deps.links.listByStatus(sync.name, 'pending', limit, stuckBefore),
    ]);
    const due: Link[] = [];
    const next = (at: number) => {
      summary.nextDueAt = Math.min(summary.nextDueAt ?? at, at);
    };
    // A list cut at its limit leaves work for the next run.
    if ([dead, retrying, pending].some((l) => l.length >= limit)) next(now);
    for (const link of [...dead, ...retrying, ...pending]) {
      if (link.leaseUntil !== undefined && link.leaseUntil >= now) {
        next(link.leaseUntil);
        continue;
      }
      // A key parked on refused credentials never reached the target: its redrives do not count.
      if (link.redrives >= maxRedrives && !isAuthRefusal(link.lastError)) {
        summary.gaveUp++;
        continue;
      }
      const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** link.redrives);
      if (link.status === 'dead' && Date.parse(link.updatedAt ?? '') + delay > now) {
        summary.waiting++;
        next(Date.parse(link.updatedAt ?? '') + delay);
      } else due.push(link);
    }
    for (const chunk of chunks(due, READ_CHUNK)) {
      await redriveChunk(sync, deps, opts.runId, chunk, summary);
    }
    // Retrying and pending links turn stuck once untouched for stuckAfterMs: the oldest decides
    // (read after the redrive, which touched the ones it sent).
    const oldest = await Promise.all([
      deps.links.oldestUpdate(sync.name, 'retrying'),
      deps.links.oldestUpdate(sync.name, 'pending'),
    ]);
    for (const at of oldest) if (at !== undefined) next(Math.max(now, Date.parse(at) + stuckAfterMs));
  }
  [summary.failed, summary.dead] = await Promise.all([
    deps.links.countByStatus(sync.name, 'failed'),
    deps.links.countByStatus(sync.name, 'dead'),
  ]);
  return summary;
}

async function redriveChunk(
  sync: SyncConfig,
  deps: RedriveDeps,
  runId: string,
  links: readonly Link[],
  summary: RedriveSummary,
): Promise<void> {
  // The current rows, by key: the bookmark passed them long ago.
  const rows = new Map(
    (
      await readSourceRowsByKey(
        deps.sql,
        sync,
        links.map((l) => l.key),
      )
    ).map((r) => [r.key, r]),
  );
  const toSend: SourceRow[] = [];
  await forEachLimit(links, 16, async (link) => {
    const row = rows.get(link.key);
    // Marked first, then sent: if sending fails, the key is retrying without a message and comes back as stuck.
    const marked = await deps.links.markRedriven({
      sync: sync.name,
      key: link.key,
      seen: link,
      runId,
      now: deps.now(),
    });
    if (!marked) return;
    if (!row) summary.sourceGone++;
    else toSend.push(row);
  });
  const enqueuedAt = new Date(deps.now()).toISOString();
  const messages = deps.buildMessages
    ? await deps.buildMessages(toSend, runId)
    : toSend.map((row) => toWriteMessage(sync, row, runId, enqueuedAt));
  await deps.enqueuer.sendAll(messages);
  summary.redriven += messages.length;
}

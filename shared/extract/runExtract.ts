import type { Sql } from 'postgres';
import type { SyncConfig } from '../config/schema.ts';
import { describeError } from '../errors.ts';
import type { DynamoLinkStore } from '../links/DynamoLinkStore.ts';
import { selectChanged } from '../links/selectChanged.ts';
import type { RefusedMessage, SqsEnqueuer } from '../queue/SqsEnqueuer.ts';
import type { ChildReader } from '../source/ChildReader.ts';
import type { Position } from '../source/Position.ts';
import { type PageStart, type SetAsideRows, SourceReader, type SourceRow } from '../source/SourceReader.ts';
import type { RunCounts, RunOutcome, RunRecord } from '../state/RunRecord.ts';
import type { StateStore } from '../state/StateStore.ts';
import { checkTargetHealth, type TargetHealthOptions } from '../write/checkTargetHealth.ts';
import { redriveFailed } from '../write/redriveFailed.ts';
import { buildMessages, childReadersOf } from './buildMessages.ts';
import { DeletedKeysStream } from './DeletedKeysStream.ts';
import { guardSoftDeletes } from './deleteGuard.ts';

/** How often a run re-reads the target's health between pages. */
const HEALTH_RECHECK_MS = 5_000;

export interface ExtractDeps {
  readonly sql: Sql;
  readonly state: StateStore;
  readonly links: DynamoLinkStore;
  readonly enqueuer: SqsEnqueuer;
  readonly now: () => number;
  /** When the target counts as down (the sync pauses); false never pauses. @default checkTargetHealth's defaults */
  readonly health?: TargetHealthOptions | false;
  /** Called after each page, for progress output. */
  readonly onProgress?: (sync: string, counts: RunCounts) => void;
  /**
   * mappingFingerprint of the sync as configured. When it differs from the one the bookmark was
   * read with, the run starts again from the first row. Undefined: not tracked.
   */
  readonly mappingFingerprint?: string;
  /** The warehouse clock as timestamptz text (tests with a simulated clock). Default: the server's now(). */
  readonly sourceClock?: () => string;
}

export interface ExtractOptions {
  readonly runId: string;
  /** Milliseconds left before the function must return (Lambda's getRemainingTimeInMillis). */
  readonly remainingMs: () => number;
  /** Stop reading new pages when less than this is left. @default 15000 */
  readonly reserveMs?: number;
  /** Lease duration; renewed with every bookmark write. @default 300000 */
  readonly leaseMs?: number;
}

/**
 * One extract run of a sync: read keyset pages after the bookmark, drop rows whose content the
 * links already hold, enqueue the rest, and move the bookmark only over pages that are enqueued.
 */
export async function runExtract(
  sync: SyncConfig,
  deps: ExtractDeps,
  opts: ExtractOptions,
): Promise<RunRecord> {
  const startedAt = new Date(deps.now()).toISOString();
  const counts: RunCounts = { read: 0, unchanged: 0, enqueued: 0, invalid: 0 };
  const leaseMs = opts.leaseMs ?? 300_000;
  const reserveMs = opts.reserveMs ?? 15_000;
  const finish = async (
    outcome: RunOutcome,
    extra: {
      before?: Position;
      after?: Position;
      message?: string;
      backlog?: boolean;
      setAside?: readonly SetAsideRows[];
    },
  ): Promise<RunRecord> => {
    const run: RunRecord = {
      sync: sync.name,
      runId: opts.runId,
      startedAt,
      finishedAt: new Date(deps.now()).toISOString(),
      outcome,
      counts,
      bookmarkBefore: extra.before,
      bookmarkAfter: extra.after,
      backlog: extra.backlog ?? false,
      ...(extra.message ? { message: extra.message } : {}),
      ...(extra.setAside?.length ? { setAside: extra.setAside } : {}),
    };
    await deps.state.recordRun(run);
    return run;
  };

  const initial = await deps.state.get(sync.name);
  if (!(initial.enabled ?? sync.enabled)) return finish('skipped', { message: 'sync is disabled' });
  if (!(await deps.state.acquireLease(sync.name, opts.runId, deps.now(), leaseMs))) {
    return finish('skipped', { message: 'skipped: previous run still active' });
  }

  const state = await deps.state.get(sync.name);
  let before = state.bookmark;
  let bookmark = before;
  let backlog = false;
  let paused: string | undefined;
  let remapped: string | undefined;
  try {
    // A changed map(), filter, target or children can change records the bookmark has passed:
    // read every row again. Unchanged records cost a read and a link lookup, no message.
    if (deps.mappingFingerprint !== undefined && state.mapping !== deps.mappingFingerprint) {
      const restart = state.mapping !== undefined && before !== undefined;
      await deps.state.saveMapping(sync.name, opts.runId, deps.mappingFingerprint, restart);
      if (restart) {
        remapped =
          'mapping changed (map, source, children, parent or target): re-reading every row from the start; only records whose content changed are written';
        before = undefined;
        bookmark = undefined;
      }
    }
    const reader = new SourceReader(deps.sql, sync.name, sync.source, {
      ...(deps.sourceClock ? { clock: deps.sourceClock } : {}),
    });
    await reader.preflight();
    // Rows no page can return are counted and named, never passed over in silence.
    const setAside = await reader.setAside();
    const refused: RefusedMessage[] = [];
    // Deletes guard: a run that would delete more than allowed stops before anything is deleted.
    await guardSoftDeletes(sync, reader, deps.links, before);
    const deletedKeys = sync.deletes?.keys ? new DeletedKeysStream(deps, sync) : undefined;
    await deletedKeys?.guard(reader);
    const children = childReadersOf(deps.sql, sync);
    // A first run embeds the children as they are now: watch their changes from here on.
    const childStart = new Map<ChildReader, Position | undefined>();
    for (const child of children) {
      let pos = await deps.state.getStreamBookmark(sync.name, child.as);
      if (!pos) {
        pos = await child.headPosition();
        if (pos) await deps.state.saveStreamBookmark(sync.name, opts.runId, child.as, pos);
      }
      childStart.set(child, pos);
    }
    // Failed records are not forgotten: dead and stuck keys go again, whatever the cursor.
    const redrive = await redriveFailed(
      sync,
      { ...deps, buildMessages: (rows, runId) => buildMessages(sync, rows, runId, children, deps.now) },
      { runId: opts.runId, ...(deps.health !== undefined ? { health: deps.health } : {}) },
    );
    Object.assign(counts, { redriven: redrive.redriven, failed: redrive.failed, dead: redrive.dead });
    // A pass reads from its start to the end of the source, over as many invocations as it takes:
    // one left unfinished (out of time, test limit, paused) resumes where it stopped, so every run
    // moves forward however many rows the lookback window holds.
    const resumed = remapped ? undefined : state.pass;
    const passAt = resumed?.at ?? (await reader.now());
    const start: PageStart = resumed
      ? { after: resumed.position }
      : await reader.passStart(before, remapped ? undefined : state.lastPassAt);
    let endedOnEmptyPage = false;
    const maxRows = sync.testLimit ?? Number.POSITIVE_INFINITY;
    const pageLimit = (): number => Math.min(sync.source.pageSize, maxRows - counts.read);
    let healthReadAt = Number.NEGATIVE_INFINITY;
    let limit = pageLimit();
    let next: Promise<SourceRow[]> | undefined =
      limit > 0 ? reader.readPage(start, limit, before) : undefined;
    while (next) {
      const rows = await next;
      next = undefined;
      if (rows.length === 0) {
        endedOnEmptyPage = true;
        break;
      }
      // A short page is the end of the source: the pass is complete once it is enqueued.
      const ended = rows.length < limit;
      counts.read += rows.length;
      const last = rows[rows.length - 1]!;
      const more = rows.length === limit && counts.read < maxRows;
      const outOfTime = opts.remainingMs() < reserveMs;
      if (more && !outOfTime) {
        // Read the next page while this one is enqueued; the bookmark still moves only after it is.
        limit = pageLimit();
        next = reader.readPage({ after: last.position }, limit, before);
        next.catch(() => undefined); // an error surfaces when awaited; this only marks it handled
      }
      // A target that is down pauses the sync: what is queued would only wait, fail or be dead-lettered.
      // The health judges a window of minutes, so one read every few seconds is enough.
      if (deps.health !== false && deps.now() - healthReadAt >= HEALTH_RECHECK_MS) {
        healthReadAt = deps.now();
        const health = await checkTargetHealth(deps.links, sync.name, healthReadAt, deps.health);
        if (health.paused) {
          paused = health.reason;
          break;
        }
      }
      await enqueueChanged(sync, rows, deps, opts.runId, counts, children, refused);
      // Rows re-read in the lookback window sit behind the stored bookmark: never move it backwards.
      await deps.state.saveProgress(
        sync.name,
        opts.runId,
        {
          ...(last.pastBookmark ? { bookmark: last.position } : {}),
          pass: ended ? undefined : { at: passAt, position: last.position },
          ...(ended ? { lastPassAt: passAt } : {}),
        },
        deps.now(),
        leaseMs,
      );
      if (last.pastBookmark) bookmark = last.position;
      deps.onProgress?.(sync.name, counts);
      if (more && outOfTime) backlog = true;
    }
    // A pass that ends on an empty page (a no-op run, or a last page exactly full) is complete too.
    if (endedOnEmptyPage) {
      await deps.state.saveProgress(
        sync.name,
        opts.runId,
        { pass: undefined, lastPassAt: passAt },
        deps.now(),
        leaseMs,
      );
    }
    // Children changed since their stream bookmark re-send their whole parent record.
    for (const child of paused ? [] : children) {
      let after = childStart.get(child);
      for (;;) {
        if (opts.remainingMs() < reserveMs) {
          backlog = true;
          break;
        }
        const changed = await child.changedParents(after, sync.source.pageSize);
        if (changed.read === 0) break;
        const parents = await reader.readByKeys(changed.parentKeys, bookmark);
        counts.read += parents.length;
        await enqueueChanged(sync, parents, deps, opts.runId, counts, children, refused);
        after = changed.last;
        if (after) await deps.state.saveStreamBookmark(sync.name, opts.runId, child.as, after);
        deps.onProgress?.(sync.name, counts);
        if (changed.read < sync.source.pageSize) break;
      }
    }
    // Keys deleted outright (deletes.keys): their records are deleted like soft-deleted rows.
    if (deletedKeys && !paused) {
      const left = await deletedKeys.run(reader, opts.runId, counts, () => opts.remainingMs() < reserveMs);
      if (left) backlog = true;
    }
    await deps.state.releaseLease(sync.name, opts.runId);
    setAside.push(...refusedAsSetAside(refused));
    if (setAside.length > 0) counts.setAside = setAside.reduce((n, s) => n + s.count, 0);
    const message = [
      paused ? `paused, bookmark kept: ${paused}` : undefined,
      remapped,
      ...setAside.map((s) => `${s.code}: ${s.message}`),
    ]
      .filter(Boolean)
      .join('; ');
    return finish(setAside.length > 0 ? 'partial' : 'succeeded', {
      before,
      after: bookmark,
      backlog,
      setAside,
      ...(message ? { message } : {}),
    });
  } catch (err) {
    await deps.state.releaseLease(sync.name, opts.runId).catch(() => undefined);
    const { code, message } = describeError(err);
    return finish('failed', { before, after: bookmark, message: `${code}: ${message}` });
  }
}

async function enqueueChanged(
  sync: SyncConfig,
  rows: readonly SourceRow[],
  deps: ExtractDeps,
  runId: string,
  counts: RunCounts,
  children: readonly ChildReader[],
  refused: RefusedMessage[],
): Promise<void> {
  const candidates = await buildMessages(sync, rows, runId, children, deps.now);
  counts.invalid += candidates.filter((m) => m.invalid).length;
  // Rows whose content the links already hold are dropped; one whose content the target holds at
  // an older version moves the link's version on (so a different message still queued becomes
  // stale: A → B → A), or is sent when that conditional write fails (selectChanged).
  const { send: changed } = await selectChanged(deps.links, sync.name, candidates, deps.now);
  counts.unchanged += candidates.length - changed.length;
  // A message SQS cannot take is set aside with its key and reason; the rest of the page is sent.
  const outcome = await deps.enqueuer.trySendAll(changed);
  counts.enqueued += outcome.sent;
  refused.push(...outcome.refused);
}

/** Messages SQS refused, by code: set aside with their keys, like rows no page can return. */
function refusedAsSetAside(refused: readonly RefusedMessage[]): SetAsideRows[] {
  const byCode = new Map<string, RefusedMessage[]>();
  for (const r of refused) byCode.set(r.code, [...(byCode.get(r.code) ?? []), r]);
  return [...byCode].map(([code, list]) => ({
    code,
    count: list.length,
    samples: list.slice(0, 3).map((r) => r.message.key),
    message:
      `${list.length} record(s) could not be enqueued (${list[0]!.reason}); the rows after them were. ` +
      'They are sent again when their row changes; see docs/source-data.md',
  }));
}

import type { WriteMessage } from '../queue/WriteMessage.ts';
import type { SourceReader, SourceRow } from '../source/SourceReader.ts';
import type { PassProgress } from '../state/StateStore.ts';
import { checkTargetHealth, type TargetHealth } from '../write/checkTargetHealth.ts';
import type { ExtractRun } from './ExtractRun.ts';
import { selectPage, sendChanged } from './enqueueChanged.ts';

/** How often a run re-reads the target's health between pages. */
const HEALTH_RECHECK_MS = 5_000;

/** Where a pass starts: the sync state's pass in progress and last complete pass. */
export interface PassFrom {
  /** The pass an earlier invocation left unfinished: resumed where it stopped. */
  readonly pass: PassProgress | undefined;
  /** When the last complete pass started: a new pass's lookback window opens from it. */
  readonly lastPassAt: string | undefined;
  /** The pass is the sync's first (isFirstPass): its pages read no links. */
  readonly first?: boolean;
}

/**
 * Read the source in keyset pages and enqueue what changed, saving the pass's progress after each
 * page. A pass reads from its start to the end of the source, over as many invocations as it
 * takes: one left unfinished (out of time, test limit, paused) resumes where it stopped, so every
 * run moves forward however many rows the lookback window holds.
 * @returns why the target's health paused the run, or undefined
 */
export async function readPass(
  run: ExtractRun,
  reader: SourceReader,
  from: PassFrom,
  clockRead?: string,
): Promise<string | undefined> {
  const { sync, counts } = run;
  // A new pass starts at the warehouse clock read before anything was read (the run's probe, when
  // it made one): the next pass's lookback window opens from it.
  const passAt = from.pass?.at ?? clockRead ?? (await reader.now());
  const start = from.pass
    ? { after: from.pass.position }
    : await reader.passStart(run.before, from.lastPassAt);
  const maxRows = sync.testLimit ?? Number.POSITIVE_INFINITY;
  const pageLimit = (): number => Math.min(sync.source.pageSize, maxRows - counts.read);
  const targetHealth = healthReader(run);
  const pass: PassSaved = { at: passAt, first: from.first === true };
  let limit = pageLimit();
  let next: Promise<SourceRow[]> | undefined =
    limit > 0 ? reader.readPage(start, limit, run.before) : undefined;
  // The page before this one, being sent and saved: a page is selected (its messages built, its
  // links read) while the one before it is sent, and sent only once that one is saved, so the
  // bookmark still moves page by page over pages that are enqueued.
  let sending: Promise<void> = Promise.resolve();
  try {
    while (next) {
      const rows = await next;
      next = undefined;
      if (rows.length === 0) {
        await sending;
        // A pass that ends on an empty page (a no-op run, or a last page exactly full) is complete too.
        await run.deps.state.saveProgress(
          sync.name,
          run.runId,
          { pass: undefined, lastPassAt: passAt, firstPass: false },
          run.deps.now(),
          run.leaseMs,
        );
        run.completedPassAt = passAt;
        return undefined;
      }
      // A short page is the end of the source: the pass is complete once it is enqueued.
      const ended = rows.length < limit;
      counts.read += rows.length;
      const last = rows[rows.length - 1]!;
      const more = rows.length === limit && counts.read < maxRows;
      const outOfTime = run.outOfTime();
      if (more && !outOfTime) {
        // Read the next page while this one is enqueued; the bookmark still moves only after it is.
        limit = pageLimit();
        next = reader.readPage({ after: last.position }, limit, run.before);
        next.catch(() => undefined); // an error surfaces when awaited; this only marks it handled
      }
      const changed = await selectPage(run, rows, { firstPass: pass.first });
      await sending;
      // Checked between a page enqueued and the next: a target gone down stops what is selected.
      const health = await targetHealth();
      if (health?.paused) return health.reason;
      sending = sendPage(run, changed, pass, last, ended, more && outOfTime);
      sending.catch(() => undefined); // an error surfaces when awaited; this only marks it handled
    }
    await sending;
    return undefined;
  } finally {
    // A page that failed to be selected or read leaves the one before it to finish first: its
    // save must not land after the run has given up its lease.
    await sending.catch(() => undefined);
  }
}

/** The pass a page belongs to, as its progress is saved: its start, and whether it is the sync's first. */
interface PassSaved {
  readonly at: string;
  readonly first: boolean;
}

/** Sends a selected page, then saves the pass's progress past it. */
async function sendPage(
  run: ExtractRun,
  changed: readonly WriteMessage[],
  pass: PassSaved,
  last: SourceRow,
  ended: boolean,
  backlog: boolean,
): Promise<void> {
  await sendChanged(run, changed);
  await savePage(run, pass, last, ended);
  run.deps.onProgress?.(run.sync.name, run.counts);
  if (backlog) run.backlog = true;
}

/**
 * Save the pass's progress past a page that is enqueued, and move the bookmark when the page went
 * past it. Rows re-read in the lookback window sit behind the stored bookmark: never move it backwards.
 */
async function savePage(run: ExtractRun, pass: PassSaved, last: SourceRow, ended: boolean): Promise<void> {
  await run.deps.state.saveProgress(
    run.sync.name,
    run.runId,
    {
      ...(last.pastBookmark ? { bookmark: last.position } : {}),
      pass: ended ? undefined : { at: pass.at, position: last.position },
      ...(ended ? { lastPassAt: pass.at } : {}),
      firstPass: pass.first && !ended,
    },
    run.deps.now(),
    run.leaseMs,
  );
  if (last.pastBookmark) run.bookmark = last.position;
  if (ended) run.completedPassAt = pass.at;
}

/**
 * The target's health, read at most every HEALTH_RECHECK_MS (undefined in between). A target that
 * is down pauses the sync: what is queued would only wait, fail or be dead-lettered. The health
 * judges a window of minutes, so one read every few seconds is enough.
 */
function healthReader(run: ExtractRun): () => Promise<TargetHealth | undefined> {
  const { deps } = run;
  let readAt = Number.NEGATIVE_INFINITY;
  return async () => {
    if (deps.health === false || deps.now() - readAt < HEALTH_RECHECK_MS) return undefined;
    readAt = deps.now();
    return checkTargetHealth(deps.links, run.sync.name, readAt, deps.health);
  };
}

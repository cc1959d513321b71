import type { LinkStatus } from './Link.ts';

/** Links of one sync by status. */
export type LinkCounts = Record<LinkStatus, number>;

/** What became of the records a run sent, as their links say now. */
export interface RunWrites {
  /** Written, and the link was created by this run. */
  created: number;
  /** Written over a record an earlier run had created. */
  updated: number;
  /** Still pending or retrying. */
  retrying: number;
  /** Failed permanently or retries exhausted: in the DLQ. */
  failed: number;
}

/** One sync's links, counted. */
export interface SyncCensus {
  readonly links: LinkCounts;
  /** By run id: the links whose last write attempt came from that run. */
  readonly byRun: Map<string, RunWrites>;
}

/** What to count, and how to report progress. */
export interface CensusOptions {
  /** Only these syncs. @default all */
  readonly syncs?: ReadonlySet<string>;
  /** Start time of runs (ISO), to tell created from updated. */
  readonly runStarts?: ReadonlyMap<string, string>;
  /** Parallel scan segments. @default 4 */
  readonly segments?: number;
  /** Items read so far (of every kind the table holds), after each page. */
  readonly onProgress?: (scanned: number) => void;
}

/** The four attributes of a link the census reads. */
export interface CensusItem {
  readonly sync: string | undefined;
  readonly status: string | undefined;
  readonly runId: string | undefined;
  readonly createdAt: string | undefined;
}

/** Zero for every status. */
export function emptyLinkCounts(): LinkCounts {
  return { ok: 0, pending: 0, retrying: 0, failed: 0, dead: 0, deleted: 0 };
}

/**
 * Counts links by sync and status, and by the run that last wrote them: a link store feeds it
 * every item it reads (`add`), in any order, and reads the result (`result`).
 */
export function censusTally(opts: Pick<CensusOptions, 'syncs' | 'runStarts'> = {}): {
  add(item: CensusItem): void;
  readonly result: Map<string, SyncCensus>;
} {
  const out = new Map<string, SyncCensus>();
  const add = (item: CensusItem): void => {
    const sync = item.sync;
    // Side items (target health, rate limits) share the table; they have no sync attribute.
    if (!sync || (opts.syncs && !opts.syncs.has(sync))) return;
    const status = (item.status ?? 'pending') as LinkStatus;
    let census = out.get(sync);
    if (!census) {
      census = { links: emptyLinkCounts(), byRun: new Map() };
      out.set(sync, census);
    }
    census.links[status] = (census.links[status] ?? 0) + 1;
    const runId = item.runId;
    if (!runId) return;
    let run = census.byRun.get(runId);
    if (!run) {
      run = { created: 0, updated: 0, retrying: 0, failed: 0 };
      census.byRun.set(runId, run);
    }
    if (status === 'ok') {
      const started = opts.runStarts?.get(runId);
      const createdAt = item.createdAt;
      if (started !== undefined && createdAt !== undefined && createdAt >= started) run.created++;
      else run.updated++;
    } else if (status === 'failed' || status === 'dead') run.failed++;
    else run.retrying++;
  };
  return { add, result: out };
}

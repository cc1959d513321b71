import type { PairConflict } from '../pair/planPairPage.ts';
import type { Position } from '../source/Position.ts';
import type { SetAsideRows } from '../source/SourceReader.ts';

export const RUN_OUTCOMES = ['succeeded', 'partial', 'failed', 'skipped'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

/** Counters of one extract run; `written`/`failed` are filled by the writers through the links. */
/** Conflicts a run record lists in full; the count covers the rest. */
export const MAX_RECORDED_CONFLICTS = 100;

export interface RunCounts {
  read: number;
  unchanged: number;
  enqueued: number;
  invalid: number;
  /** Dead or stuck keys re-enqueued with their current row this run. */
  redriven?: number;
  /** Links failed permanently / dead, at the end of the run: in the DLQ, never silent. */
  failed?: number;
  dead?: number;
  /** Rows no page can read as they are (NULL cursor or key, cursor far in the future): see the run's message. */
  setAside?: number;
  /** Two-way pairs: rows that were the echo of our own write (or agreed already), settled without a call. */
  echoes?: number;
  /** Two-way pairs: rows whose copy predates our last write into their app, left for the load that shows it. */
  awaitingReload?: number;
  /** Two-way pairs: fields both apps changed, resolved by the declared rule (listed in `conflicts`). */
  conflicts?: number;
}

/** One extract run, as stored in the run history and shown by `writeback runs`. */
export interface RunRecord {
  readonly sync: string;
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly outcome: RunOutcome;
  readonly counts: RunCounts;
  readonly bookmarkBefore: Position | undefined;
  readonly bookmarkAfter: Position | undefined;
  /** Why the run failed or was skipped, and whether a backlog remains. */
  readonly message?: string;
  readonly backlog: boolean;
  /** Two-way pairs: the conflicts this run resolved (the first MAX_RECORDED_CONFLICTS; `counts.conflicts` has them all). */
  readonly conflicts?: readonly PairConflict[];
  /** Rows this run could not read as they are, by reason (the outcome is then `partial`). */
  readonly setAside?: readonly SetAsideRows[];
  /**
   * Nothing had changed and nothing was flagged: the run read its state and probed the source,
   * took no lease and wrote nothing, this record included (it is returned and logged, not stored).
   */
  readonly quiet?: boolean;
}

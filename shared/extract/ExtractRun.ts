import type { SyncConfig } from '../config/schema.ts';
import type { PairConflict } from '../pair/planPairPage.ts';
import type { ChildReader } from '../source/ChildReader.ts';
import type { Position } from '../source/Position.ts';
import type { SourceReader } from '../source/SourceReader.ts';
import type { RunCounts } from '../state/RunRecord.ts';
import type { ExtractDeps } from './runExtract.ts';

/** A record the run could not send, with the code and reason it is set aside under. */
export interface UnsentRecord {
  readonly code: string;
  readonly key: string;
  readonly reason: string;
}

/**
 * One extract run in progress, handed from step to step: what every step reads (the sync, its
 * dependencies, the time left) and what the steps move (the counts, the records not sent, the
 * bookmark and the backlog flag), so the run's record says how far it got even when it fails.
 */
export interface ExtractRun {
  readonly sync: SyncConfig;
  readonly deps: ExtractDeps;
  readonly runId: string;
  readonly startedAt: string;
  /** Lease duration; renewed with every bookmark write. */
  readonly leaseMs: number;
  /** True once less time is left than the run keeps in reserve: read no new page. */
  readonly outOfTime: () => boolean;
  /** The reader of the sync's source (kept per container, see sourceReaders). */
  readonly source: SourceReader;
  /** The readers of the sync's embedded children. */
  readonly children: readonly ChildReader[];
  readonly counts: RunCounts;
  /** Records not sent (SQS refused them, or their key is too long): set aside by code at the end. */
  readonly unsent: UnsentRecord[];
  /** Two-way pairs: the conflicts resolved, for the run record. */
  readonly conflicts: PairConflict[];
  /** The bookmark the run reads after; undefined when a mapping change restarts it from the first row. */
  before: Position | undefined;
  /** Where the bookmark stands: it moves only over pages that are enqueued. */
  bookmark: Position | undefined;
  /** Rows are left for the next run (it ran out of time). */
  backlog: boolean;
  /** When the pass this run completed started (the state's new lastPassAt); unset while none has. */
  completedPassAt?: string;
}

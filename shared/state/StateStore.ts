import type { RunGate } from '../links/LinkStore.ts';
import type { Position } from '../source/Position.ts';
import type { VerifyReport } from '../verify/VerifyReport.ts';
import type { OperatorAction } from './OperatorAction.ts';
import type { RunRecord } from './RunRecord.ts';

/**
 * A sync's durable state as the domain sees it: its bookmark, the run lease, the enabled flag, and
 * the history of runs, verifications and operator actions. The lease makes runs of one sync mutually exclusive;
 * every write of a run is conditional on still holding it (a condition failure is thrown), so a
 * run that lost its lease (paused, timed out) can never move the bookmark of the run that took
 * over. DynamoStateStore implements it.
 */
export interface StateStore {
  /** The state of a sync, read strongly (empty for a sync that never ran). */
  get(sync: string): Promise<SyncState>;
  /**
   * Takes the run lease like acquireLease and returns the state the lease write left (one request);
   * undefined when another run is active.
   */
  takeLease(sync: string, owner: string, now: number, ttlMs: number): Promise<SyncState | undefined>;
  /** Takes the run lease when nobody holds a live one (or we do); false when another run is active. */
  acquireLease(sync: string, owner: string, now: number, ttlMs: number): Promise<boolean>;
  /** Gives the lease up, if still ours. */
  releaseLease(sync: string, owner: string): Promise<void>;
  /**
   * Records the mapping the bookmark is read with; with `restart`, also clears the bookmark in the
   * same write. Conditional on the lease.
   */
  saveMapping(sync: string, owner: string, mapping: string, restart: boolean): Promise<void>;
  /** Moves the bookmark and extends the lease; conditional on the lease. */
  saveBookmark(sync: string, owner: string, bookmark: Position, now: number, ttlMs: number): Promise<void>;
  /** Records a run's progress after an enqueued page (bookmark, pass); conditional on the lease. */
  saveProgress(sync: string, owner: string, p: Progress, now: number, ttlMs: number): Promise<void>;
  /** The bookmark of a secondary stream of a sync (the change stream of its embedded children). */
  getStreamBookmark(sync: string, stream: string): Promise<Position | undefined>;
  /** Moves a secondary stream's bookmark; conditional on the lease. */
  saveStreamBookmark(sync: string, owner: string, stream: string, bookmark: Position): Promise<void>;
  /** Sets (or clears, with undefined) the bookmark outside a run: `writeback reset`. */
  resetBookmark(sync: string, bookmark: Position | undefined): Promise<void>;
  /** `writeback enable|disable`: overrides the config's enabled flag. */
  setEnabled(sync: string, enabled: boolean): Promise<void>;
  /** Keeps a run in the sync's history. */
  recordRun(run: RunRecord): Promise<void>;
  /** Keeps a verification's report (with its capped findings) in the sync's history. */
  recordVerify(report: VerifyReport): Promise<void>;
  /** The newest runs first, up to `limit` (default 20). */
  listRuns(sync: string, limit?: number): Promise<RunRecord[]>;
  /** The newest verification reports first, up to `limit` (default 10). */
  listVerifies(sync: string, limit?: number): Promise<VerifyReport[]>;
  /** Keeps an operator action in the sync's history; the same id again replaces it (its outcome). */
  recordAction(action: OperatorAction): Promise<void>;
  /** The newest operator actions first, up to `limit` (default 50). */
  listActions(sync: string, limit?: number): Promise<OperatorAction[]>;
}

/**
 * What an extract run reads before anything else: its sync's state and the gate of a quiet run
 * (TargetHealthStore.readGate), in one request where the stores allow it (DynamoRunStartReader).
 */
export interface RunStartReader {
  read(sync: string): Promise<{ state: SyncState; gate: RunGate }>;
}

/** A sync's durable state: its bookmark and whether a run holds the lease. */
export interface SyncState {
  readonly bookmark: Position | undefined;
  readonly leaseOwner: string | undefined;
  readonly leaseUntil: number | undefined;
  /** Set by `writeback disable`; overrides the config's enabled flag when present. */
  readonly enabled: boolean | undefined;
  /** mappingFingerprint of the config the bookmark was read with. */
  readonly mapping: string | undefined;
  /** The pass over the source in progress: when it started (warehouse clock) and how far it got. */
  readonly pass: PassProgress | undefined;
  /** When the last complete pass started (warehouse clock): the next lookback window opens from it. */
  readonly lastPassAt: string | undefined;
  /** The bookmarks of the sync's secondary streams (embedded children by `as`, `~deletedKeys`). */
  readonly streams: Readonly<Record<string, Position>>;
  /**
   * True while the sync's first pass runs (no message was sent before it: see isFirstPass), false
   * once a pass completed or the bookmark was reset or restarted; undefined before any pass saved
   * its progress (and on states written before this was recorded).
   */
  readonly firstPass?: boolean | undefined;
}

/** A pass that an invocation left unfinished (out of time, test limit, paused): the next one resumes it. */
export interface PassProgress {
  readonly at: string;
  readonly position: Position;
}

/** What a run records after each enqueued page, in one conditional write. */
export interface Progress {
  /** The new bookmark, when the page went past the stored one. */
  readonly bookmark?: Position;
  /** The pass still in progress, or undefined once it reached the end of the source. */
  readonly pass: PassProgress | undefined;
  /** Set when the pass completed: its start time. */
  readonly lastPassAt?: string;
  /** The pass is the sync's first (recorded while it is in progress; a completed one records false). */
  readonly firstPass?: boolean;
}

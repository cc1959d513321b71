import type { Link, LinkError, LinkStatus } from './Link.ts';
import type { CensusOptions, SyncCensus } from './linkCensus.ts';

/**
 * The link table as the domain sees it: one item per (sync, source key) saying where the row went.
 * The write protocol, the extract, ops and verify use this port; how items are keyed, indexed,
 * queried and scanned is the implementation's business (DynamoLinkStore). Every state change is a
 * single-item conditional write: the condition decides, not the caller, which is what makes
 * duplicate and concurrent deliveries harmless.
 *
 * Failures: a store that cannot be reached throws LinkStoreUnavailableError (throttling passes
 * through as it is), so that a caller can abort before any target write.
 */
export interface LinkStore {
  /** Per-sync target call outcomes, written by the writers and read before enqueuing. */
  readonly health: TargetHealthStore;

  /** One link, read strongly; undefined when the key was never sent. */
  get(sync: string, key: string): Promise<Link | undefined>;
  /**
   * Many links at once, by source key. Eventually consistent by default (half the price): on AWS
   * such a read may miss the writes of the last second or so. `consistent: true` where a decision
   * that is not itself a conditional write depends on the read (the writer's stale/unchanged filter).
   */
  batchGet(
    sync: string,
    keys: readonly string[],
    opts?: { consistent?: boolean },
  ): Promise<Map<string, Link>>;

  /** Claims a key for writing: records the intent and a lease, or says why not (ClaimResult). */
  claim(req: ClaimRequest): Promise<ClaimResult>;
  /**
   * Moves a committed link's version forward when a newer source version carries the content the
   * target already holds; false when the link changed since it was read (write it instead).
   */
  touchVersion(req: TouchVersionRequest): Promise<boolean>;
  /** Marks the write done; false when our lease was lost (another writer took over). */
  commit(req: CommitRequest): Promise<boolean>;
  /** Marks a record deleted in the target (its soft-deleted source row), conditional on the lease. */
  commitDeleted(req: CommitDeletedRequest): Promise<boolean>;
  /** Records a failed attempt and releases the lease; false when the lease was lost. */
  recordFailure(req: FailureRequest): Promise<boolean>;
  /** Records that a redrive re-enqueued this key; false when the link moved on since it was read. */
  markRedriven(req: RedriveRequest): Promise<boolean>;

  /**
   * Source keys of the links whose target record has this id (normally one; more would mean two
   * keys claim one target record). Eventually consistent: read the links for their current state.
   */
  keysByTarget(sync: string, targetId: string): Promise<string[]>;
  /**
   * Links that need attention (every status but ok), newest first, up to `limit` (default 1000);
   * with `updatedBefore`, only those last touched before that time (ISO 8601).
   */
  listByStatus(
    sync: string,
    status: Exclude<LinkStatus, 'ok'>,
    limit?: number,
    updatedBefore?: string,
  ): Promise<Link[]>;
  /** Source keys of the links with this status, newest first, up to `limit`. */
  keysByStatus(sync: string, status: Exclude<LinkStatus, 'ok'>, limit: number): Promise<string[]>;
  /** How many links of a sync have this status. */
  countByStatus(sync: string, status: Exclude<LinkStatus, 'ok'>): Promise<number>;
  /** When the least recently touched link with this status was touched (ISO 8601); undefined: none. */
  oldestUpdate(sync: string, status: Exclude<LinkStatus, 'ok'>): Promise<string | undefined>;

  /**
   * Every link counted by sync and status, and by the run that last wrote it. `ok` links are in no
   * index, so this reads the whole table: its cost grows with the table.
   */
  census(opts?: CensusOptions): Promise<Map<string, SyncCensus>>;
  /** Every link of one sync, in no particular order: what a verification compares. */
  scan(sync: string): AsyncIterable<LinkSummary>;
}

/** Target call outcomes per sync over time, kept beside the links. */
export interface TargetHealthStore {
  /** Adds one batch's counts to the current time bucket. */
  record(
    sync: string,
    now: number,
    stats: { calls: number; failedCalls: number; lagMs?: number | undefined },
  ): Promise<void>;
  /** Sums what the writers reported over `[now - windowMs, now]`, with the auth outage if one is open. */
  read(sync: string, now: number, windowMs: number): Promise<TargetCallStats>;
  /**
   * The target refused the connection's credentials, after the writer re-read its secret: opens
   * the sync's auth outage (or keeps it open: `since` stays, `lastAt` moves).
   */
  recordAuthRefusal(sync: string, now: number, refusal: AuthRefusal): Promise<void>;
  /** A target call went through: the credentials work (again), so an open auth outage ends. */
  clearAuthRefusal(sync: string, now: number): Promise<void>;
  /** The redrive flag and the auth outage, in one read: what a quiet run checks. */
  readGate(sync: string): Promise<RunGate>;
  /**
   * Links of the sync may need a redrive from `dueAt` on (they went dead, retrying, or a message
   * came back): the extract looks for them then. An earlier time already set stays.
   */
  flagRedrive(sync: string, dueAt: number, now: number): Promise<void>;
  /** After a redrive: the flag moves to `next` (removed when undefined) if it still holds `seen`. */
  settleRedrive(sync: string, seen: number | undefined, next: number | undefined): Promise<void>;
}

/** What a writer knows when the target refuses its credentials. */
export interface AuthRefusal {
  /** The connector's code (HUBSPOT_UNAUTHORIZED, PG_28P01…). */
  readonly code: string;
  readonly message: string;
  readonly httpStatus?: number;
  /** The connection whose credentials were refused (the config's name). */
  readonly connection: string;
  /** Where those credentials live, for the operator: the secret's name or ARN. */
  readonly secret: string;
}

/** An open auth outage: the target has refused the credentials since `since`, last at `lastAt`. */
export interface AuthOutage extends AuthRefusal {
  readonly since: number;
  readonly lastAt: number;
}

/** What a run reads before deciding that it is quiet (see TargetHealthStore.readGate). */
export interface RunGate {
  /**
   * Links are flagged for a redrive from this time on (ms); 0 when no flag was ever settled (look
   * once); undefined: none is flagged.
   */
  readonly redriveDueAt: number | undefined;
  /** An open auth outage: the run pauses and says so. */
  readonly auth?: AuthOutage | undefined;
}

/** What the writers of one sync observed over a window of time. */
export interface TargetCallStats {
  /** Target calls made (upserts and lookups). */
  readonly calls: number;
  /** Calls whose every record failed with a retryable error (429, 5xx, timeout, reset). */
  readonly failedCalls: number;
  /** Queue lag of the newest batch seen: enqueue → first delivery, ms; undefined when no batch reported one. */
  readonly lagMs: number | undefined;
  /** The auth outage, when the target refused the credentials and no call has gone through since. */
  readonly auth?: AuthOutage | undefined;
}

export type ClaimResult =
  /** The key is ours until `leaseUntil`; `previous` is the item as it was before (undefined: a new key). */
  | { readonly outcome: 'claimed'; readonly previous: Link | undefined }
  /** The link already holds or has claimed a newer source version: the message is stale. */
  | { readonly outcome: 'stale'; readonly link: Link }
  /** The target already holds exactly this content (a duplicate that raced the first delivery). */
  | { readonly outcome: 'unchanged'; readonly link: Link }
  /** Another writer holds a live lease on this key: back off and retry. */
  | { readonly outcome: 'busy'; readonly link: Link | undefined };

export interface ClaimRequest {
  readonly sync: string;
  readonly key: string;
  readonly version: string;
  readonly hash: string;
  readonly token: string;
  readonly runId: string;
  readonly now: number;
  readonly leaseMs: number;
  /**
   * A repair (`writeback verify --repair`): claim even when the link says the target holds this
   * content, because the target lost or changed it behind our back. Lease and version still decide.
   */
  readonly repair?: boolean;
  /**
   * The message came back (its receive count is 2 or more): the claimed link goes into the
   * `attention` index as pending, where redriveFailed finds it should this delivery crash too and
   * the message be lost. A first delivery's claim stays out of the index: the happy path writes
   * no index entry (its commit follows at once, or the message comes back and claims again).
   */
  readonly retried?: boolean;
}

export interface TouchVersionRequest {
  readonly sync: string;
  readonly key: string;
  readonly version: string;
  readonly hash: string;
  readonly now: number;
}

export interface CommitRequest {
  readonly sync: string;
  readonly key: string;
  readonly token: string;
  readonly targetId: string;
  readonly hash: string;
  readonly version: string;
  readonly now: number;
  /** The parent's target id this record was associated with (associated children). */
  readonly associatedWith?: string;
}

export interface CommitDeletedRequest {
  readonly sync: string;
  readonly key: string;
  readonly token: string;
  readonly version: string;
  readonly now: number;
}

export interface FailureRequest {
  readonly sync: string;
  readonly key: string;
  readonly token: string;
  readonly status: Exclude<LinkStatus, 'ok' | 'pending' | 'deleted'>;
  readonly error: Omit<LinkError, 'at'>;
  readonly now: number;
}

export interface RedriveRequest {
  readonly sync: string;
  readonly key: string;
  /** The link as the redrive read it: the write holds only if it is still exactly so. */
  readonly seen: Pick<Link, 'status' | 'updatedAt'>;
  readonly runId: string;
  readonly now: number;
}

/** The parts of a link a verification compares. */
export interface LinkSummary {
  readonly key: string;
  readonly status: string;
  readonly targetId: string | undefined;
  readonly hash: string | undefined;
  readonly updatedAt: string | undefined;
  readonly version: string | undefined;
  readonly attempts: number;
  /** JSON of the last error, as the link stores it. */
  readonly lastError: string | undefined;
}

export const LINK_STATUSES = ['ok', 'pending', 'retrying', 'failed', 'dead', 'deleted'] as const;
/**
 * ok: target holds this version · pending: a write is in flight (intent recorded before the call) ·
 * retrying: last attempt failed and will be retried · failed: permanent error, record is in the DLQ ·
 * dead: retries exhausted, record is in the DLQ · deleted: the source row was soft-deleted and the
 * target record deleted or archived (opt-in `deletes`).
 */
export type LinkStatus = (typeof LINK_STATUSES)[number];

/** The statuses the sparse `attention` index holds (every one but ok and deleted). */
export const ATTENTION_STATUSES = [
  'pending',
  'retrying',
  'failed',
  'dead',
] as const satisfies readonly Exclude<LinkStatus, 'ok'>[];
/** A link status that needs an operator's look. */
export type AttentionStatus = (typeof ATTENTION_STATUSES)[number];

/** The content hash of a record deleted in the target: a restored row hashes differently and is written again. */
export const DELETED_HASH = 'deleted';

export interface LinkError {
  readonly code: string;
  readonly message: string;
  readonly httpStatus?: number;
  readonly at: string;
}

/** Where one source row went: one item per (sync, source key). */
export interface Link {
  readonly sync: string;
  readonly key: string;
  readonly status: LinkStatus;
  readonly targetId: string | undefined;
  /** Associated children: the parent's target id the record was associated with. */
  readonly associatedWith?: string;
  /** Hash of the content the target holds (last successful write). */
  readonly hash: string | undefined;
  /** Source version the target holds. */
  readonly version: string | undefined;
  /** Version and hash of the write in flight or last failed. */
  readonly pendingVersion: string | undefined;
  readonly pendingHash: string | undefined;
  readonly attempts: number;
  readonly lastError: LinkError | undefined;
  readonly leaseToken: string | undefined;
  readonly leaseUntil: number | undefined;
  readonly runId: string | undefined;
  /** Times redriveFailed re-enqueued this key since its last success (capped; reset on commit). */
  readonly redrives: number;
  readonly createdAt: string | undefined;
  readonly updatedAt: string | undefined;
}

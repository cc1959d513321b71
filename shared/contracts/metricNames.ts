/**
 * Names of Writeback's CloudWatch metrics (embedded metric format, published by the handlers with
 * Powertools Metrics). The stack's alarms and dashboard read the same names from here; this file
 * has no dependencies so that the CDK app can import it.
 *
 * Every metric has the dimensions `service` (always `writeback`) and `sync`, except VERIFY_MISMATCHED
 * (`service` only).
 */
export const METRICS_NAMESPACE = 'Writeback';

/** Value of the `service` dimension (POWERTOOLS_SERVICE_NAME of every function). */
export const METRICS_SERVICE = 'writeback';

/** Published by the extract function, one set per run. */
export const RUN_METRICS = {
  /** 1 when a run starts (published at once, before the run): the schedule fired and the function ran. */
  runsStarted: 'RunsStarted',
  /** 1 per run whose outcome is `failed` (the run history says why). */
  runsFailed: 'RunsFailed',
  /** 1 per run whose outcome is `partial`. */
  runsPartial: 'RunsPartial',
  /** 1 per run that was `skipped` (sync paused, or the previous run still held the lease). */
  runsSkipped: 'RunsSkipped',
  /** Source rows read (new or changed since the bookmark, and lookback re-reads). */
  rowsRead: 'RowsRead',
  /** Records sent to the sync's queue (read minus unchanged). */
  rowsEnqueued: 'RowsEnqueued',
  /** Failed or stuck keys re-enqueued with their current row. */
  redriven: 'Redriven',
  /** Gauge: links in status `failed` at the end of the run (permanent failures, in the DLQ). */
  linksFailed: 'LinksFailed',
  /** Gauge: links in status `dead` at the end of the run (retries exhausted, in the DLQ). */
  linksDead: 'LinksDead',
} as const;

/** Published by the write function, one set per SQS batch. */
export const WRITE_METRICS = {
  /** Records created or updated in the target. */
  written: 'Written',
  /**
   * Records the writer dead-lettered with the reason: failed permanently (validation, 4xx, an
   * unreadable message) or out of retries. Their run is partial.
   */
  failed: 'Failed',
  /** Of `Failed`: records whose retries ran out (status `dead`). */
  dead: 'Dead',
  /** Records handed back to the queue to be retried after a backoff. */
  retrying: 'Retrying',
  /** Of `Retrying`: children whose parent is not linked yet. */
  waitingForParent: 'WaitingForParent',
  /**
   * Records the target refused for the connection's credentials even after the writer re-read
   * the secret (a revoked or rotated token or password): the sync pauses until the secret is
   * updated. Nothing is dead-lettered; one alarm watches this metric.
   */
  authFailures: 'AuthFailures',
} as const;

/**
 * Published by the verify function, one per finding kind per verification: how many records it
 * found in that state (a gauge). Keys are the verify report's finding kinds.
 */
export const VERIFY_METRICS = {
  missing: 'VerifyMissing',
  drift: 'VerifyDrift',
  orphan: 'VerifyOrphan',
  dead: 'VerifyDead',
  backlog: 'VerifyBacklog',
} as const;

/**
 * Published by the verify function once per verification, beside the per-kind gauges, with the
 * `service` dimension only: missing + drift + orphan + dead, the findings that mean the target does
 * not match the source (backlog is only late). The stack's one verify alarm watches it for every
 * sync: one billed alarm metric, where metric math over the four gauges of each sync billed four
 * per sync. The gauges, with the sync, say which sync and which kind.
 */
export const VERIFY_MISMATCHED = 'VerifyMismatched';

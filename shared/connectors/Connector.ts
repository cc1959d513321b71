import type { Payload } from '../config/schema.ts';
import type { TargetError } from '../errors.ts';
import type { HttpStats } from './http/HttpClient.ts';
import type { RateLimiterStats, RateLimitSpec } from './http/RateLimiter.ts';

/** How one call reports the fate of its records. */
export type PartialSuccess = 'per-record' | 'all-or-nothing';
/** How child records reach the target: inside the parent's payload, or as objects of their own, associated. */
export type ChildrenMode = 'embedded' | 'associated' | 'none';
/** What a null in a payload does: clear the target field, or leave the target's value untouched. */
export type NullSemantics = 'clear' | 'keep';

/** What a connector can do; the write protocol picks its recovery path from these. */
export interface ConnectorCapabilities {
  /** The target upserts by our external id (HubSpot idProperty, Postgres ON CONFLICT): replaying a create is safe. */
  readonly nativeUpsert: boolean;
  /** The target honours an idempotency key header on creates (Xero, Stripe). */
  readonly idempotencyKey: boolean;
  /** Most records accepted in one call. */
  readonly maxBatchSize: number;
  /**
   * 'per-record': one call can succeed for some records and fail for others, and says which
   * (HubSpot 207, Xero summarizeErrors=false, Salesforce allOrNone=false); 'all-or-nothing': it
   * cannot, so the connector isolates bad records itself.
   */
  readonly partialSuccess: PartialSuccess;
  /** The target's published limits, kept by the connector's limiter; undefined for a database. */
  readonly rateLimits: RateLimitSpec | undefined;
  /** Lines embedded in the parent payload (Xero invoice LineItems) or objects associated after (HubSpot). */
  readonly children: ChildrenMode;
  /** The target field that versions a record (Xero UpdatedDateUTC, QuickBooks SyncToken), if any. */
  readonly versionToken: string | undefined;
  /** What a null does by default (`nulls` option of each connector to change it, per field). */
  readonly nulls: NullSemantics;
}

/** Counters of a connector's transport, for metrics and the benchmark. */
export interface ConnectorMetrics {
  readonly http: HttpStats;
  /** The connection's limiter: `waitedMsByReason` names the limit that is the bottleneck. */
  readonly limiter: RateLimiterStats | undefined;
}

/** One record to write. `externalId` is the stable id we derive from (sync, source key). */
export interface UpsertRecord {
  /** Encoded source key; results are matched back by it. */
  readonly key: string;
  /** Stable external id stored in the target (idProperty value / conflict key). */
  readonly externalId: string;
  /** Target id from the link, when the record was written before. */
  readonly targetId?: string;
  /** Deterministic per (sync, source key): a replay after a crash sends the same key (see docs/write-protocol.md). */
  readonly idempotencyKey: string;
  readonly payload: Payload;
}

/** Exactly one result per record passed to upsertBatch, in any order, matched by key. */
export type UpsertResult =
  | { readonly key: string; readonly ok: true; readonly targetId: string; readonly created: boolean }
  | { readonly key: string; readonly ok: false; readonly error: TargetError };

/** A record as the target holds it, for verification and lookups. */
export interface TargetRecord {
  readonly targetId: string;
  readonly externalId: string | undefined;
  readonly fields: Payload;
}

/**
 * A target application. Implementations translate the vendor's errors into TargetError at this
 * boundary (retryable vs permanent), and never put credentials into error messages.
 */
export interface Connector {
  readonly type: string;
  readonly capabilities: ConnectorCapabilities;
  /** Writes the records; throws only when the whole call failed the same way for every record. */
  upsertBatch(object: string, records: readonly UpsertRecord[]): Promise<UpsertResult[]>;
  /** Finds a record by our external id; undefined when absent. */
  lookup(object: string, externalId: string): Promise<TargetRecord | undefined>;
  /** Streams every record of the object, for verification and tests. */
  list(object: string): AsyncIterable<TargetRecord>;
  /** Reads one record by the target's own id; undefined when absent. */
  get?(object: string, targetId: string): Promise<TargetRecord | undefined>;
  /** Archives (soft-deletes) records by the target's id: one result per id, matched by `key` = id. */
  archive?(object: string, targetIds: readonly string[]): Promise<UpsertResult[]>;
  /** Transport counters (calls, retries, 429s, time held by the rate limiter). */
  metrics?(): ConnectorMetrics;
  /** Releases sockets and pools. */
  close(): Promise<void>;
}

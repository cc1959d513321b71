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
  /**
   * Update the record by `targetId`, not by external id: one direction of a two-way pair writes
   * records the other app created, which do not carry our external id. A connector whose upsert
   * already goes by the target's id when given one (Xero) can ignore it.
   */
  readonly byId?: boolean;
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

/** One parent–child link to make in the target, by the target's own ids. */
export interface AssociationPair {
  /** The child's (or any caller's) key, echoed in its result. @default `${fromId}->${toId}` */
  readonly key?: string;
  readonly fromId: string;
  readonly toId: string;
}

/** Exactly one result per pair passed to associate/dissociate, in the same order. */
export type AssociationResult =
  | { readonly key: string; readonly fromId: string; readonly toId: string; readonly ok: true }
  | {
      readonly key: string;
      readonly fromId: string;
      readonly toId: string;
      readonly ok: false;
      readonly error: TargetError;
    };

/** A typed (labelled) association; without types the target's default association is made. */
export interface AssociationTypeSpec {
  readonly category: 'HUBSPOT_DEFINED' | 'USER_DEFINED' | 'INTEGRATOR_DEFINED';
  readonly typeId: number;
}

export interface AssociateOptions {
  /** Association types to set on every pair; omitted: the default (unlabeled) association. */
  readonly types?: readonly AssociationTypeSpec[];
}

/** A record associated with another, as the target reports it. */
export interface AssociatedRecord {
  readonly toId: string;
  readonly types: readonly (AssociationTypeSpec & { readonly label: string | null })[];
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
  /**
   * Keeps the connection's credentials alive while no record is written (a scheduled call, see
   * keepConnectionAlive): a connection on a rotating refresh token renews its access token when it
   * has expired, which rotates the refresh token (Xero's expires after 60 days unused). Throws a
   * TargetError like a write would (an auth refusal when the vendor rejects the refresh token).
   * Absent: nothing expires while unused.
   */
  keepAlive?(): Promise<void>;
  /**
   * Children written as objects of their own (`capabilities.children === 'associated'`): links each
   * pair `fromId` (an object of `fromObject`) → `toId` (of `toObject`). Idempotent: associating a
   * linked pair again keeps one association. One result per pair, in order; never throws.
   */
  associate?(
    fromObject: string,
    toObject: string,
    pairs: readonly AssociationPair[],
    opts?: AssociateOptions,
  ): Promise<AssociationResult[]>;
  /** Removes every association between each pair; idempotent. One result per pair, in order. */
  dissociate?(
    fromObject: string,
    toObject: string,
    pairs: readonly AssociationPair[],
  ): Promise<AssociationResult[]>;
  /** The records of `toObject` associated with one record, for verification; [] when none. */
  listAssociations?(fromObject: string, fromId: string, toObject: string): Promise<AssociatedRecord[]>;
  /**
   * The records of `toObject` associated with each of many records, in the target's batch size
   * (HubSpot: 1000 per call), for verification. One entry per distinct id of `fromIds`, [] when the
   * record has none. Throws a TargetError when any id's associations could not be read (the call
   * failed, or the answer left the id out): an unread association is never reported as absent.
   */
  readAssociations?(
    fromObject: string,
    fromIds: readonly string[],
    toObject: string,
  ): Promise<Map<string, AssociatedRecord[]>>;
  /** Transport counters (calls, retries, 429s, time held by the rate limiter). */
  metrics?(): ConnectorMetrics;
  /** Releases sockets and pools. */
  close(): Promise<void>;
}

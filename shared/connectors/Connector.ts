import type { Payload } from '../config/schema.ts';
import type { TargetError } from '../errors.ts';

/** What a connector can do; the write protocol picks its recovery path from these. */
export interface ConnectorCapabilities {
  /** The target upserts by our external id (HubSpot idProperty, Postgres ON CONFLICT): replaying a create is safe. */
  readonly nativeUpsert: boolean;
  /** The target honours an idempotency key header on creates (Xero, Stripe). */
  readonly idempotencyKey: boolean;
  /** Most records accepted in one call. */
  readonly maxBatchSize: number;
}

/** One record to write. `externalId` is the stable id we derive from (sync, source key). */
export interface UpsertRecord {
  /** Encoded source key; results are matched back by it. */
  readonly key: string;
  /** Stable external id stored in the target (idProperty value / conflict key). */
  readonly externalId: string;
  /** Target id from the link, when the record was written before. */
  readonly targetId?: string;
  /** Deterministic per (sync, key, version): a replay after a crash sends the same key. */
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
  /** Releases sockets and pools. */
  close(): Promise<void>;
}

import type { SyncConfig } from '../config/schema.ts';
import type { Connector } from '../connectors/Connector.ts';
import type { TargetError } from '../errors.ts';
import type { Link } from '../links/Link.ts';
import type { ClaimCheckPointer } from '../queue/ClaimCheck.ts';
import type { WriteMessage } from '../queue/WriteMessage.ts';
import type { CallStats } from './callTarget.ts';
import type { InboundMessage, WriteCounts, WriteDeps } from './processWriteBatch.ts';

/** Link reads and writes in flight at once, per batch. */
export const LINK_CONCURRENCY = 16;

/** A delivered message that parsed: one record at one version. */
export interface Item {
  readonly inbound: InboundMessage;
  readonly msg: WriteMessage;
  /** Set when the body came by claim check: its object is deleted once the message is settled. */
  readonly pointer?: ClaimCheckPointer;
}

/** An item whose key this delivery holds the lease on. */
export interface Claimed extends Item {
  readonly token: string;
  /** The link before our claim; undefined for a key never seen. */
  readonly previous: Link | undefined;
}

/** One batch in progress, handed from step to step: its sync and dependencies, and what it has settled. */
export interface BatchContext {
  readonly sync: SyncConfig;
  readonly deps: WriteDeps;
  readonly counts: WriteCounts;
  /** Message ids to hand back to the queue (batchItemFailures). */
  readonly retry: string[];
  /** Message ids sent to the DLQ by settleFailure (their claim-check objects are kept). */
  readonly deadLettered: Set<string>;
  readonly stats: CallStats;
  readonly leaseMs: number;
  readonly backoff: (receiveCount: number, retryAfterSeconds?: number) => number;
  /**
   * The connector of this batch: `deps.credentials.current()` at the start (or `deps.connector`),
   * replaced when an authentication failure made the writer re-read the credentials.
   */
  connector: Connector;
  /** Milliseconds a chunk may still start in (time left minus the reserve); Infinity without a deadline. */
  readonly startableMs: () => number;
  /** Authentication failures of this batch (see writeChunk, settleAuthRefused). */
  readonly auth: {
    /** The re-read of the credentials, done at most once per batch: the connector it gave. */
    renewal?: Promise<Connector | undefined>;
    /** The last refusal that stood after the re-read: recorded in the target health at the end. */
    refused?: TargetError;
    /** A target call of this batch went through: the credentials work (an open auth outage ends). */
    accepted?: boolean;
  };
}

import type { Baseline } from './decideFields.ts';

/** The content hash a partner's link starts with: never a payload's hash, so its first real row is judged, not skipped. */
export const MIRROR_HASH = 'pair-mirror';

/** What the hub knows of one entity of a pair, kept beside the links of its two directions. */
export interface PairEntity {
  /** Side a's record id: the entity's key (known from the first write on). */
  readonly entity: string;
  /** Side b's record id. */
  readonly b: string | undefined;
  /** The value each field last had in both apps (normalised), as of our last write of it. */
  readonly base: Baseline;
  /** When we last wrote into each app (ms): a copy row loaded before it does not show our write yet. */
  readonly writtenAt: { readonly a: number | undefined; readonly b: number | undefined };
}

/** A write into one app of a pair that succeeded, to record before its link is committed. */
export interface PairWrite {
  readonly pair: string;
  /** The sync of the other direction: its link for the record written is made if it has none. */
  readonly partner: string;
  readonly entity: string;
  /** Side b's record id. */
  readonly b: string;
  /** The app written into. */
  readonly into: 'a' | 'b';
  /** The record's id in the app written into (the partner's source key) and in the app read (its target id). */
  readonly writtenId: string;
  readonly readId: string;
  /** The fields written, at their agreed (normalised) values. */
  readonly agreed: Baseline;
  readonly now: number;
}

/**
 * Where a pair keeps the state of each entity: the agreed values (the baseline of the three-way
 * comparison) and when each app was last written. Kept in the link table (items `~pair#<pair>#…`).
 */
export interface PairStore {
  /** The entities of one pair by key; eventually consistent. */
  batchGet(pair: string, entities: readonly string[]): Promise<Map<string, PairEntity>>;
  /**
   * Records a write: the partner's link to the record (a direction recognises what the other
   * created, never creating it again), then the agreed values and the write time. Idempotent:
   * a redelivered write records the same.
   */
  recordWrite(write: PairWrite): Promise<void>;
}

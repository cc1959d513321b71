import type { RepairResult } from './repairSync.ts';

export const FINDING_KINDS = ['missing', 'drift', 'orphan', 'backlog', 'dead'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** One thing that does not match, with the keys to find it and a short reason. */
export interface Finding {
  readonly kind: FindingKind;
  /** Source key (our external id). */
  readonly key: string;
  readonly targetId?: string;
  readonly reason: string;
  /** For drift: the fields that differ; `association` for a child not associated with its parent. */
  readonly fields?: readonly string[];
}

/** The result of verifying one sync; `findings` holds at most `detailLimit` of each kind. */
export interface VerifyReport {
  readonly sync: string;
  readonly at: string;
  /** Where the target side came from: the warehouse copy table or the target API. */
  readonly against: string;
  readonly sourceRows: number;
  readonly targetRecords: number;
  readonly counts: Record<FindingKind, number>;
  readonly findings: readonly Finding[];
  readonly clean: boolean;
  readonly durationMs: number;
  /**
   * Associated children (`target.associate`): each linked child's association with its parent's
   * current target id was checked; one that lacks it is `drift` in the field `association`.
   */
  readonly associations?: {
    /** The parent's object type (`target.associate.with`). */
    readonly with: string;
    /** Where the associations were read: the copy's `verify.parentColumn`, or the target API. */
    readonly against: string;
    /** Children compared: linked, parent resolved, in the target, not changed since the bookmark. */
    readonly checked: number;
  };
}

/** A verification as the verify function answers it: the report, and what a repair sent when one was asked for. */
export interface VerifyAnswer extends VerifyReport {
  readonly repair?: RepairResult;
}

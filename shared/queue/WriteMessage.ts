import { z } from 'zod';

/**
 * The message the extract side sends to a sync's queue, one per changed source row.
 * `v` versions the schema: a writer refuses (to the DLQ, with a reason) a version it does not know.
 */
export const WriteMessageSchema = z.object({
  v: z.literal(1),
  sync: z.string().min(1),
  key: z.string().min(1),
  /** Source version (cursor as an integer); larger is newer. Decimal text: may exceed 2^53. */
  version: z.string().regex(/^-?\d+$/),
  hash: z.string().min(1),
  payload: z.record(z.string(), z.unknown()),
  /** The parent record this one references: its target id replaces PARENT_TARGET_ID in the payload at write time. */
  parent: z.object({ sync: z.string().min(1), key: z.string().min(1) }).optional(),
  /** Set instead of a usable payload when map() failed on the row: the writer dead-letters it with this reason. */
  invalid: z.object({ code: z.string(), message: z.string() }).optional(),
  /**
   * Sent by `writeback verify --repair` for a record the target lost or that drifted there: the
   * source is unchanged, so the writer writes it even though the link holds this content, and it
   * does not trust the link's target id (the record may be gone). Claimed with lease and version
   * as usual; an older version is still stale.
   */
  repair: z.boolean().optional(),
  /** The source row was soft-deleted (opt-in `deletes`): delete or archive the record in the target. */
  delete: z.literal(true).optional(),
  /**
   * One direction of a two-way pair: the entity (side a's record id; absent on a create into side
   * a, whose id the write returns) and the values the written fields agree on once written.
   */
  pair: z
    .object({ entity: z.string().min(1).optional(), agreed: z.record(z.string(), z.string().nullable()) })
    .optional(),
  runId: z.string().min(1),
  enqueuedAt: z.string(),
});
export type WriteMessage = z.infer<typeof WriteMessageSchema>;

/**
 * Stands in the payload for the parent's target id until the writer resolves it from the parent
 * sync's link: map() runs when the row is read, the parent may be written later in the same run.
 */
export const PARENT_TARGET_ID = '\u0000writeback:parent-target-id\u0000';

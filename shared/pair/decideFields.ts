import type { Payload, Row } from '../config/schema.ts';
import type { DirectionField } from './pairSchema.ts';

/** The agreed value of each field of an entity (normalised text, null for empty), by field name. */
export type Baseline = Readonly<Record<string, string | null>>;

/** A field both sides changed to different values since they last agreed, and who won. */
export interface Conflict {
  readonly field: string;
  readonly source: string | null;
  readonly target: string | null;
  readonly winner: 'source' | 'target';
}

/** What one direction knows of an entity when it reads its source row. */
export interface EntityView {
  /** The source app's copy row. */
  readonly source: Row;
  /** When the record last changed in the source app (ms), for the `newer` rule. */
  readonly sourceModifiedAt: number | undefined;
  /**
   * The target app's copy row, only when it was loaded after our last write into the target;
   * undefined when there is none yet or it is older (the baseline then stands for it: the target
   * holds what we last wrote as far as the hub can know).
   */
  readonly target: Row | undefined;
  readonly targetModifiedAt: number | undefined;
  /** The agreed values; undefined for an entity no direction has written yet. */
  readonly base: Baseline | undefined;
  /** The record does not exist in the target yet: this write creates it. */
  readonly create: boolean;
  /** Who wins a `newer` conflict whose two modification times are equal or unknown. */
  readonly tieWinner: 'source' | 'target';
}

export interface FieldDecision {
  /**
   * What this direction asserts, by target field: every field it may write whose value it stands
   * for (the source's, where the two apps agree, the source owns it or the source's edit wins).
   */
  readonly payload: Payload;
  /** The target lacks part of it: a write is needed (else the row is the echo of a write, or agreed). */
  readonly differs: boolean;
  /** The agreed value of each field written, once the write succeeds. */
  readonly agreed: Record<string, string | null>;
  /** The baseline each written field was decided against (part of the message's identity). */
  readonly against: Record<string, string | null>;
  readonly conflicts: readonly Conflict[];
}

/**
 * Which fields one direction writes for one entity: a three-way comparison of the source's value,
 * the target's value and the baseline (what both last agreed on), field by field.
 *
 * - A field the target owns is never written; one the source owns is written whenever the target
 *   does not hold the source's value (an edit of it in the target is overwritten).
 * - A field both own is written when only the source changed it since the baseline; when only the
 *   target did, the other direction carries it; when both did, the declared rule picks the winner
 *   and the conflict is reported (by the winning direction only, which is the one that writes).
 * - A create writes every field the source has; seed-once fields are written then and never after.
 * - Values are compared normalised: the echo of our own write, given back reformatted, agrees.
 * - The payload asserts the whole state this direction stands for, not only what differs: messages
 *   of one record are ordered by version, so the newest one written leaves no older value behind.
 */
export function decideFields(fields: readonly DirectionField[], view: EntityView): FieldDecision {
  const payload: Payload = {};
  const agreed: Record<string, string | null> = {};
  const against: Record<string, string | null> = {};
  const conflicts: Conflict[] = [];
  const write = (f: DirectionField, s: string | null): void => {
    if (f.field === undefined) return;
    payload[f.field] = sourceValue(f, view.source) ?? null;
    agreed[f.name] = s;
    against[f.name] = view.base?.[f.name] ?? null;
  };
  let differs = view.create;
  for (const f of fields) {
    const s = f.normalize(sourceValue(f, view.source));
    // A record new to the target gets every field this side has a value for: the target has none
    // of its own yet. From then on each side writes only what it owns.
    if (view.create) {
      write(f, s);
      continue;
    }
    if (f.seedOnce || f.owner === 'target') continue;
    const base = view.base === undefined || !(f.name in view.base) ? undefined : view.base[f.name]!;
    // Without a fresh copy of the target, it holds the baseline as far as the hub knows.
    const t = view.target && f.targetColumn ? f.normalize(view.target[f.targetColumn]) : base;
    // Agreed now: asserted again in any write, so that an older write of this record still in
    // flight cannot leave its older value behind (the newest message is written last).
    if (s === t) {
      write(f, s);
      continue;
    }
    if (f.owner === 'source') {
      write(f, s);
      differs = true;
      continue;
    }
    const sourceChanged = base === undefined || s !== base;
    const targetChanged = base === undefined || t !== base;
    // Only the target changed it: the other direction carries it.
    if (!sourceChanged) continue;
    if (targetChanged) {
      // The losing direction writes nothing and reports nothing: the winner reports the conflict.
      if (conflictWinner(f, view) === 'target') continue;
      conflicts.push({ field: f.name, source: s, target: t ?? null, winner: 'source' });
    }
    write(f, s);
    differs = true;
  }
  return { payload, agreed, against, conflicts, differs };
}

function sourceValue(f: DirectionField, row: Row): unknown {
  return f.value ? f.value(row) : f.column ? row[f.column] : undefined;
}

function conflictWinner(f: DirectionField, view: EntityView): 'source' | 'target' {
  if (f.conflict !== 'newer') return f.conflict;
  const s = view.sourceModifiedAt;
  const t = view.targetModifiedAt;
  if (s === undefined || t === undefined || s === t) return view.tieWinner;
  return s > t ? 'source' : 'target';
}

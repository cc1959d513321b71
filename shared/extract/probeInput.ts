import type { Sql } from 'postgres';
import type { Position } from '../source/Position.ts';

/** What a run's source probe is asked (SourceReader.probe): the bookmark and the last pass's start. */
export interface ProbeInput {
  readonly bookmark: Position | undefined;
  readonly lastPassAt: string | undefined;
}

/** Per container (its warehouse pool), per sync: the probe input its next run will most likely read. */
const remembered = new WeakMap<Sql, Map<string, ProbeInput>>();

/**
 * The probe input a sync's last run in this container left in the state: a hint that lets the
 * next run probe the source beside its state read instead of after it. Only a hint: the run
 * uses that probe only when the state it reads has the same input (sameProbeInput).
 */
export function rememberedProbeInput(sql: Sql, sync: string): ProbeInput | undefined {
  return remembered.get(sql)?.get(sync);
}

/** Remembers (or, with undefined, forgets) the probe input a sync's state will hold after this run. */
export function rememberProbeInput(sql: Sql, sync: string, input: ProbeInput | undefined): void {
  let bySync = remembered.get(sql);
  if (!bySync) {
    bySync = new Map();
    remembered.set(sql, bySync);
  }
  if (input) bySync.set(sync, { bookmark: input.bookmark, lastPassAt: input.lastPassAt });
  else bySync.delete(sync);
}

/** Whether a probe made with `a` answers for `b`: the same bookmark and the same last pass. */
export function sameProbeInput(a: ProbeInput, b: ProbeInput): boolean {
  return (
    a.lastPassAt === b.lastPassAt &&
    a.bookmark?.cursor === b.bookmark?.cursor &&
    JSON.stringify(a.bookmark?.key) === JSON.stringify(b.bookmark?.key)
  );
}

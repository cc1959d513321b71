import type { SyncConfig } from '../config/schema.ts';
import type { SyncState } from '../state/StateStore.ts';

/**
 * Whether the pass a run reads is the sync's first: no message of the sync was sent before it
 * began, so the only links its rows can have are those this pass made (a row updated while the
 * pass runs comes round again). A first pass reads no links: a backfill's lookups could find
 * nothing, and skipping them is a fifth of its time and half a read unit per row. Sending a row
 * whose link does exist is always safe: the writer's claim refuses content the target holds (one
 * refused conditional write, no target call), and deleted rows are still looked up.
 *
 * Not for one direction of a two-way pair: the other direction links records into it before it
 * ever runs. A state that never recorded it is first only when nothing was ever recorded at all:
 * a state reset by a version before this keeps its mapping.
 */
export function isFirstPass(sync: SyncConfig, state: SyncState): boolean {
  if (sync.pair) return false;
  if (state.firstPass !== undefined) return state.firstPass && state.pass !== undefined;
  return (
    state.bookmark === undefined &&
    state.pass === undefined &&
    state.lastPassAt === undefined &&
    state.mapping === undefined &&
    Object.keys(state.streams).length === 0
  );
}

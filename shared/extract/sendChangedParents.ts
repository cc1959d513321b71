import type { ChildReader } from '../source/ChildReader.ts';
import type { Position } from '../source/Position.ts';
import type { SourceReader } from '../source/SourceReader.ts';
import type { ExtractRun } from './ExtractRun.ts';
import { enqueueChanged } from './enqueueChanged.ts';

/** Where each embedded child's change stream starts reading. */
export type ChildStreamStarts = ReadonlyMap<ChildReader, Position | undefined>;

/**
 * Where each child's change stream starts: its stream bookmark (from the state the run's lease
 * read). A first run embeds the children as
 * they are now, so it bookmarks their head and watches their changes from there on.
 */
export async function childStreamStarts(
  run: ExtractRun,
  streams: Readonly<Record<string, Position>>,
): Promise<ChildStreamStarts> {
  const { sync, deps } = run;
  const starts = new Map<ChildReader, Position | undefined>();
  for (const child of run.children) {
    let pos = streams[child.as];
    if (!pos) {
      pos = await child.headPosition();
      if (pos) await deps.state.saveStreamBookmark(sync.name, run.runId, child.as, pos);
    }
    starts.set(child, pos);
  }
  return starts;
}

/**
 * Children changed since their stream bookmark re-send their whole parent record: each child's
 * stream is read in pages, the page's parents are read by key and enqueued, then the stream's
 * bookmark moves over the page. Out of time, the rest is left for the next run.
 */
export async function sendChangedParents(
  run: ExtractRun,
  reader: SourceReader,
  starts: ChildStreamStarts,
): Promise<void> {
  const { sync, deps, counts } = run;
  for (const child of run.children) {
    let after = starts.get(child);
    for (;;) {
      if (run.outOfTime()) {
        run.backlog = true;
        break;
      }
      const changed = await child.changedParents(after, sync.source.pageSize);
      if (changed.read === 0) break;
      const parents = await reader.readByKeys(changed.parentKeys, run.bookmark);
      counts.read += parents.length;
      await enqueueChanged(run, parents);
      after = changed.last;
      if (after) await deps.state.saveStreamBookmark(sync.name, run.runId, child.as, after);
      deps.onProgress?.(sync.name, counts);
      if (changed.read < sync.source.pageSize) break;
    }
  }
}

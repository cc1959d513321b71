import type { SyncConfig } from '../config/schema.ts';
import { DELETED_HASH, type Link } from '../links/Link.ts';
import { newestVersion } from '../links/newestVersion.ts';
import type { WriteMessage } from '../queue/WriteMessage.ts';
import type { Position } from '../source/Position.ts';
import { SourceReader, type SourceRow } from '../source/SourceReader.ts';
import type { RunCounts } from '../state/RunRecord.ts';
import { countDeletesPast, deleteGuardError } from './deleteGuard.ts';
import type { ExtractDeps } from './runExtract.ts';

/** What the stream uses of a run's dependencies (a plan needs no enqueuer). */
type StreamDeps = Pick<ExtractDeps, 'sql' | 'links' | 'state' | 'now' | 'onProgress'> &
  Partial<Pick<ExtractDeps, 'enqueuer'>>;

/** The state item's name for this stream's bookmark (child streams use their `as`, an identifier). */
const STREAM = '~deletedKeys';

/**
 * Deletes from a log of deleted keys (`deletes.keys`), for sources whose rows are removed outright:
 * the log (a table or query with the source's key columns and a cursor) is read in keyset pages
 * after its own bookmark, like a child stream. A logged key that is still in the source (deleted,
 * then restored) is left alone; a key whose link says this sync wrote it becomes a delete message,
 * which the writer turns into a delete or archive in the target (as for a soft-deleted row).
 *
 * The message carries the link's own version (or the version in flight, when newer): a log's
 * cursor need not be comparable with the source's, and a delete must never look stale to the
 * writer. A row restored later has a newer version and is written again.
 */
export class DeletedKeysStream {
  private readonly deps: StreamDeps;
  private readonly sync: SyncConfig;
  private readonly log: SourceReader;

  public constructor(deps: StreamDeps, sync: SyncConfig) {
    const keys = sync.deletes!.keys!;
    this.deps = deps;
    this.sync = sync;
    this.log = new SourceReader(deps.sql, sync.name, {
      ...(keys.table ? { table: keys.table } : { query: keys.query! }),
      key: sync.source.key,
      cursor: keys.cursor,
      lookback: 0,
      timeZone: 'UTC',
      settle: 0,
      pageSize: sync.source.pageSize,
    });
  }

  /**
   * Too many deletes stop the run before anything is deleted. Counted as the keys logged since the
   * stream's bookmark, and only when those are over the limit checked as the run would (gone from
   * the source, written by this sync), page by page until the limit is passed: a long log read for
   * the first time deletes nothing it did not write.
   */
  public async guard(source: SourceReader): Promise<void> {
    await this.log.preflight();
    const max = this.sync.deletes!.maxPerRun;
    const start = await this.bookmark();
    if ((await this.log.countAfter(start)) <= max) return;
    const pageSize = this.sync.source.pageSize;
    const effective = await countDeletesPast(max, pageSize, start, async (after, limit) => {
      const rows = await this.log.readPage(after ? { after } : undefined, limit, undefined);
      return { rows, deleting: (await this.deletesOf(source, rows)).length };
    });
    if (effective > max) {
      throw deleteGuardError(
        `${effective} keys logged deleted (deletes.keys) since the log's bookmark would delete records this sync wrote`,
        max,
      );
    }
  }

  /**
   * Enqueues the deletes of the keys logged since the bookmark, page by page, moving the stream's
   * bookmark after each page is enqueued. True when time ran out with pages left.
   */
  public async run(
    source: SourceReader,
    runId: string,
    counts: RunCounts,
    outOfTime: () => boolean,
  ): Promise<boolean> {
    const { deps, sync } = this;
    let after = await this.bookmark();
    for (;;) {
      if (outOfTime()) return true;
      const rows = await this.log.readPage(after ? { after } : undefined, sync.source.pageSize, undefined);
      if (rows.length === 0) return false;
      const enqueuedAt = new Date(deps.now()).toISOString();
      const messages: WriteMessage[] = (await this.deletesOf(source, rows)).map(({ key, link }) => ({
        v: 1,
        sync: sync.name,
        key,
        version: (newestVersion(link) ?? 0n).toString(),
        runId,
        enqueuedAt,
        hash: DELETED_HASH,
        payload: {},
        delete: true,
      }));
      await deps.enqueuer!.sendAll(messages);
      counts.enqueued += messages.length;
      after = rows[rows.length - 1]!.position;
      await deps.state.saveStreamBookmark(sync.name, runId, STREAM, after);
      deps.onProgress?.(sync.name, counts);
      if (rows.length < sync.source.pageSize) return false;
    }
  }

  /** What the next run would delete (at most `limit` logged keys read), without sending anything. */
  public async planned(source: SourceReader, limit: number): Promise<{ key: string; link: Link }[]> {
    const after = await this.bookmark();
    const rows = await this.log.readPage(after ? { after } : undefined, limit, undefined);
    return this.deletesOf(source, rows);
  }

  /** The logged keys to delete: gone from the source, and written by this sync (not deleted yet). */
  private async deletesOf(
    source: SourceReader,
    rows: readonly SourceRow[],
  ): Promise<{ key: string; link: Link }[]> {
    const keys = [...new Set(rows.map((r) => r.key))];
    const present = new Set((await source.readByKeys(keys, undefined)).map((r) => r.key));
    const gone = keys.filter((k) => !present.has(k));
    // Strong: a record written a moment ago must not pass for one never written.
    const links = await this.deps.links.batchGet(this.sync.name, gone, { consistent: true });
    const out: { key: string; link: Link }[] = [];
    for (const key of gone) {
      const link = links.get(key);
      // Never written by this sync, or already deleted: nothing to do.
      if (link && link.status !== 'deleted') out.push({ key, link });
    }
    return out;
  }

  private bookmark(): Promise<Position | undefined> {
    return this.deps.state.getStreamBookmark(this.sync.name, STREAM);
  }
}

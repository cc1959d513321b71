import type { SyncConfig } from '../config/schema.ts';
import { SourceError } from '../errors.ts';
import type { LinkStore } from '../links/LinkStore.ts';
import type { Position } from '../source/Position.ts';
import type { SourceReader, SourceRow } from '../source/SourceReader.ts';

const PAGE = 1000;

/**
 * The guard of soft deletes (`deletes.column`): a run that would delete more records than
 * `deletes.maxPerRun` stops before it deletes or writes anything. The rows marked deleted since
 * the bookmark are counted first (one query); only when there are more than the limit are they
 * checked against the links, page by page until the limit is passed: a row deleted before this
 * sync ever wrote it, or whose record is already deleted, deletes nothing. So a first run, or a
 * re-read from the start (a reset, a changed mapping), over a table with a long history of soft
 * deletes goes through, while a mass deletion is still caught after one page.
 */
export async function guardSoftDeletes(
  sync: SyncConfig,
  reader: SourceReader,
  links: LinkStore,
  bookmark: Position | undefined,
): Promise<void> {
  const column = sync.deletes?.column;
  if (!column) return;
  const max = sync.deletes!.maxPerRun;
  if ((await reader.countMarkedDeleted(column, bookmark)) <= max) return;
  const effective = await countDeletesPast(max, PAGE, bookmark, async (after, limit) => {
    const rows = await reader.readPage(after ? { after } : undefined, limit, bookmark, column);
    const linked = await links.batchGet(
      sync.name,
      rows.map((r) => r.key),
    );
    const deleting = rows.filter((r) => {
      const link = linked.get(r.key);
      return link !== undefined && link.status !== 'deleted';
    }).length;
    return { rows, deleting };
  });
  if (effective > max) {
    throw deleteGuardError(
      `${effective} rows marked deleted (${column}) since the bookmark would delete records this sync wrote`,
      max,
    );
  }
}

/**
 * How many candidates, read page by page after `start`, would delete a record: stops as soon as
 * the count passes `max` (a mass deletion is caught after one page), else counts them all.
 */
export async function countDeletesPast(
  max: number,
  pageSize: number,
  start: Position | undefined,
  page: (
    after: Position | undefined,
    limit: number,
  ) => Promise<{ rows: readonly SourceRow[]; deleting: number }>,
): Promise<number> {
  let effective = 0;
  let after = start;
  for (;;) {
    const { rows, deleting } = await page(after, pageSize);
    effective += deleting;
    if (effective > max || rows.length < pageSize) return effective;
    after = rows[rows.length - 1]!.position;
  }
}

/** WB_DELETE_GUARD: what would be deleted, the limit, and what to do. */
export function deleteGuardError(what: string, max: number): SourceError {
  return new SourceError(
    'WB_DELETE_GUARD',
    `${what}, more than deletes.maxPerRun ${max}; nothing was deleted or written. ` +
      'Check the source; if the deletes are right, raise maxPerRun for one run.',
  );
}

import type { Link } from '../links/Link.ts';
import { selectChanged } from '../links/selectChanged.ts';
import type { WriteMessage } from '../queue/WriteMessage.ts';
import type { SourceRow } from '../source/SourceReader.ts';
import type { ExtractRun, UnsentRecord } from './ExtractRun.ts';
import { pageMessages } from './pageMessages.ts';

/**
 * Enqueue the messages of rows whose content the target does not hold yet, and count the rows as
 * invalid, unchanged or enqueued; a record SQS refuses, or whose key is too long, is kept on the run, to be set aside.
 */
export async function enqueueChanged(run: ExtractRun, rows: readonly SourceRow[]): Promise<void> {
  await sendChanged(run, await selectPage(run, rows));
}

/**
 * The first half of enqueueChanged: the messages of the rows whose content the target does not
 * hold yet (unchanged and invalid rows counted). It sends nothing, so the extract can select a
 * page while the one before it is being sent.
 */
export async function selectPage(
  run: ExtractRun,
  rows: readonly SourceRow[],
  /** firstPass: the page is of the sync's first pass (isFirstPass), whose rows have no links to read. */
  opts: { firstPass?: boolean } = {},
): Promise<WriteMessage[]> {
  const { sync, deps, counts } = run;
  const sendable = rows.filter((r) => {
    if (Buffer.byteLength(r.key) <= MAX_SOURCE_KEY_BYTES) return true;
    run.unsent.push(tooLong(r));
    return false;
  });
  const { messages: candidates, links } = await pageMessages(run, sendable);
  counts.invalid += candidates.filter((m) => m.invalid).length;
  // Rows whose content the links already hold are dropped; one whose content the target holds at
  // an older version moves the link's version on (so a different message still queued becomes
  // stale: A → B → A), or is sent when that conditional write fails (selectChanged).
  const known = links ?? (opts.firstPass ? NO_LINKS : undefined);
  const { send: changed } = await selectChanged(deps.links, sync.name, candidates, deps.now, known);
  counts.unchanged += candidates.length - changed.length;
  return changed;
}

/** What a first pass knows of its rows' links without reading them (deleted rows are read all the same). */
const NO_LINKS: ReadonlyMap<string, Link> = new Map();

/** The second half of enqueueChanged: sends a page's changed messages. */
export async function sendChanged(run: ExtractRun, changed: readonly WriteMessage[]): Promise<void> {
  const { deps, counts } = run;
  // A message SQS cannot take is set aside with its key and reason; the rest of the page is sent.
  const outcome = await deps.enqueuer.trySendAll(changed);
  counts.enqueued += outcome.sent;
  for (const r of outcome.refused) run.unsent.push({ code: r.code, key: r.message.key, reason: r.reason });
}

/**
 * The longest source key a record may have. Longer keys are hashed in the link table, but the
 * key also travels in every message and, for the last row of a page, in the bookmark (a
 * DynamoDB item of at most 400 KB): past this it is set aside rather than risk a state write
 * that can never succeed.
 */
export const MAX_SOURCE_KEY_BYTES = 64 * 1024;

function tooLong(r: SourceRow): UnsentRecord {
  const bytes = Buffer.byteLength(r.key);
  return {
    key: `${r.key.slice(0, 64)}… (${bytes} bytes)`,
    code: 'WB_SOURCE_KEY_TOO_LONG',
    reason: `a source key of ${bytes} bytes is longer than ${MAX_SOURCE_KEY_BYTES}: key the rows by a shorter column (an id, or a hash of the long value computed in a query)`,
  };
}

import { selectChanged } from '../links/selectChanged.ts';
import type { SourceRow } from '../source/SourceReader.ts';
import { buildMessages } from './buildMessages.ts';
import type { ExtractRun } from './ExtractRun.ts';

/**
 * Enqueue the messages of rows whose content the target does not hold yet, and count the rows as
 * invalid, unchanged or enqueued; a message SQS refuses is kept on the run, to be set aside.
 */
export async function enqueueChanged(run: ExtractRun, rows: readonly SourceRow[]): Promise<void> {
  const { sync, deps, counts } = run;
  const candidates = await buildMessages(sync, rows, run.runId, run.children, deps.now);
  counts.invalid += candidates.filter((m) => m.invalid).length;
  // Rows whose content the links already hold are dropped; one whose content the target holds at
  // an older version moves the link's version on (so a different message still queued becomes
  // stale: A → B → A), or is sent when that conditional write fails (selectChanged).
  const { send: changed } = await selectChanged(deps.links, sync.name, candidates, deps.now);
  counts.unchanged += candidates.length - changed.length;
  // A message SQS cannot take is set aside with its key and reason; the rest of the page is sent.
  const outcome = await deps.enqueuer.trySendAll(changed);
  counts.enqueued += outcome.sent;
  run.refused.push(...outcome.refused);
}

import { WritebackError } from '../errors.ts';
import type { Link } from '../links/Link.ts';
import { planPairPage } from '../pair/planPairPage.ts';
import type { WriteMessage } from '../queue/WriteMessage.ts';
import type { SourceRow } from '../source/SourceReader.ts';
import { buildMessages } from './buildMessages.ts';
import type { ExtractRun } from './ExtractRun.ts';

/**
 * The candidate messages of a page of rows: every row's message (buildMessages), or for one
 * direction of a two-way pair only the rows whose fields the other app lacks (planPairPage; the
 * echoes, the rows waiting for a reload and the conflicts are counted on the run).
 */
export async function pageMessages(
  run: ExtractRun,
  rows: readonly SourceRow[],
  runId: string = run.runId,
): Promise<PageMessages> {
  const { sync, deps, counts } = run;
  if (!sync.pair) return { messages: await buildMessages(sync, rows, runId, run.children, deps.now) };
  if (!deps.pairs) {
    throw new WritebackError(
      'WB_PAIR_STORE_MISSING',
      `sync ${sync.name} is one direction of a two-way pair but the extract was given no pair store`,
    );
  }
  const page = await planPairPage({ ...sync, pair: sync.pair }, rows, runId, run.children, {
    sql: deps.sql,
    links: deps.links,
    pairs: deps.pairs,
    now: deps.now,
  });
  // Not sent, like unchanged rows; counted apart as well, so a run says why.
  counts.unchanged += page.echoes + page.awaiting;
  if (page.echoes) counts.echoes = (counts.echoes ?? 0) + page.echoes;
  if (page.awaiting) counts.awaitingReload = (counts.awaitingReload ?? 0) + page.awaiting;
  if (page.conflicts.length) counts.conflicts = (counts.conflicts ?? 0) + page.conflicts.length;
  run.conflicts.push(...page.conflicts);
  return { messages: page.messages, ...(page.links ? { links: page.links } : {}) };
}

/** A page's candidate messages, and the links read to plan them when that needed them. */
export interface PageMessages {
  readonly messages: WriteMessage[];
  readonly links?: ReadonlyMap<string, Link>;
}

import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { LinkStatus } from '../links/Link.ts';
import { str } from '../util/attr.ts';

/** Links of one sync by status. */
export type LinkCounts = Record<LinkStatus, number>;

/** What became of the records a run sent, as their links say now. */
export interface RunWrites {
  /** Written, and the link was created by this run. */
  created: number;
  /** Written over a record an earlier run had created. */
  updated: number;
  /** Still pending or retrying. */
  retrying: number;
  /** Failed permanently or retries exhausted: in the DLQ. */
  failed: number;
}

/** One sync's links, counted. */
export interface SyncCensus {
  readonly links: LinkCounts;
  /** By run id: the links whose last write attempt came from that run. */
  readonly byRun: Map<string, RunWrites>;
}

/** What to count, and how to report progress. */
export interface CensusOptions {
  /** Only these syncs. @default all */
  readonly syncs?: ReadonlySet<string>;
  /** Start time of runs (ISO), to tell created from updated. */
  readonly runStarts?: ReadonlyMap<string, string>;
  /** Parallel scan segments. @default 4 */
  readonly segments?: number;
  readonly onProgress?: (scanned: number) => void;
}

/** Zero for every status. */
export function emptyLinkCounts(): LinkCounts {
  return { ok: 0, pending: 0, retrying: 0, failed: 0, dead: 0, deleted: 0 };
}

/**
 * Counts every link by sync and status, and by the run that last wrote it, in one parallel scan
 * that projects four small attributes. `ok` links carry no `attention` attribute (the sparse index
 * only holds links that need a look), so counting them needs the scan: its cost grows with the
 * table (about 1 read unit per 8 KB scanned), which is why `status --fast` skips it.
 */
export async function linkCensus(
  ddb: DynamoDBClient,
  table: string,
  opts: CensusOptions = {},
): Promise<Map<string, SyncCensus>> {
  const out = new Map<string, SyncCensus>();
  const segments = opts.segments ?? 4;
  let scanned = 0;
  const add = (item: Record<string, AttributeValue>): void => {
    const sync = str(item, 'sync');
    // Side items (target health, rate limits) share the table; they have no sync attribute.
    if (!sync || (opts.syncs && !opts.syncs.has(sync))) return;
    const status = (str(item, 'status') ?? 'pending') as LinkStatus;
    let census = out.get(sync);
    if (!census) {
      census = { links: emptyLinkCounts(), byRun: new Map() };
      out.set(sync, census);
    }
    census.links[status] = (census.links[status] ?? 0) + 1;
    const runId = str(item, 'runId');
    if (!runId) return;
    let run = census.byRun.get(runId);
    if (!run) {
      run = { created: 0, updated: 0, retrying: 0, failed: 0 };
      census.byRun.set(runId, run);
    }
    if (status === 'ok') {
      const started = opts.runStarts?.get(runId);
      const createdAt = str(item, 'createdAt');
      if (started !== undefined && createdAt !== undefined && createdAt >= started) run.created++;
      else run.updated++;
    } else if (status === 'failed' || status === 'dead') run.failed++;
    else run.retrying++;
  };
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const res = await ddb.send(
          new ScanCommand({
            TableName: table,
            ProjectionExpression: '#sync, #status, runId, createdAt',
            ExpressionAttributeNames: { '#sync': 'sync', '#status': 'status' },
            ...(segments > 1 ? { Segment: segment, TotalSegments: segments } : {}),
            ExclusiveStartKey: start,
          }),
        );
        for (const item of res.Items ?? []) add(item);
        scanned += res.ScannedCount ?? 0;
        opts.onProgress?.(scanned);
        start = res.LastEvaluatedKey;
      } while (start);
    }),
  );
  return out;
}

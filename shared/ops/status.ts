import { describeError } from '../errors.ts';
import { ATTENTION_STATUSES } from '../links/Link.ts';
import { emptyLinkCounts, type LinkCounts } from '../links/linkCensus.ts';
import type { Position } from '../source/Position.ts';
import type { SetAsideRows } from '../source/SourceReader.ts';
import type { RunOutcome, RunRecord } from '../state/RunRecord.ts';
import type { PassProgress } from '../state/StateStore.ts';
import type { OpsContext } from './OpsContext.ts';
import { type QueueDepth, queueDepth } from './queueDepth.ts';
import { type RunResult, runResult } from './runs.ts';
import { type SourceLag, sourceLag } from './sourceLag.ts';

/** One line of `writeback status`. */
export interface SyncStatus {
  readonly sync: string;
  /** The operator's override (enable/disable) when set, else the config's flag. */
  readonly enabled: boolean;
  readonly schedule: string;
  /** A run holds the lease right now. */
  readonly running: boolean;
  readonly lastRun:
    | {
        readonly runId: string;
        /** The extract's outcome. */
        readonly outcome: RunOutcome;
        /** Extract and writes together (see runResult); without the census, from the extract alone. */
        readonly result: RunResult;
        readonly finishedAt: string;
        readonly message?: string;
        readonly setAside?: readonly SetAsideRows[];
      }
    | undefined;
  /**
   * Why the sync is not moving, when it is not: its last runs all failed (the newest message), or
   * a pass has been resuming for longer than a day.
   */
  readonly stuck?: string;
  /** A pass over the source left unfinished by the last invocation: where it resumes. */
  readonly pass?: { readonly since: string; readonly at: string };
  readonly bookmark: Position | undefined;
  /** Backlog behind the source; `error` when the warehouse could not be read from here. */
  readonly lag: SourceLag | { readonly error: string } | undefined;
  readonly queue: QueueDepth;
  /** Links by status; `ok` is undefined with `fast` (counting it needs a table scan). */
  readonly links: Omit<LinkCounts, 'ok' | 'deleted'> & {
    ok: number | undefined;
    deleted: number | undefined;
  };
}

/** What `status` measures. */
export interface StatusOptions {
  /** Only these syncs. @default all */
  readonly syncs?: readonly string[];
  /** Skip the link table scan: ok links are not counted. @default false */
  readonly fast?: boolean;
  /**
   * Measure the backlog in the warehouse. @default true when its address is given (local stack,
   * --dwh-url, the config's url); a deployed warehouse behind a secret is usually out of reach.
   */
  readonly lag?: boolean;
  readonly now?: number;
}

/** The state of every sync: run, bookmark and backlog, queues, links. Reads only. */
export async function syncStatus(ctx: OpsContext, opts: StatusOptions = {}): Promise<SyncStatus[]> {
  const syncs = (opts.syncs ?? ctx.config.syncs.map((s) => s.name)).map((name) => ctx.sync(name));
  const now = opts.now ?? Date.now();
  const census = opts.fast ? undefined : await ctx.links.census({ syncs: new Set(syncs.map((s) => s.name)) });
  let warehouseError: string | undefined;
  const measureLag = opts.lag ?? ctx.warehouseGiven;
  if (!measureLag && opts.lag === undefined) {
    warehouseError = 'not measured: pass --dwh-url (a tunnel to the warehouse) to see the backlog';
  }
  const warehouse = !measureLag
    ? undefined
    : await ctx.warehouse().catch((err: unknown) => {
        warehouseError = describeError(err).message;
        return undefined;
      });

  return Promise.all(
    syncs.map(async (sync): Promise<SyncStatus> => {
      const [state, recent, queue, attention] = await Promise.all([
        ctx.state.get(sync.name),
        ctx.state.listRuns(sync.name, STUCK_AFTER_FAILED_RUNS),
        queueDepth(ctx.aws.sqs, ctx.syncResources(sync.name)),
        census
          ? Promise.resolve(undefined)
          : Promise.all(ATTENTION_STATUSES.map((s) => ctx.links.countByStatus(sync.name, s))),
      ]);
      const last = recent[0];
      const stuck = stuckReason(recent, state.pass, now);
      let lag: SyncStatus['lag'];
      if (warehouse) {
        lag = await sourceLag(warehouse, sync, state.bookmark).catch((err: unknown) => ({
          error: describeError(err).message,
        }));
      } else if (warehouseError) lag = { error: warehouseError };
      const counted = census?.get(sync.name)?.links ?? emptyLinkCounts();
      const links = attention
        ? {
            ok: undefined,
            deleted: undefined,
            pending: attention[0]!,
            retrying: attention[1]!,
            failed: attention[2]!,
            dead: attention[3]!,
          }
        : counted;
      return {
        sync: sync.name,
        enabled: state.enabled ?? sync.enabled,
        schedule: sync.schedule,
        running: state.leaseUntil !== undefined && state.leaseUntil > now,
        lastRun: last
          ? {
              runId: last.runId,
              outcome: last.outcome,
              result: runResult(
                last,
                census ? (census.get(sync.name)?.byRun.get(last.runId) ?? undefined) : undefined,
              ),
              finishedAt: last.finishedAt,
              ...(last.message ? { message: last.message } : {}),
              ...(last.setAside ? { setAside: last.setAside } : {}),
            }
          : undefined,
        ...(stuck ? { stuck } : {}),
        ...(state.pass ? { pass: { since: state.pass.at, at: state.pass.position.cursor } } : {}),
        bookmark: state.bookmark,
        lag,
        queue,
        links,
      };
    }),
  );
}

/** This many failed runs in a row make a sync stuck. */
const STUCK_AFTER_FAILED_RUNS = 3;
const DAY_MS = 86_400_000;

function stuckReason(
  recent: readonly RunRecord[],
  pass: PassProgress | undefined,
  now: number,
): string | undefined {
  if (recent.length >= STUCK_AFTER_FAILED_RUNS && recent.every((r) => r.outcome === 'failed')) {
    return `the last ${recent.length} runs failed: ${recent[0]!.message ?? 'no message'}`;
  }
  const since = pass ? Date.parse(pass.at) : Number.NaN;
  if (pass && now - since > DAY_MS) {
    return `a pass over the source started ${pass.at} and has not reached its end (now at cursor ${pass.position.cursor}): raise the function's timeout or pageSize, or check the source's index`;
  }
  return undefined;
}

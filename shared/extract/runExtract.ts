import type { Sql } from 'postgres';
import type { SyncConfig } from '../config/schema.ts';
import { describeError } from '../errors.ts';
import type { LinkStore, RunGate } from '../links/LinkStore.ts';
import type { PairStore } from '../pair/PairStore.ts';
import type { SqsEnqueuer } from '../queue/SqsEnqueuer.ts';
import type { Position } from '../source/Position.ts';
import type { SetAsideRows } from '../source/SourceReader.ts';
import {
  MAX_RECORDED_CONFLICTS,
  type RunCounts,
  type RunOutcome,
  type RunRecord,
} from '../state/RunRecord.ts';
import type { RunStartReader, StateStore, SyncState } from '../state/StateStore.ts';
import { AUTH_PAUSE_MS, type TargetHealthOptions } from '../write/checkTargetHealth.ts';
import { redriveFailed } from '../write/redriveFailed.ts';
import { DeletedKeysStream } from './DeletedKeysStream.ts';
import { guardSoftDeletes } from './deleteGuard.ts';
import type { ExtractRun, UnsentRecord } from './ExtractRun.ts';
import { isFirstPass } from './firstPass.ts';
import { pageMessages } from './pageMessages.ts';
import { type ProbeInput, rememberedProbeInput, rememberProbeInput, sameProbeInput } from './probeInput.ts';
import { readPass } from './readPass.ts';
import { childStreamStarts, sendChangedParents } from './sendChangedParents.ts';
import { forgetSourceReaders, sourceReaders } from './sourceReaders.ts';

export interface ExtractDeps {
  readonly sql: Sql;
  readonly state: StateStore;
  readonly links: LinkStore;
  /** The entity state of two-way pairs; required by a sync that is one direction of a pair. */
  readonly pairs?: PairStore;
  readonly enqueuer: SqsEnqueuer;
  readonly now: () => number;
  /**
   * Reads the state and the quiet run's gate in one request (DynamoRunStartReader). @default the
   * state store's and the health store's reads, side by side
   */
  readonly runStart?: RunStartReader;
  /** When the target counts as down (the sync pauses); false never pauses. @default checkTargetHealth's defaults */
  readonly health?: TargetHealthOptions | false;
  /** Called after each page, for progress output. */
  readonly onProgress?: (sync: string, counts: RunCounts) => void;
  /**
   * mappingFingerprint of the sync as configured. When it differs from the one the bookmark was
   * read with, the run starts again from the first row. Undefined: not tracked.
   */
  readonly mappingFingerprint?: string;
  /** The warehouse clock as timestamptz text (tests with a simulated clock). Default: the server's now(). */
  readonly sourceClock?: () => string;
}

export interface ExtractOptions {
  readonly runId: string;
  /** Milliseconds left before the function must return (Lambda's getRemainingTimeInMillis). */
  readonly remainingMs: () => number;
  /** Stop reading new pages when less than this is left. @default 15000 */
  readonly reserveMs?: number;
  /** Lease duration; renewed with every bookmark write. @default 300000 */
  readonly leaseMs?: number;
}

/**
 * One extract run of a sync: read keyset pages after the bookmark, drop rows whose content the
 * links already hold, enqueue the rest, and move the bookmark only over pages that are enqueued.
 */
export async function runExtract(
  sync: SyncConfig,
  deps: ExtractDeps,
  opts: ExtractOptions,
): Promise<RunRecord> {
  let run = newRun(sync, deps, opts);
  // The state, the redrive flag and the auth outage (one request with runStart, else two side by
  // side); in a warm container the source probe goes out beside them, asked what the last run here
  // left in the state (it counts only if the state read agrees).
  const guess = rememberedProbeInput(deps.sql, sync.name);
  const early = guess && earlyProbe(run, guess);
  const [seen, gate] = deps.runStart
    ? await deps.runStart.read(sync.name).then((r) => [r.state, r.gate] as const)
    : await Promise.all([deps.state.get(sync.name), deps.links.health.readGate(sync.name)]);
  if (!(seen.enabled ?? sync.enabled)) return recordRun(run, 'skipped', { message: 'sync is disabled' });
  // Nothing changed and nothing flagged: no lease, no run record (an error here is the full path's to report).
  const agreed = early && sameProbeInput(guess, seen) ? early : undefined;
  const probe = await probeQuiet(run, seen, gate, agreed).catch(() => undefined);
  if (probe?.quiet) {
    rememberProbeInput(deps.sql, sync.name, seen);
    return quietRun(run, seen);
  }
  // The full path moves the bookmark and the last pass: remembered again only if it completes one.
  rememberProbeInput(deps.sql, sync.name, undefined);
  // The full path checks the source afresh (preflight, column types); the new readers are kept for
  // the quiet runs after it.
  forgetSourceReaders(deps.sql, sync);
  run = { ...run, ...readersOf(deps, sync) };
  const state = await deps.state.takeLease(sync.name, run.runId, deps.now(), run.leaseMs);
  if (!state) return recordRun(run, 'skipped', { message: 'skipped: previous run still active' });
  run.before = state.bookmark;
  run.bookmark = state.bookmark;
  try {
    const remapped = await restartOnMappingChange(run, state);
    const { reader, setAside, deletedKeys } = await openSource(run);
    const childStarts = await childStreamStarts(run, state.streams);
    // Paused by the target's health already: the run record says so even without a page to send.
    const redrivePaused = await redrive(run, gate);
    // A restarted run begins a new pass from the first row. The probe's clock reading came before
    // anything was read: a pass starting then is a safe start for the next lookback window.
    const from = remapped
      ? { pass: undefined, lastPassAt: undefined }
      : { ...state, first: isFirstPass(sync, state) };
    const paused = (await readPass(run, reader, from, probe?.now)) ?? redrivePaused;
    if (!paused) await sendChangedParents(run, reader, childStarts);
    // Keys deleted outright (deletes.keys): their records are deleted like soft-deleted rows.
    if (deletedKeys && !paused && (await deletedKeys.run(reader, run.runId, run.counts, run.outOfTime))) {
      run.backlog = true;
    }
    await deps.state.releaseLease(sync.name, run.runId);
    if (run.completedPassAt && !run.backlog) {
      rememberProbeInput(deps.sql, sync.name, { bookmark: run.bookmark, lastPassAt: run.completedPassAt });
    }
    return finishRun(run, setAside, [paused ? `paused, bookmark kept: ${paused}` : undefined, remapped]);
  } catch (err) {
    forgetSourceReaders(deps.sql, sync);
    await deps.state.releaseLease(sync.name, run.runId).catch(() => undefined);
    const { code, message } = describeError(err);
    return recordRun(run, 'failed', {
      before: run.before,
      after: run.bookmark,
      message: `${code}: ${message}`,
    });
  }
}

/**
 * Whether the run has nothing to do, checked before it takes a lease or writes anything: no pass
 * left unfinished, the same mapping, no other run holding the lease, no links flagged for a
 * redrive, no open auth outage (the run records the pause), and, in one statement on the source
 * (SourceReader.probe), no row where the pass would read and no row set aside; one more per
 * embedded child (a row changed after its stream's bookmark). A sync with `deletes.keys` is never
 * quiet (its log is not probed).
 */
async function probeQuiet(
  run: ExtractRun,
  state: SyncState,
  gate: RunGate,
  early: Promise<ProbeFound | undefined> | undefined,
): Promise<{ quiet: boolean; now: string | undefined }> {
  const { sync, deps } = run;
  const now = deps.now();
  const loud = { quiet: false, now: undefined };
  if (state.pass || sync.deletes?.keys) return loud;
  if (deps.mappingFingerprint !== undefined && state.mapping !== deps.mappingFingerprint) return loud;
  if (state.leaseOwner !== undefined && (state.leaseUntil ?? 0) >= now) return loud;
  if (gate.redriveDueAt !== undefined && gate.redriveDueAt <= now) return loud;
  const authPauseMs = deps.health === false ? 0 : (deps.health?.authPauseMs ?? AUTH_PAUSE_MS);
  if (gate.auth && now - gate.auth.lastAt < authPauseMs) return loud;
  if (run.children.some((c) => state.streams[c.as] === undefined)) return loud;
  const found = (await early) ?? (await run.source.probe(state.bookmark, state.lastPassAt));
  if (found.changed || found.setAside.length > 0) return { quiet: false, now: found.now };
  for (const child of run.children) {
    if ((await child.changedParents(state.streams[child.as], 1)).read > 0)
      return { quiet: false, now: found.now };
  }
  return { quiet: true, now: found.now };
}

type ProbeFound = Awaited<ReturnType<ExtractRun['source']['probe']>>;

/**
 * The source probe for the input the last run in this container left, sent before the state is
 * read. A sync that is never quiet (deleted keys) or has embedded children (their probes need the
 * state's stream bookmarks) is probed after the reads, as before. Undefined on an error: the run
 * then probes with what it read.
 */
function earlyProbe(run: ExtractRun, input: ProbeInput): Promise<ProbeFound | undefined> | undefined {
  if (run.sync.deletes?.keys || run.children.length > 0) return undefined;
  return run.source.probe(input.bookmark, input.lastPassAt).catch(() => undefined);
}

/** The record of a quiet run: returned to the handler (metrics, logs), not stored. */
function quietRun(run: ExtractRun, state: SyncState): RunRecord {
  return {
    sync: run.sync.name,
    runId: run.runId,
    startedAt: run.startedAt,
    finishedAt: new Date(run.deps.now()).toISOString(),
    outcome: 'succeeded',
    counts: run.counts,
    bookmarkBefore: state.bookmark,
    bookmarkAfter: state.bookmark,
    backlog: false,
    quiet: true,
  };
}

function newRun(sync: SyncConfig, deps: ExtractDeps, opts: ExtractOptions): ExtractRun {
  const reserveMs = opts.reserveMs ?? 15_000;
  return {
    sync,
    deps,
    runId: opts.runId,
    startedAt: new Date(deps.now()).toISOString(),
    leaseMs: opts.leaseMs ?? 300_000,
    outOfTime: () => opts.remainingMs() < reserveMs,
    ...readersOf(deps, sync),
    counts: { read: 0, unchanged: 0, enqueued: 0, invalid: 0 },
    unsent: [],
    conflicts: [],
    before: undefined,
    bookmark: undefined,
    backlog: false,
  };
}

/** The sync's readers, kept per container (sourceReaders). */
function readersOf(deps: ExtractDeps, sync: SyncConfig) {
  const { source, children } = sourceReaders(deps.sql, sync, deps.now(), deps.sourceClock);
  return { source, children };
}

/**
 * A changed map(), filter, target or children can change records the bookmark has passed: read
 * every row again. Unchanged records cost a read and a link lookup, no message.
 * @returns the run's note when it restarts from the first row
 */
async function restartOnMappingChange(run: ExtractRun, state: SyncState): Promise<string | undefined> {
  const { sync, deps } = run;
  if (deps.mappingFingerprint === undefined || state.mapping === deps.mappingFingerprint) return undefined;
  const restart = state.mapping !== undefined && state.bookmark !== undefined;
  await deps.state.saveMapping(sync.name, run.runId, deps.mappingFingerprint, restart);
  if (!restart) return undefined;
  run.before = undefined;
  run.bookmark = undefined;
  return 'mapping changed (map, source, children, parent or target): re-reading every row from the start; only records whose content changed are written';
}

/** The source's reader, once the checks that must pass before anything is sent have passed. */
async function openSource(run: ExtractRun) {
  const { sync, deps } = run;
  const reader = run.source;
  await reader.preflight();
  // Rows no page can return are counted and named, never passed over in silence.
  const setAside = await reader.setAside();
  // Deletes guard: a run that would delete more than allowed stops before anything is deleted.
  await guardSoftDeletes(sync, reader, deps.links, run.before);
  const deletedKeys = sync.deletes?.keys ? new DeletedKeysStream(deps, sync) : undefined;
  await deletedKeys?.guard(reader);
  return { reader, setAside, deletedKeys };
}

/**
 * Failed records are not forgotten: dead and stuck keys go again, whatever the cursor, when links
 * are flagged for it (writers flag them when a message comes back; an open auth outage looks too,
 * so that the run records its pause). Then the flag moves to when the next link will be due.
 * @returns why the target's health paused the sync, if it did
 */
async function redrive(run: ExtractRun, gate: RunGate): Promise<string | undefined> {
  const { sync, deps } = run;
  const now = deps.now();
  const flagged = gate.redriveDueAt !== undefined && gate.redriveDueAt <= now;
  if (!flagged && !gate.auth) return undefined;
  const result = await redriveFailed(
    sync,
    { ...deps, buildMessages: async (rows, runId) => (await pageMessages(run, rows, runId)).messages },
    { runId: run.runId, ...(deps.health !== undefined ? { health: deps.health } : {}) },
  );
  Object.assign(run.counts, { redriven: result.redriven, failed: result.failed, dead: result.dead });
  if (flagged || result.nextDueAt !== undefined) {
    await deps.links.health.settleRedrive(sync.name, gate.redriveDueAt, result.nextDueAt);
  }
  return result.paused ? result.pausedReason : undefined;
}

/**
 * Record a run that went to the end: records not sent (SQS refused them, keys too long) join the
 * rows set aside, and any set aside make it partial. Not async, so what throws before the record is written fails the run.
 */
function finishRun(
  run: ExtractRun,
  setAside: SetAsideRows[],
  notes: readonly (string | undefined)[],
): Promise<RunRecord> {
  setAside.push(...unsentAsSetAside(run.unsent));
  if (setAside.length > 0) run.counts.setAside = setAside.reduce((n, s) => n + s.count, 0);
  const message = [...notes, ...setAside.map((s) => `${s.code}: ${s.message}`)].filter(Boolean).join('; ');
  return recordRun(run, setAside.length > 0 ? 'partial' : 'succeeded', {
    before: run.before,
    after: run.bookmark,
    backlog: run.backlog,
    setAside,
    ...(message ? { message } : {}),
  });
}

async function recordRun(
  run: ExtractRun,
  outcome: RunOutcome,
  extra: {
    before?: Position;
    after?: Position;
    message?: string;
    backlog?: boolean;
    setAside?: readonly SetAsideRows[];
  },
): Promise<RunRecord> {
  const record: RunRecord = {
    sync: run.sync.name,
    runId: run.runId,
    startedAt: run.startedAt,
    finishedAt: new Date(run.deps.now()).toISOString(),
    outcome,
    counts: run.counts,
    bookmarkBefore: extra.before,
    bookmarkAfter: extra.after,
    backlog: extra.backlog ?? false,
    ...(extra.message ? { message: extra.message } : {}),
    ...(extra.setAside?.length ? { setAside: extra.setAside } : {}),
    ...(run.conflicts.length ? { conflicts: run.conflicts.slice(0, MAX_RECORDED_CONFLICTS) } : {}),
  };
  await run.deps.state.recordRun(record);
  return record;
}

/** Records not sent, by code: set aside with their keys, like rows no page can return. */
function unsentAsSetAside(unsent: readonly UnsentRecord[]): SetAsideRows[] {
  const byCode = Map.groupBy(unsent, (r) => r.code);
  return [...byCode].map(([code, list]) => ({
    code,
    count: list.length,
    samples: list.slice(0, 3).map((r) => (r.key.length > 200 ? `${r.key.slice(0, 200)}…` : r.key)),
    message:
      `${list.length} record(s) could not be enqueued (${list[0]!.reason}); the rows after them were. ` +
      'They are sent again when their row changes; see docs/source-data.md',
  }));
}

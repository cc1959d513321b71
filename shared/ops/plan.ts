import { mappingFingerprint } from '../config/mappingFingerprint.ts';
import type { Payload } from '../config/schema.ts';
import type { Connector, TargetRecord } from '../connectors/Connector.ts';
import { describeError } from '../errors.ts';
import { buildMessages, childReadersOf } from '../extract/buildMessages.ts';
import { DeletedKeysStream } from '../extract/DeletedKeysStream.ts';
import type { Link } from '../links/Link.ts';
import { enqueueDecision } from '../links/selectChanged.ts';
import { type PairConflict, planPairPage } from '../pair/planPairPage.ts';
import type { WriteMessage } from '../queue/WriteMessage.ts';
import type { Position } from '../source/Position.ts';
import { type PageStart, SourceReader } from '../source/SourceReader.ts';
import { forEachLimit } from '../util/forEachLimit.ts';
import { stableJson } from '../util/stableJson.ts';
import { type ResolvedPayload, resolveParents, withParentId } from '../write/resolveParents.ts';
import type { OpsContext } from './OpsContext.ts';

/**
 * What a run would do with a record: create it in the target, update it, skip it (the link
 * says the target already holds this content), delete it (marked deleted in the source and
 * written by this sync), or dead-letter it (`invalid`: map() refuses the row, or its parent failed).
 */
export type PlanAction = 'create' | 'update' | 'skip' | 'invalid' | 'delete';

/** A field whose value in the target differs from what the run would write. */
export interface FieldChange {
  readonly field: string;
  /** The target's value now; undefined when the target has no such record. */
  readonly from: unknown;
  readonly to: unknown;
}

/** One row of a plan: what a run would do with it, and why. */
export interface PlannedRecord {
  readonly key: string;
  readonly action: PlanAction;
  readonly version: string;
  /** Why: the link's state for updates and skips, map()'s error for invalid rows. */
  readonly reason?: string;
  readonly targetId?: string;
  /** The changed fields, from a lookup in the target; undefined past `diffLimit` or for skips. */
  readonly diff?: readonly FieldChange[];
  /** The lookup failed (target unreachable, rate limited): the diff is unknown. */
  readonly diffError?: string;
}

/** The answer of `writeback plan`. */
export interface SyncPlan {
  readonly sync: string;
  readonly bookmark: Position | undefined;
  /** The mapping changed since the bookmark was read: the next run reads every row from the start. */
  readonly remapped: boolean;
  readonly rowsRead: number;
  /** More rows are waiting past `limit`: a run would go on with them. */
  readonly more: boolean;
  readonly counts: Record<PlanAction, number>;
  /** Every record read, in source order (skips included; the CLI hides them unless asked). */
  readonly records: readonly PlannedRecord[];
  /** A direction of a two-way pair: the conflicts the run would resolve (field, both values, winner). */
  readonly conflicts?: readonly PairConflict[];
}

/** How much to read and how many records to look up in the target. */
export interface PlanOptions {
  /** Rows to read at most. @default 10000 */
  readonly limit?: number;
  /** Records to look up in the target for a field diff; 0 turns lookups off. @default 20 */
  readonly diffLimit?: number;
  readonly onProgress?: (line: string) => void;
}

const LOOKUP_CONCURRENCY = 4;

/**
 * A dry run: reads the rows the next run would read (after the bookmark, with the lookback
 * window), maps them, and judges each through the link table as the extract and the writer would,
 * without taking the lease, sending a message or writing anything.
 *
 * The field diff needs the content the target holds now. The link keeps only a hash of what was
 * written, so the plan asks the target itself (connector.lookup by external id, a read): that is
 * the truth, and it also shows a change someone made in the target by hand. It costs one read
 * call per record, against the target's rate limit; hence `diffLimit`.
 */
export async function planSync(ctx: OpsContext, syncName: string, opts: PlanOptions = {}): Promise<SyncPlan> {
  const sync = ctx.sync(syncName);
  const limit = Math.min(opts.limit ?? 10_000, sync.testLimit ?? Number.POSITIVE_INFINITY);
  const diffLimit = opts.diffLimit ?? 20;
  const sql = await ctx.warehouse();
  const state = await ctx.state.get(sync.name);
  // Under a changed mapping the next run reads every row from the start (runExtract): so does the plan.
  const remapped = state.mapping !== undefined && state.mapping !== mappingFingerprint(sync);
  const bookmark = remapped ? undefined : state.bookmark;
  const reader = new SourceReader(sql, sync.name, sync.source);
  const children = childReadersOf(sql, sync);
  const counts: Record<PlanAction, number> = { create: 0, update: 0, skip: 0, invalid: 0, delete: 0 };
  const records: PlannedRecord[] = [];
  const conflicts: PairConflict[] = [];
  const payloads = new Map<string, Record<string, unknown>>();
  // Where the next run starts: an unfinished pass resumes, a new one opens its lookback window.
  const resumed = remapped ? undefined : state.pass;
  let start: PageStart = resumed
    ? { after: resumed.position }
    : await reader.passStart(bookmark, remapped ? undefined : state.lastPassAt);
  let more = false;
  const now = Date.now();
  while (records.length < limit) {
    const pageLimit = Math.min(sync.source.pageSize, limit - records.length);
    const rows = await reader.readPage(start, pageLimit, bookmark);
    if (rows.length === 0) break;
    // Built as the extract builds them: embedded children attached, soft deletes as deletes; for a
    // direction of a two-way pair, only what the other app lacks (echoes and waiting rows skipped).
    const pairPage = sync.pair
      ? await planPairPage({ ...sync, pair: sync.pair }, rows, 'plan', children, {
          sql,
          links: ctx.links,
          pairs: ctx.pairs,
          now: () => now,
        })
      : undefined;
    const messages = pairPage?.messages ?? (await buildMessages(sync, rows, 'plan', children, () => now));
    for (const [key, why] of pairPage?.settled ?? []) {
      counts.skip++;
      const row = rows.find((r) => r.key === key)!;
      records.push({ key, version: row.version, action: 'skip', reason: PAIR_SKIP[why] });
    }
    conflicts.push(...(pairPage?.conflicts ?? []));
    const links = await ctx.links.batchGet(
      sync.name,
      messages.map((m) => m.key),
    );
    const parents = await resolveParents(
      ctx.links,
      messages.filter((m) => m.parent && !m.invalid && !m.delete),
    );
    for (const m of messages) {
      const link = links.get(m.key);
      const planned = withParent(judge(m, link), parents.get(m.key));
      counts[planned.action]++;
      records.push(planned);
      if (planned.action === 'create' || planned.action === 'update') {
        const resolved = parents.get(m.key);
        // A parent not written yet shows as a stand-in: its id exists only once it is written.
        payloads.set(
          m.key,
          resolved && 'payload' in resolved
            ? resolved.payload
            : (withParentId(m.payload, `<target id of ${m.parent?.sync}/${m.parent?.key}>`) as Payload),
        );
      }
    }
    opts.onProgress?.(`read ${records.length} rows`);
    start = { after: rows[rows.length - 1]!.position };
    if (rows.length < pageLimit) break;
    if (records.length >= limit) {
      more = (await reader.readPage(start, 1, bookmark)).length > 0;
      break;
    }
  }

  // Keys removed outright (deletes.keys): the next run deletes those this sync wrote.
  if (sync.deletes?.keys) {
    const log = sync.deletes.keys.table ?? 'the deleted-keys query';
    const stream = new DeletedKeysStream({ sql, links: ctx.links, state: ctx.state, now: Date.now }, sync);
    for (const { key, link } of await stream.planned(reader, limit)) {
      counts.delete++;
      records.push({
        key,
        action: 'delete',
        version: link.version ?? '0',
        reason: `logged deleted in ${log}`,
        ...(link.targetId ? { targetId: link.targetId } : {}),
      });
    }
  }

  const toDiff = records.filter((r) => payloads.has(r.key)).slice(0, diffLimit);
  if (toDiff.length > 0) {
    const fields = [...new Set(toDiff.flatMap((r) => Object.keys(payloads.get(r.key)!)))];
    const connector = await ctx.connector(sync, { readFields: fields });
    const diffs = await lookupDiffs(connector, sync.target.object, toDiff, payloads, opts.onProgress);
    for (let i = 0; i < records.length; i++) {
      const d = diffs.get(records[i]!.key);
      if (d) records[i] = { ...records[i]!, ...d };
    }
  }
  return {
    sync: sync.name,
    bookmark,
    remapped,
    rowsRead: records.length,
    more,
    counts,
    records,
    ...(sync.pair ? { conflicts } : {}),
  };
}

/** Why a direction of a pair sends nothing for a row. */
const PAIR_SKIP = {
  echo: 'the other app holds these values already (the echo of a write, or an edit of a field this side does not own)',
  awaiting: 'the copy predates our last write into its app: judged when the ELT loads it again',
} as const;

/** The extract's and the writer's decision for one row, from its link. */
function judge(m: WriteMessage, link: Link | undefined): PlannedRecord {
  const { key, version, invalid } = m;
  if (m.delete) {
    // Only what this integration wrote is deleted, once.
    if (link?.status === 'deleted') return { key, version, action: 'skip', reason: 'already deleted' };
    if (!link?.targetId)
      return { key, version, action: 'skip', reason: 'deleted in the source, never written' };
    return { key, version, action: 'delete', targetId: link.targetId };
  }
  // As the extract decides: a `touch` sends nothing when the link's version can be moved on.
  if (enqueueDecision(link, m) !== 'send') {
    return {
      key,
      version,
      action: 'skip',
      reason: link?.status === 'ok' ? 'unchanged' : `already ${link?.status} with this content (see the DLQ)`,
      ...(link?.targetId ? { targetId: link.targetId } : {}),
    };
  }
  if (invalid) return { key, version, action: 'invalid', reason: `${invalid.code}: ${invalid.message}` };
  if (link?.targetId) {
    return {
      key,
      version,
      action: 'update',
      targetId: link.targetId,
      ...(link.status !== 'ok' ? { reason: `link is ${link.status}` } : {}),
    };
  }
  return {
    key,
    version,
    action: 'create',
    ...(link ? { reason: `link is ${link.status}, no target record yet` } : {}),
  };
}

/** What the writer would do about the record's parent: wait for it, or dead-letter the record. */
function withParent(planned: PlannedRecord, parent: ResolvedPayload | undefined): PlannedRecord {
  if (!parent || !('error' in parent)) return planned;
  if (planned.action !== 'create' && planned.action !== 'update') return planned;
  if (parent.error.disposition === 'permanent') {
    const { targetId: _, ...rest } = planned;
    return { ...rest, action: 'invalid', reason: `${parent.error.code}: ${parent.error.message}` };
  }
  const waits = `waits: ${parent.error.message}`;
  return { ...planned, reason: planned.reason ? `${planned.reason}; ${waits}` : waits };
}

async function lookupDiffs(
  connector: Connector,
  object: string,
  records: readonly PlannedRecord[],
  payloads: ReadonlyMap<string, Record<string, unknown>>,
  onProgress: ((line: string) => void) | undefined,
): Promise<Map<string, Pick<PlannedRecord, 'diff' | 'diffError' | 'targetId'>>> {
  const out = new Map<string, Pick<PlannedRecord, 'diff' | 'diffError' | 'targetId'>>();
  await forEachLimit(records, LOOKUP_CONCURRENCY, async (r) => {
    const payload = payloads.get(r.key)!;
    try {
      const current = await connector.lookup(object, r.key);
      out.set(r.key, {
        diff: fieldDiff(payload, current),
        ...(current && !r.targetId ? { targetId: current.targetId } : {}),
      });
    } catch (err) {
      out.set(r.key, { diffError: describeError(err).message });
    }
    onProgress?.(`looked up ${out.size} of ${records.length} records in the target`);
  });
  return out;
}

/**
 * The owned fields whose target value differs from the payload's. Values are compared as the
 * target stores them: null and absent as empty (HubSpot clears to ''), dates as ISO text,
 * everything else as text (HubSpot keeps every property as a string).
 */
export function fieldDiff(
  payload: Record<string, unknown>,
  current: TargetRecord | undefined,
): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const [field, to] of Object.entries(payload)) {
    const from = current?.fields[field];
    if (current && comparable(from) === comparable(to)) continue;
    changes.push({ field, from: current ? plain(from) : undefined, to: plain(to) });
  }
  return changes;
}

function comparable(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return stableJson(v);
  return String(v);
}

/** JSON-safe value for output. */
function plain(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  return v ?? null;
}

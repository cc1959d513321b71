import type { Sql } from 'postgres';
import type { Row, SyncConfig } from '../config/schema.ts';
import { buildMessages } from '../extract/buildMessages.ts';
import type { Link } from '../links/Link.ts';
import type { LinkStore } from '../links/LinkStore.ts';
import type { WriteMessage } from '../queue/WriteMessage.ts';
import type { ChildReader } from '../source/ChildReader.ts';
import type { SourceRow } from '../source/SourceReader.ts';
import { quoteIdent, quoteQualified } from '../source/sqlText.ts';
import { contentHash } from '../util/contentHash.ts';
import { type Conflict, decideFields } from './decideFields.ts';
import type { PairEntity, PairStore } from './PairStore.ts';
import type { PairConfig } from './pairSchema.ts';

/** A conflict as the run history records it: the record, the field, both values and the side that won. */
export interface PairConflict {
  readonly key: string;
  readonly field: string;
  /** The value in the app this direction reads, and in the app it writes (normalised). */
  readonly source: string | null;
  readonly target: string | null;
  /** The app whose value stands: `a` or `b` of the pair. */
  readonly winner: 'a' | 'b';
}

export interface PairPage {
  /** The messages to judge against the links and send (writes, creates, deletes, invalid rows). */
  readonly messages: WriteMessage[];
  /** Rows that were the echo of our own write, or agree with the target already: no message. */
  readonly echoes: number;
  /**
   * Rows whose copy predates our last write into their app (the next load brings our write
   * back), or that we created and whose link is not made yet: no message now.
   */
  readonly awaiting: number;
  readonly conflicts: readonly PairConflict[];
  /** Why each row without a message has none, by source key (for `writeback plan`). */
  readonly settled: ReadonlyMap<string, 'echo' | 'awaiting'>;
  /** The page's links as planPairPage read them, for selectChanged not to read them again. */
  readonly links?: ReadonlyMap<string, Link>;
}

/** A page as planRows leaves it: the echoes not settled yet (settleEchoes). */
export interface PlannedPairPage extends Omit<PairPage, 'echoes' | 'links'> {
  /** The messages of rows whose target already holds what they assert. */
  readonly echoes: readonly WriteMessage[];
}

export interface PairPageDeps {
  readonly sql: Sql;
  readonly links: LinkStore;
  readonly pairs: PairStore;
  readonly now: () => number;
}

/**
 * The messages of a page of one direction of a pair: each row is compared, field by field, with
 * the target app's copy and the entity's baseline (decideFields), and only what the target lacks
 * is sent. What decides which record a row is:
 * - a row with a link is that link's record (the partner links every record it creates at once);
 * - a row without one that carries our stamp is a record the partner created whose write is not
 *   recorded yet: it waits (its own edits reload it), and is never created again;
 * - any other row is a record new to the pair: it is created in the target.
 * A row last modified before our last write into its app is the app as it was before that write:
 * it waits for the load that shows it, rather than being taken for an edit that undoes ours.
 */
export async function planPairPage(
  sync: SyncConfig & { readonly pair: PairConfig },
  rows: readonly SourceRow[],
  runId: string,
  children: readonly ChildReader[],
  deps: PairPageDeps,
): Promise<PairPage> {
  const { pair } = sync;
  const built = await buildMessages(sync, rows, runId, children, deps.now);
  const links = await deps.links.batchGet(
    sync.name,
    rows.map((r) => r.key),
  );
  // Rows with our stamp but no link yet: read their links again, strongly, before making them wait.
  const stampedUnlinked = rows.filter(
    (r) => !links.get(r.key)?.targetId && stampOf(pair, r.row) !== undefined,
  );
  if (stampedUnlinked.length > 0) {
    const strong = await deps.links.batchGet(
      sync.name,
      stampedUnlinked.map((r) => r.key),
      { consistent: true },
    );
    for (const [k, l] of strong) links.set(k, l);
  }
  const entityKeys = rows.map((r) => (pair.side === 'a' ? r.key : links.get(r.key)?.targetId));
  const entities = await deps.pairs.batchGet(
    pair.name,
    entityKeys.filter((e): e is string => e !== undefined),
  );
  const targetRows = await readTargetCopy(
    deps.sql,
    pair,
    rows.map((r) => links.get(r.key)?.targetId).filter((id): id is string => id !== undefined),
  );
  const targetIds = new Map<string, string>();
  for (const [key, link] of links) if (link.targetId !== undefined) targetIds.set(key, link.targetId);
  const planned = planRows(pair, rows, built, { targetIds, entities, targetRows });
  const settled = await settleEchoes(planned, links, (key, version, hash) =>
    deps.links.touchVersion({ sync: sync.name, key, version, hash, now: deps.now() }),
  );
  return { ...settled, links };
}

/** What the hub knows of a page's records besides their rows: read by planPairPage, given by tests. */
export interface PairView {
  /** Each row's record in the target (its link's target id), by source key; absent: not linked. */
  readonly targetIds: ReadonlyMap<string, string>;
  /** The pair's entities, by side a's record id. */
  readonly entities: ReadonlyMap<string, PairEntity>;
  /** The target app's copy rows, by the target's record id. */
  readonly targetRows: ReadonlyMap<string, Row>;
}

/**
 * The pure part of planPairPage: each row's message from what the hub knows of its record (no
 * I/O, so that a property test can drive the protocol through it).
 */
export function planRows(
  pair: PairConfig,
  rows: readonly { readonly key: string; readonly row: Row }[],
  built: readonly WriteMessage[],
  view: PairView,
): PlannedPairPage {
  const other = pair.side === 'a' ? 'b' : 'a';
  const entityOf = (key: string): string | undefined => (pair.side === 'a' ? key : view.targetIds.get(key));
  const page = {
    messages: [] as WriteMessage[],
    echoes: [] as WriteMessage[],
    awaiting: 0,
    conflicts: [] as PairConflict[],
    settled: new Map<string, 'echo' | 'awaiting'>(),
  };
  for (const [i, r] of rows.entries()) {
    const msg = built[i]!;
    if (msg.delete || msg.invalid) {
      page.messages.push(msg);
      continue;
    }
    const targetId = view.targetIds.get(r.key);
    const entityKey = entityOf(r.key);
    const entity = entityKey === undefined ? undefined : view.entities.get(entityKey);
    if (
      (targetId === undefined && stampOf(pair, r.row) !== undefined) ||
      modifiedBefore(r.row, pair.source.modifiedAt, entity?.writtenAt[pair.side])
    ) {
      page.awaiting++;
      page.settled.set(r.key, 'awaiting');
      continue;
    }
    const targetRow = targetId === undefined ? undefined : view.targetRows.get(targetId);
    const fresh =
      targetRow && !modifiedBefore(targetRow, pair.target.modifiedAt, entity?.writtenAt[other])
        ? targetRow
        : undefined;
    const decision = decideFields(pair.fields, {
      source: r.row,
      sourceModifiedAt: timeOf(r.row[pair.source.modifiedAt]),
      target: fresh,
      targetModifiedAt: fresh ? timeOf(fresh[pair.target.modifiedAt]) : undefined,
      base: entity?.base,
      create: targetId === undefined,
      // A tie goes to side a, whichever direction judges it: both directions agree on the winner.
      tieWinner: pair.side === 'a' ? 'source' : 'target',
    });
    page.conflicts.push(...decision.conflicts.map((c) => asRecorded(r.key, c, pair.side)));
    const message: WriteMessage = {
      ...msg,
      payload: decision.payload,
      // The baseline a write was decided against is part of what it is: the same values written
      // again after the other side changed them are a new write, not the one the link holds.
      hash: contentHash({
        payload: decision.payload,
        against: decision.against,
        create: targetId === undefined,
      }),
      pair: { ...(entityKey !== undefined ? { entity: entityKey } : {}), agreed: decision.agreed },
    };
    if (targetId !== undefined && !decision.differs) page.echoes.push(message);
    else page.messages.push(message);
  }
  return page;
}

/** A link as settleEchoes needs it. */
export type EchoLink = Pick<Link, 'status' | 'hash' | 'version'>;

/**
 * The rows whose target holds what they assert (the echo of a write, or agreed already) send
 * nothing, but a message of an older version of the record may still be queued, or in flight, and
 * would leave its older values behind: the link's version is moved on past the row's (the older
 * message is then stale when claimed), as the extract does for a one-way A → B → A. Where the link
 * cannot be moved (a write of it in flight or failed, or it changed since it was read), the row's
 * message is sent after all: newer, and asserting the whole state, it is written last.
 */
export async function settleEchoes(
  page: PlannedPairPage,
  links: ReadonlyMap<string, EchoLink>,
  touch: (key: string, version: string, hash: string) => Promise<boolean>,
): Promise<PairPage> {
  const messages = [...page.messages];
  const settled = new Map(page.settled);
  let echoes = 0;
  for (const m of page.echoes) {
    const link = links.get(m.key);
    const current = link?.version !== undefined && BigInt(link.version) >= BigInt(m.version);
    const moved =
      current ||
      (link?.status === 'ok' && link.hash !== undefined && (await touch(m.key, m.version, link.hash)));
    if (!moved) {
      messages.push(m);
      continue;
    }
    echoes++;
    settled.set(m.key, 'echo');
  }
  return { messages, echoes, awaiting: page.awaiting, conflicts: page.conflicts, settled };
}

function asRecorded(key: string, c: Conflict, side: 'a' | 'b'): PairConflict {
  const other = side === 'a' ? 'b' : 'a';
  return {
    key,
    field: c.field,
    source: c.source,
    target: c.target,
    winner: c.winner === 'source' ? side : other,
  };
}

function stampOf(pair: PairConfig, row: Row): string | undefined {
  const v = row[pair.source.stamp];
  return v === null || v === undefined || String(v).trim() === '' ? undefined : String(v);
}

/**
 * True when the copy row shows the record as last modified before `writtenAt` (ms, taken before
 * our call into its app): the row predates that write. Our write modifies the record, so the
 * load that brings it back carries a later modification time; the app's clock and ours are
 * both assumed to be NTP-synced (docs/two-way.md).
 */
function modifiedBefore(row: Row, modifiedAt: string, writtenAt: number | undefined): boolean {
  if (writtenAt === undefined) return false;
  const modified = timeOf(row[modifiedAt]);
  return modified !== undefined && modified < writtenAt;
}

function timeOf(v: unknown): number | undefined {
  if (v === null || v === undefined) return undefined;
  const t = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(String(v));
  return Number.isFinite(t) ? t : undefined;
}

/** The target app's copy rows of these records, by id: one query per page. */
async function readTargetCopy(sql: Sql, pair: PairConfig, ids: readonly string[]): Promise<Map<string, Row>> {
  const out = new Map<string, Row>();
  if (ids.length === 0) return out;
  const key = quoteIdent(pair.target.key);
  const rows = await sql.unsafe<Row[]>(
    `select * from ${quoteQualified(pair.target.table)} where ${key}::text = any($1::text[])`,
    [ids as string[]],
  );
  for (const row of rows) out.set(String(row[pair.target.key]), row);
  return out;
}

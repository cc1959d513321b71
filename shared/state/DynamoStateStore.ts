import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateQuery,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Position } from '../source/Position.ts';
import { isConditionFailed, N, num, S, str } from '../util/attr.ts';
import { truncateUtf8 } from '../util/truncateUtf8.ts';
import type { VerifyReport } from '../verify/VerifyReport.ts';
import type { OperatorAction } from './OperatorAction.ts';
import type { RunRecord } from './RunRecord.ts';
import type { PassProgress, Progress, StateStore, SyncState } from './StateStore.ts';

/** Attributes of a pass's state, removed whenever the bookmark is cleared or set by hand. */
const PASS_ATTRS = 'passAt, passPosition';

const RUN_RETENTION_DAYS = 90;
/** Operator actions outlive runs: an audit looks back over a year (the warehouse keeps them for good). */
const ACTION_RETENTION_DAYS = 400;
/** A run record's JSON stays far below DynamoDB's 400 KB per item. */
const MAX_RUN_BYTES = 300_000;
/** What each string of an oversized run record keeps (UTF-8 bytes). */
const RUN_STRING_BYTES = 2048;

/**
 * The stored form of a run record. Source keys (in its bookmarks and set-aside samples) and its
 * message have no bound of their own; a record that would pass MAX_RUN_BYTES keeps 2 KB of each
 * string, cut with a marker, so that recording the run can never fail on its size.
 */
export function runRecordJson(run: RunRecord): string {
  const full = JSON.stringify(run);
  if (Buffer.byteLength(full, 'utf8') <= MAX_RUN_BYTES) return full;
  return JSON.stringify(run, (_key, value: unknown) =>
    typeof value === 'string' ? truncateUtf8(value, RUN_STRING_BYTES) : value,
  );
}

export interface DynamoStateStoreOptions {
  /** Items per page of the history queries (their `Limit`). Unset: the limit asked for. Tests set it small. */
  readonly pageSize?: number;
}

/**
 * Bookmarks, leases and run history in one DynamoDB table (the StateStore port): the state item
 * `sync#<name>`/`state`, and history items `run#<startedAt>#<runId>`, `verify#<at>` and
 * `action#<at>#<id>` (operator actions) beside it,
 * read newest first by Query. The lease makes runs of one sync mutually exclusive; every bookmark
 * write is conditional on still holding it, so a run that lost its lease (paused, timed out) can
 * never move the bookmark of the run that took over.
 */
export class DynamoStateStore implements StateStore {
  private readonly ddb: DynamoDBClient;
  private readonly table: string;
  private readonly pageSize: number | undefined;

  public constructor(ddb: DynamoDBClient, table: string, opts: DynamoStateStoreOptions = {}) {
    this.ddb = ddb;
    this.table = table;
    this.pageSize = opts.pageSize;
  }

  private stateKey(sync: string): Record<string, AttributeValue> {
    return stateItemKey(sync);
  }

  public async get(sync: string): Promise<SyncState> {
    const { Item } = await this.ddb.send(
      new GetItemCommand({ TableName: this.table, Key: this.stateKey(sync), ConsistentRead: true }),
    );
    return stateOf(Item);
  }

  /**
   * Takes the run lease when nobody holds a live one (or we do) and returns the state as the lease
   * write left it: one request, and the state a run reads is the one its lease holds. Undefined
   * when another run is active.
   */
  public async takeLease(
    sync: string,
    owner: string,
    now: number,
    ttlMs: number,
  ): Promise<SyncState | undefined> {
    try {
      const { Attributes } = await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: this.stateKey(sync),
          ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :owner',
          UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until',
          ExpressionAttributeValues: { ':owner': S(owner), ':now': N(now), ':until': N(now + ttlMs) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return stateOf(Attributes);
    } catch (err) {
      if (isConditionFailed(err)) return undefined;
      throw err;
    }
  }

  /**
   * Records the mapping the bookmark is read with; with `restart`, also clears the bookmark, in the
   * same write, so that the run reads every row again under the new mapping. Conditional on the
   * lease, like every write of a run.
   */
  public async saveMapping(sync: string, owner: string, mapping: string, restart: boolean): Promise<void> {
    await this.ddb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: this.stateKey(sync),
        ConditionExpression: 'leaseOwner = :owner',
        // A restart is never a first pass: the links of the rows read before it exist.
        UpdateExpression: `SET mapping = :m${restart ? `, firstPass = :false REMOVE bookmarkCursor, bookmarkKey, ${PASS_ATTRS}` : ''}`,
        ExpressionAttributeValues: {
          ':owner': S(owner),
          ':m': S(mapping),
          ...(restart ? { ':false': { BOOL: false } } : {}),
        },
      }),
    );
  }

  /** Takes the run lease when nobody holds a live one; false when another run is active. */
  public async acquireLease(sync: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    try {
      await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: this.stateKey(sync),
          // No holder, an expired holder, or ourselves (a continuation re-acquiring).
          ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :owner',
          UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until',
          ExpressionAttributeValues: { ':owner': S(owner), ':now': N(now), ':until': N(now + ttlMs) },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  /** Moves the bookmark; throws LeaseLostError-like condition failure when the lease is no longer ours. */
  public async saveBookmark(
    sync: string,
    owner: string,
    bookmark: Position,
    now: number,
    ttlMs: number,
  ): Promise<void> {
    await this.ddb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: this.stateKey(sync),
        ConditionExpression: 'leaseOwner = :owner',
        UpdateExpression: 'SET bookmarkCursor = :c, bookmarkKey = :k, leaseUntil = :until, bookmarkAt = :at',
        ExpressionAttributeValues: {
          ':owner': S(owner),
          ':c': S(bookmark.cursor),
          ':k': S(JSON.stringify(bookmark.key)),
          ':until': N(now + ttlMs),
          ':at': S(new Date(now).toISOString()),
        },
      }),
    );
  }

  /**
   * Records a run's progress after an enqueued page: the bookmark (when it moved), the pass in
   * progress or its completion. Conditional on the lease, like saveBookmark.
   */
  public async saveProgress(
    sync: string,
    owner: string,
    p: Progress,
    now: number,
    ttlMs: number,
  ): Promise<void> {
    const set = ['leaseUntil = :until', 'bookmarkAt = :at'];
    const values: Record<string, AttributeValue> = {
      ':owner': S(owner),
      ':until': N(now + ttlMs),
      ':at': S(new Date(now).toISOString()),
    };
    if (p.bookmark) {
      set.push('bookmarkCursor = :c', 'bookmarkKey = :k');
      values[':c'] = S(p.bookmark.cursor);
      values[':k'] = S(JSON.stringify(p.bookmark.key));
    }
    if (p.pass) {
      set.push('passAt = :pa', 'passPosition = :pp');
      values[':pa'] = S(p.pass.at);
      values[':pp'] = S(JSON.stringify(p.pass.position));
    }
    if (p.lastPassAt) {
      set.push('lastPassAt = :lp');
      values[':lp'] = S(p.lastPassAt);
    }
    set.push('firstPass = :fp');
    values[':fp'] = { BOOL: p.firstPass === true && p.pass !== undefined };
    await this.ddb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: this.stateKey(sync),
        ConditionExpression: 'leaseOwner = :owner',
        UpdateExpression: `SET ${set.join(', ')}${p.pass ? '' : ` REMOVE ${PASS_ATTRS}`}`,
        ExpressionAttributeValues: values,
      }),
    );
  }

  /** The bookmark of a secondary stream of a sync (the change stream of its embedded children). */
  public async getStreamBookmark(sync: string, stream: string): Promise<Position | undefined> {
    const { Item } = await this.ddb.send(
      new GetItemCommand({ TableName: this.table, Key: this.stateKey(sync), ConsistentRead: true }),
    );
    const raw = str(Item, `stream_${stream}`);
    return raw ? (JSON.parse(raw) as Position) : undefined;
  }

  /** Moves a secondary stream's bookmark, conditional on holding the run lease like the main one. */
  public async saveStreamBookmark(
    sync: string,
    owner: string,
    stream: string,
    bookmark: Position,
  ): Promise<void> {
    await this.ddb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: this.stateKey(sync),
        ConditionExpression: 'leaseOwner = :owner',
        UpdateExpression: 'SET #stream = :b',
        ExpressionAttributeNames: { '#stream': `stream_${stream}` },
        ExpressionAttributeValues: { ':owner': S(owner), ':b': S(JSON.stringify(bookmark)) },
      }),
    );
  }

  /** Sets (or clears, with undefined) the bookmark outside a run: `writeback reset`. */
  public async resetBookmark(sync: string, bookmark: Position | undefined): Promise<void> {
    await this.ddb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: this.stateKey(sync),
        // A hand-set bookmark starts a new pass, with the lookback measured from it; never a first
        // pass (the records written before the reset have links).
        UpdateExpression: bookmark
          ? `SET bookmarkCursor = :c, bookmarkKey = :k, firstPass = :false REMOVE ${PASS_ATTRS}, lastPassAt`
          : `SET firstPass = :false REMOVE bookmarkCursor, bookmarkKey, ${PASS_ATTRS}, lastPassAt`,
        ExpressionAttributeValues: {
          ':false': { BOOL: false },
          ...(bookmark ? { ':c': S(bookmark.cursor), ':k': S(JSON.stringify(bookmark.key)) } : {}),
        },
      }),
    );
  }

  public async setEnabled(sync: string, enabled: boolean): Promise<void> {
    await this.ddb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: this.stateKey(sync),
        UpdateExpression: 'SET enabled = :e',
        ExpressionAttributeValues: { ':e': { BOOL: enabled } },
      }),
    );
  }

  public async releaseLease(sync: string, owner: string): Promise<void> {
    try {
      await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: this.stateKey(sync),
          ConditionExpression: 'leaseOwner = :owner',
          UpdateExpression: 'REMOVE leaseOwner, leaseUntil',
          ExpressionAttributeValues: { ':owner': S(owner) },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  public async recordRun(run: RunRecord): Promise<void> {
    await this.putHistory(
      run.sync,
      `run#${run.startedAt}#${run.runId}`,
      'run',
      runRecordJson(run),
      run.startedAt,
      RUN_RETENTION_DAYS,
    );
  }

  /** Keeps a verification's report (with its capped findings) in the sync's history. */
  public async recordVerify(report: VerifyReport): Promise<void> {
    // DynamoDB items stop at 400 KB; the report's findings are capped by its detail limit.
    const text = JSON.stringify(report).slice(0, 350_000);
    await this.putHistory(report.sync, `verify#${report.at}`, 'report', text, report.at, RUN_RETENTION_DAYS);
  }

  /** Keeps an operator action; recorded again with its outcome under the same key. */
  public async recordAction(action: OperatorAction): Promise<void> {
    // 100 keys and a few texts of at most 1 KB each: far below DynamoDB's 400 KB.
    const text = JSON.stringify(action, (_k, v: unknown) =>
      typeof v === 'string' ? truncateUtf8(v, 1024) : v,
    );
    await this.putHistory(
      action.sync,
      `action#${action.at}#${action.id}`,
      'action',
      text,
      action.at,
      ACTION_RETENTION_DAYS,
    );
  }

  /** One item of a sync's history (runs, verifications, operator actions), expiring after `days`. */
  private async putHistory(
    sync: string,
    sk: string,
    attr: string,
    json: string,
    at: string,
    days: number,
  ): Promise<void> {
    await this.ddb.send(
      new PutItemCommand({
        TableName: this.table,
        Item: {
          pk: S(`sync#${sync}`),
          sk: S(sk),
          [attr]: S(json),
          expiresAt: N(Math.floor(Date.parse(at) / 1000) + days * 86400),
        },
      }),
    );
  }

  /** Newest operator actions first. */
  public async listActions(sync: string, limit = 50): Promise<OperatorAction[]> {
    const items = await this.newestHistory(sync, 'action#', limit);
    return items.map((i) => JSON.parse(str(i, 'action') ?? '{}') as OperatorAction);
  }

  /** Newest verification reports first. */
  public async listVerifies(sync: string, limit = 10): Promise<VerifyReport[]> {
    const items = await this.newestHistory(sync, 'verify#', limit);
    return items.map((i) => JSON.parse(str(i, 'report') ?? '{}') as VerifyReport);
  }

  /** Newest runs first. */
  public async listRuns(sync: string, limit = 20): Promise<RunRecord[]> {
    const items = await this.newestHistory(sync, 'run#', limit);
    return items.map((i) => JSON.parse(str(i, 'run') ?? '{}') as RunRecord);
  }

  /**
   * Up to `limit` history items of a sync whose sort key starts with `prefix`, newest first. A page
   * stops at `limit` items or 1 MB (300 KB run records make that three): the paginator goes on
   * until the limit is reached or the items run out.
   */
  private async newestHistory(
    sync: string,
    prefix: string,
    limit: number,
  ): Promise<Record<string, AttributeValue>[]> {
    const out: Record<string, AttributeValue>[] = [];
    if (limit <= 0) return out;
    const pages = paginateQuery(
      { client: this.ddb },
      {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': S(`sync#${sync}`), ':prefix': S(prefix) },
        ScanIndexForward: false,
        Limit: Math.min(limit, this.pageSize ?? limit),
      },
    );
    for await (const page of pages) {
      out.push(...(page.Items ?? []));
      if (out.length >= limit) break;
    }
    return out.slice(0, limit);
  }
}

/** The key of a sync's state item (bookmark, lease, mapping, pass). */
export function stateItemKey(sync: string): Record<string, AttributeValue> {
  return { pk: S(`sync#${sync}`), sk: S('state') };
}

/** The state item as the domain sees it (an absent item: a sync that never ran). */
export function stateOf(item: Record<string, AttributeValue> | undefined): SyncState {
  const cursor = str(item, 'bookmarkCursor');
  const key = str(item, 'bookmarkKey');
  const enabled = item?.enabled && 'BOOL' in item.enabled ? item.enabled.BOOL : undefined;
  const streams: Record<string, Position> = {};
  for (const [name, value] of Object.entries(item ?? {})) {
    if (name.startsWith('stream_') && 'S' in value && value.S)
      streams[name.slice(7)] = JSON.parse(value.S) as Position;
  }
  return {
    bookmark:
      cursor !== undefined && key !== undefined ? { cursor, key: JSON.parse(key) as string[] } : undefined,
    leaseOwner: str(item, 'leaseOwner'),
    leaseUntil: num(item, 'leaseUntil'),
    enabled,
    mapping: str(item, 'mapping'),
    pass: passOf(item),
    lastPassAt: str(item, 'lastPassAt'),
    streams,
    firstPass: item?.firstPass && 'BOOL' in item.firstPass ? item.firstPass.BOOL : undefined,
  };
}

function passOf(item: Record<string, AttributeValue> | undefined): PassProgress | undefined {
  const at = str(item, 'passAt');
  const position = str(item, 'passPosition');
  return at !== undefined && position !== undefined
    ? { at, position: JSON.parse(position) as Position }
    : undefined;
}

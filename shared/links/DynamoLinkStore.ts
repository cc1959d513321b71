import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  paginateQuery,
  type QueryCommandInput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { LinkStoreUnavailableError } from '../errors.ts';
import { LINKS_TABLE } from '../state/tableDefinitions.ts';
import { isConditionFailed, N, num, numText, S, str } from '../util/attr.ts';
import { forEachLimit } from '../util/forEachLimit.ts';
import { truncateUtf8 } from '../util/truncateUtf8.ts';
import { DynamoTargetHealthStore } from './DynamoTargetHealthStore.ts';
import { DELETED_HASH, type Link, type LinkError, type LinkStatus } from './Link.ts';
import type {
  ClaimRequest,
  ClaimResult,
  CommitDeletedRequest,
  CommitRequest,
  FailureRequest,
  LinkStore,
  LinkSummary,
  RedriveRequest,
  TouchVersionRequest,
} from './LinkStore.ts';
import { type CensusOptions, censusTally, type SyncCensus } from './linkCensus.ts';
import { attentionKey, linkPk, targetRef } from './linkKeys.ts';
import { newestVersion } from './newestVersion.ts';
import { parallelScan } from './parallelScan.ts';

const BATCH_GET_MAX = 100;
/** BatchGetItem calls of one batchGet in flight at once (a page's worth, without crowding the SDK's sockets). */
const BATCH_GET_CONCURRENCY = 8;
/** Items per page of the attention index queries that stop at a limit. */
const MAX_QUERY_PAGE = 1000;
/** Parallel segments of a Scan of the whole table. */
const SCAN_SEGMENTS = 4;

export interface DynamoLinkStoreOptions {
  /**
   * Items per page of every Query and Scan (their `Limit`). Unset: the limit asked for, or up to
   * 1 MB a page. Tests set it small to make the paginators go past one page.
   */
  readonly pageSize?: number;
}

/**
 * The link table in DynamoDB (the LinkStore port): items keyed `<sync>#<key>` (linkKeys.ts), a
 * sparse `attention` index of the links that need a look, a `byTarget` index from the target's
 * id, and Scans for what no index answers (the census, a verification's read of every link).
 * Every state change is a single-item conditional write, which is what makes duplicate and
 * concurrent deliveries harmless: the condition decides, not the caller.
 */
export class DynamoLinkStore implements LinkStore {
  /** The client and table, for stores that keep small side items in the link table (rate limits). */
  public readonly ddb: DynamoDBClient;
  public readonly table: string;
  /** Per-sync target call outcomes, written by the writers and read before enqueuing. */
  public readonly health: DynamoTargetHealthStore;
  private readonly pageSize: number | undefined;

  public constructor(ddb: DynamoDBClient, table: string, opts: DynamoLinkStoreOptions = {}) {
    this.ddb = ddb;
    this.table = table;
    this.health = new DynamoTargetHealthStore(ddb, table);
    this.pageSize = opts.pageSize;
  }

  /** The item's key: `<sync>#<key>`, or the key's SHA-256 when that would not fit (linkKeys.ts). */
  private static pk(sync: string, key: string): AttributeValue {
    return S(linkPk(sync, key));
  }

  public async get(sync: string, key: string): Promise<Link | undefined> {
    const { Item } = await this.guard(() =>
      this.ddb.send(
        new GetItemCommand({
          TableName: this.table,
          Key: { pk: DynamoLinkStore.pk(sync, key) },
          ConsistentRead: true,
        }),
      ),
    );
    return Item ? toLink(Item) : undefined;
  }

  /**
   * Reads many links at once (100 per call, unprocessed keys retried). Eventually consistent by
   * default (half the price): on AWS such a read may miss the writes of the last second or so.
   * `consistent: true` where a decision that is not itself a conditional write depends on the
   * read (the writer's stale/unchanged filter).
   */
  public async batchGet(
    sync: string,
    keys: readonly string[],
    opts: { consistent?: boolean } = {},
  ): Promise<Map<string, Link>> {
    const out = new Map<string, Link>();
    const unique = [...new Set(keys)];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_GET_MAX) chunks.push(unique.slice(i, i + BATCH_GET_MAX));
    // A page of 1000 rows is ten BatchGetItem calls: in flight together, the extract waits for one
    // round trip instead of ten.
    await forEachLimit(chunks, BATCH_GET_CONCURRENCY, async (chunk) => {
      let request:
        | Record<string, { Keys: Record<string, AttributeValue>[]; ConsistentRead?: boolean }>
        | undefined = {
        [this.table]: {
          Keys: chunk.map((k) => ({ pk: DynamoLinkStore.pk(sync, k) })),
          ...(opts.consistent ? { ConsistentRead: true } : {}),
        },
      };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
        if (attempt > 8) throw new LinkStoreUnavailableError('BatchGetItem kept returning unprocessed keys');
        const req = request;
        const res = await this.guard(() => this.ddb.send(new BatchGetItemCommand({ RequestItems: req })));
        for (const item of res.Responses?.[this.table] ?? []) {
          const link = toLink(item);
          out.set(link.key, link);
        }
        request = res.UnprocessedKeys as typeof request;
      }
    });
    return out;
  }

  /**
   * Claims a key for writing: records the intent (status pending, version, hash) and a lease.
   * Succeeds only when no live lease exists, neither the committed nor a claimed version is newer,
   * and the target does not already hold this exact content (unless it is a repair). One conditional write; a
   * refused one returns the item as it was (ReturnValuesOnConditionCheckFailure: no read unit, no
   * round trip), which tells stale, unchanged and busy apart. An engine that returns no item with
   * the refusal (dynalite) has it re-read.
   */
  public async claim(req: ClaimRequest): Promise<ClaimResult> {
    const conditions = {
      newKey: 'attribute_not_exists(pk)',
      // Nobody else is writing this key (or their lease ran out: they crashed or stalled).
      leaseFree: '(attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
      // Not older than what the target holds…
      notOlderThanCommitted: '(attribute_not_exists(#version) OR #version <= :v)',
      // …nor than a newer version another delivery claimed (it is in the queue or the DLQ).
      notOlderThanClaimed: '(attribute_not_exists(pendingVersion) OR pendingVersion <= :v)',
      // A duplicate that raced the first delivery: the target already holds this content.
      notAlreadyWritten: 'NOT (#status = :ok AND #hash = :h)',
    };
    try {
      const res = await this.guard(() =>
        this.ddb.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { pk: DynamoLinkStore.pk(req.sync, req.key) },
            ConditionExpression: `${conditions.newKey} OR (${[
              conditions.leaseFree,
              conditions.notOlderThanCommitted,
              conditions.notOlderThanClaimed,
              ...(req.repair ? [] : [conditions.notAlreadyWritten]),
            ].join(' AND ')})`,
            UpdateExpression:
              [
                `SET #sync = :sync, skey = :key, #status = :pending${req.retried ? ', attention = :attention' : ''}`,
                'leaseToken = :token, leaseUntil = :until, pendingVersion = :v, pendingHash = :h, runId = :run',
                'attempts = if_not_exists(attempts, :zero), createdAt = if_not_exists(createdAt, :iso), updatedAt = :iso',
              ].join(', ') +
              // A first delivery's claim stays out of the attention index (no index write on the
              // happy path); a key that was failed or dead leaves it.
              (req.retried ? '' : ' REMOVE attention'),
            ExpressionAttributeNames: {
              '#sync': 'sync',
              '#status': 'status',
              '#version': 'version',
              ...(req.repair ? {} : { '#hash': 'hash' }),
            },
            ExpressionAttributeValues: {
              ':sync': S(req.sync),
              ':key': S(req.key),
              ':pending': S('pending'),
              // DynamoDB refuses names and values no expression uses.
              ...(req.repair ? {} : { ':ok': S('ok') }),
              ...(req.retried ? { ':attention': S(attentionKey(req.sync, 'pending')) } : {}),
              ':token': S(req.token),
              ':until': N(req.now + req.leaseMs),
              ':now': N(req.now),
              ':v': N(req.version),
              ':h': S(req.hash),
              ':run': S(req.runId),
              ':zero': N(0),
              ':iso': S(new Date(req.now).toISOString()),
            },
            ReturnValues: 'ALL_OLD',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { outcome: 'claimed', previous: res.Attributes ? toLink(res.Attributes) : undefined };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      // The item as the condition saw it; dynalite returns none: re-read to learn why.
      const returned = (err as { Item?: Record<string, AttributeValue> }).Item;
      const link = returned ? toLink(returned) : await this.get(req.sync, req.key);
      const newest = newestVersion(link);
      if (link && newest !== undefined && newest > BigInt(req.version)) return { outcome: 'stale', link };
      if (!req.repair && link?.status === 'ok' && link.hash === req.hash)
        return { outcome: 'unchanged', link };
      return { outcome: 'busy', link };
    }
  }

  /**
   * Moves a committed link's version forward when a newer source version carries the content the
   * target already holds (for a deleted record: a newer delete), so that any older message still
   * queued (a different content read in between: A → B → A) is stale from now on. Conditional on
   * the link being committed (`ok` or `deleted`) with exactly this content, older than this
   * version and not claimed. False when the link changed since it was read (a writer claimed or
   * committed something else): the content is then *not* known to be in the target, and the
   * caller must write it (claim it, or send the row) instead of calling it unchanged.
   */
  public async touchVersion(args: TouchVersionRequest): Promise<boolean> {
    return this.conditionalUpdate({
      TableName: this.table,
      Key: { pk: DynamoLinkStore.pk(args.sync, args.key) },
      ConditionExpression:
        // No version: a two-way pair's link to a record the other direction created (never written here).
        '(#status = :ok OR #status = :deleted) AND #hash = :h AND (attribute_not_exists(#version) OR #version < :v) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
      UpdateExpression: 'SET #version = :v',
      ExpressionAttributeNames: { '#status': 'status', '#hash': 'hash', '#version': 'version' },
      ExpressionAttributeValues: {
        ':ok': S('ok'),
        ':deleted': S('deleted'),
        ':h': S(args.hash),
        ':v': N(args.version),
        ':now': N(args.now),
      },
    });
  }

  /** Marks the write done; false when our lease was lost (another writer took over). */
  public async commit(args: CommitRequest): Promise<boolean> {
    return this.conditionalUpdate({
      TableName: this.table,
      Key: { pk: DynamoLinkStore.pk(args.sync, args.key) },
      ConditionExpression: 'leaseToken = :token',
      UpdateExpression:
        'SET #status = :ok, targetId = :tid, targetRef = :ref, #hash = :h, #version = :v, attempts = :zero, updatedAt = :iso' +
        (args.associatedWith ? ', associatedWith = :assoc ' : ' ') +
        'REMOVE leaseToken, leaseUntil, attention, lastError, pendingVersion, pendingHash, redrives',
      ExpressionAttributeNames: { '#status': 'status', '#hash': 'hash', '#version': 'version' },
      ExpressionAttributeValues: {
        ':token': S(args.token),
        ':ok': S('ok'),
        ':tid': S(args.targetId),
        ':ref': S(targetRef(args.sync, args.targetId)),
        ':h': S(args.hash),
        ':v': N(args.version),
        ':zero': N(0),
        ':iso': S(new Date(args.now).toISOString()),
        ...(args.associatedWith ? { ':assoc': S(args.associatedWith) } : {}),
      },
    });
  }

  /** Marks a record deleted in the target (its soft-deleted source row), conditional on the lease. */
  public async commitDeleted(args: CommitDeletedRequest): Promise<boolean> {
    return this.conditionalUpdate({
      TableName: this.table,
      Key: { pk: DynamoLinkStore.pk(args.sync, args.key) },
      ConditionExpression: 'leaseToken = :token',
      UpdateExpression:
        'SET #status = :deleted, #hash = :h, #version = :v, attempts = :zero, updatedAt = :iso ' +
        'REMOVE leaseToken, leaseUntil, attention, lastError, pendingVersion, pendingHash, redrives',
      ExpressionAttributeNames: { '#status': 'status', '#hash': 'hash', '#version': 'version' },
      ExpressionAttributeValues: {
        ':token': S(args.token),
        ':deleted': S('deleted'),
        ':h': S(DELETED_HASH),
        ':v': N(args.version),
        ':zero': N(0),
        ':iso': S(new Date(args.now).toISOString()),
      },
    });
  }

  /** Records a failed attempt and releases the lease; false when the lease was lost. */
  public async recordFailure(args: FailureRequest): Promise<boolean> {
    const at = new Date(args.now).toISOString();
    return this.conditionalUpdate({
      TableName: this.table,
      Key: { pk: DynamoLinkStore.pk(args.sync, args.key) },
      ConditionExpression: 'leaseToken = :token',
      UpdateExpression:
        'SET #status = :status, attention = :attention, lastError = :err, attempts = if_not_exists(attempts, :zero) + :one, updatedAt = :iso ' +
        'REMOVE leaseToken, leaseUntil',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':token': S(args.token),
        ':status': S(args.status),
        ':attention': S(attentionKey(args.sync, args.status)),
        ':err': S(JSON.stringify({ ...boundedError(args.error), at })),
        ':zero': N(0),
        ':one': N(1),
        ':iso': S(at),
      },
    });
  }

  /**
   * Source keys of the links whose target record has this id, from the `byTarget` index (normally
   * one; more would mean two keys claim one target record). The index is eventually consistent:
   * read the links themselves for their current state.
   */
  public async keysByTarget(sync: string, targetId: string): Promise<string[]> {
    const keys: string[] = [];
    await this.query(
      {
        IndexName: LINKS_TABLE.targetIndex.name,
        KeyConditionExpression: '#ref = :ref',
        ExpressionAttributeNames: { '#ref': LINKS_TABLE.targetIndex.partitionKey },
        ExpressionAttributeValues: { ':ref': S(targetRef(sync, targetId)) },
        ProjectionExpression: 'skey',
      },
      (items) => {
        for (const item of items) {
          const key = str(item, 'skey');
          if (key !== undefined) keys.push(key);
        }
        return true;
      },
    );
    return keys;
  }

  /**
   * Links that need attention (every status but ok), newest first, from the sparse index;
   * with `updatedBefore`, only those last touched before that time (ISO 8601).
   */
  public async listByStatus(
    sync: string,
    status: Exclude<LinkStatus, 'ok'>,
    limit = 1000,
    updatedBefore?: string,
  ): Promise<Link[]> {
    const out: Link[] = [];
    await this.query(
      {
        IndexName: LINKS_TABLE.attentionIndex.name,
        KeyConditionExpression: updatedBefore === undefined ? '#a = :a' : '#a = :a AND #updatedAt < :before',
        ExpressionAttributeNames: {
          '#a': LINKS_TABLE.attentionIndex.partitionKey,
          ...(updatedBefore === undefined ? {} : { '#updatedAt': LINKS_TABLE.attentionIndex.sortKey }),
        },
        ExpressionAttributeValues: {
          ':a': S(attentionKey(sync, status)),
          ...(updatedBefore === undefined ? {} : { ':before': S(updatedBefore) }),
        },
        ScanIndexForward: false,
        Limit: this.pageLimit(limit),
      },
      (items) => {
        out.push(...items.map(toLink));
        return out.length < limit;
      },
    );
    return out.slice(0, limit);
  }

  /** Source keys of a sync's links with this status, newest first (the sparse index), up to `limit`. */
  public async keysByStatus(
    sync: string,
    status: Exclude<LinkStatus, 'ok'>,
    limit: number,
  ): Promise<string[]> {
    const keys: string[] = [];
    if (limit <= 0) return keys;
    await this.query(
      {
        IndexName: LINKS_TABLE.attentionIndex.name,
        KeyConditionExpression: '#a = :a',
        ExpressionAttributeNames: { '#a': LINKS_TABLE.attentionIndex.partitionKey },
        ExpressionAttributeValues: { ':a': S(attentionKey(sync, status)) },
        ProjectionExpression: 'skey',
        ScanIndexForward: false,
        Limit: this.pageLimit(limit),
      },
      (items) => {
        for (const item of items) {
          const key = str(item, 'skey');
          if (key !== undefined) keys.push(key);
        }
        return keys.length < limit;
      },
    );
    return keys.slice(0, limit);
  }

  /** When the least recently touched link of a sync with this status was touched (ISO 8601), from the sparse index. */
  public async oldestUpdate(sync: string, status: Exclude<LinkStatus, 'ok'>): Promise<string | undefined> {
    let oldest: string | undefined;
    await this.query(
      {
        IndexName: LINKS_TABLE.attentionIndex.name,
        KeyConditionExpression: '#a = :a',
        ExpressionAttributeNames: {
          '#a': LINKS_TABLE.attentionIndex.partitionKey,
          '#u': LINKS_TABLE.attentionIndex.sortKey,
        },
        ExpressionAttributeValues: { ':a': S(attentionKey(sync, status)) },
        ProjectionExpression: '#u',
        ScanIndexForward: true,
        Limit: 1,
      },
      (items) => {
        oldest = items[0] ? str(items[0], LINKS_TABLE.attentionIndex.sortKey) : undefined;
        return false;
      },
    );
    return oldest;
  }

  /** How many links of a sync have this status (a COUNT query on the sparse attention index). */
  public async countByStatus(sync: string, status: Exclude<LinkStatus, 'ok'>): Promise<number> {
    let count = 0;
    await this.query(
      {
        IndexName: LINKS_TABLE.attentionIndex.name,
        KeyConditionExpression: '#a = :a',
        ExpressionAttributeNames: { '#a': LINKS_TABLE.attentionIndex.partitionKey },
        ExpressionAttributeValues: { ':a': S(attentionKey(sync, status)) },
        Select: 'COUNT',
        ...(this.pageSize !== undefined ? { Limit: this.pageSize } : {}),
      },
      (_items, page) => {
        count += page.Count ?? 0;
        return true;
      },
    );
    return count;
  }

  /**
   * Counts every link by sync and status, and by the run that last wrote it, in one parallel scan
   * that projects four small attributes. `ok` links carry no `attention` attribute (the sparse index
   * only holds links that need a look), so counting them needs the scan: its cost grows with the
   * table (about 1 read unit per 8 KB scanned), which is why `status --fast` skips it.
   */
  public async census(opts: CensusOptions = {}): Promise<Map<string, SyncCensus>> {
    const tally = censusTally(opts);
    let scanned = 0;
    const pages = parallelScan(
      this.ddb,
      {
        TableName: this.table,
        ProjectionExpression: '#sync, #status, runId, createdAt',
        ExpressionAttributeNames: { '#sync': 'sync', '#status': 'status' },
      },
      { segments: opts.segments ?? SCAN_SEGMENTS, pageSize: this.pageSize },
    );
    for await (const page of this.guarded(pages)) {
      for (const item of page.Items ?? []) {
        tally.add({
          sync: str(item, 'sync'),
          status: str(item, 'status'),
          runId: str(item, 'runId'),
          createdAt: str(item, 'createdAt'),
        });
      }
      scanned += page.ScannedCount ?? 0;
      opts.onProgress?.(scanned);
    }
    return tally.result;
  }

  /**
   * Every link of one sync, by a parallel Scan filtered on the sync: a verification reads them all
   * once, which costs the same as reading the table and needs no extra index written on every update.
   */
  public async *scan(sync: string): AsyncIterable<LinkSummary> {
    const pages = parallelScan(
      this.ddb,
      {
        TableName: this.table,
        FilterExpression: '#sync = :sync',
        ProjectionExpression: 'skey, #status, targetId, #hash, updatedAt, version, attempts, lastError',
        ExpressionAttributeNames: { '#sync': 'sync', '#status': 'status', '#hash': 'hash' },
        ExpressionAttributeValues: { ':sync': S(sync) },
      },
      { segments: SCAN_SEGMENTS, pageSize: this.pageSize },
    );
    for await (const page of this.guarded(pages)) yield* (page.Items ?? []).map(toLinkSummary);
  }

  /**
   * Records that redriveFailed re-enqueued this key: status retrying, one more redrive. Conditional
   * on the item being exactly as it was read (same status and updatedAt, no live lease), so a
   * writer that moved on meanwhile wins; false then.
   */
  public async markRedriven(args: RedriveRequest): Promise<boolean> {
    const iso = new Date(args.now).toISOString();
    return this.conditionalUpdate({
      TableName: this.table,
      Key: { pk: DynamoLinkStore.pk(args.sync, args.key) },
      ConditionExpression:
        '#status = :seenStatus AND updatedAt = :seenAt AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
      UpdateExpression:
        'SET #status = :retrying, attention = :attention, redrives = if_not_exists(redrives, :zero) + :one, ' +
        'redrivenAt = :iso, updatedAt = :iso, runId = :run REMOVE leaseToken, leaseUntil',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':seenStatus': S(args.seen.status),
        ':seenAt': S(args.seen.updatedAt ?? ''),
        ':now': N(args.now),
        ':retrying': S('retrying'),
        ':attention': S(attentionKey(args.sync, 'retrying')),
        ':zero': N(0),
        ':one': N(1),
        ':iso': S(iso),
        ':run': S(args.runId),
      },
    });
  }

  /**
   * Follows a Query on the link table with the SDK's paginator, handing each page's items to
   * `onPage`; stops when it returns false (a limit reached) or the pages run out.
   */
  private async query(
    input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
    onPage: (
      items: readonly Record<string, AttributeValue>[],
      page: { readonly Count?: number | undefined },
    ) => boolean,
  ): Promise<void> {
    const pages = paginateQuery({ client: this.ddb }, { ...input, TableName: this.table });
    for await (const page of this.guarded(pages)) {
      if (!onPage(page.Items ?? [], page)) return;
    }
  }

  /** The pages of a paginator, its failures translated by guard; a reader that stops early stops it. */
  private async *guarded<T>(pages: AsyncGenerator<T>): AsyncGenerator<T> {
    try {
      for (;;) {
        const next = await this.guard(() => pages.next());
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await pages.return(undefined);
    }
  }

  /** A Query's Limit for a read that stops at `limit` items. */
  private pageLimit(limit: number): number {
    return Math.max(1, Math.min(limit, this.pageSize ?? MAX_QUERY_PAGE));
  }

  /** One conditional UpdateItem: true when written, false when its condition did not hold. */
  private async conditionalUpdate(
    input: ConstructorParameters<typeof UpdateItemCommand>[0],
  ): Promise<boolean> {
    try {
      await this.guard(() => this.ddb.send(new UpdateItemCommand(input)));
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  /** Translates transport failures into one error type so callers can abort before any target write. */
  private async guard<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (isConditionFailed(err)) throw err;
      const name = (err as Error)?.name ?? '';
      if (/Throttl|ProvisionedThroughput|RequestLimit/.test(name)) throw err;
      throw new LinkStoreUnavailableError(`link store ${this.table} unavailable: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

/** The most of a failure's message a link keeps (UTF-8 bytes); the rest is cut with a marker. */
export const MAX_ERROR_MESSAGE_BYTES = 4096;
const MAX_ERROR_CODE_CHARS = 200;

/**
 * A failure as a link keeps it: the code, the HTTP status, and the message cut to 4 KB, so that no
 * answer of a target (an HTML error page, a 1 MB validation report) can push the item past
 * DynamoDB's 400 KB. The cut ends with `… [truncated, <n> bytes]`.
 */
export function boundedError<E extends { code: string; message: string }>(error: E): E {
  const code =
    error.code.length > MAX_ERROR_CODE_CHARS ? error.code.slice(0, MAX_ERROR_CODE_CHARS) : error.code;
  return { ...error, code, message: truncateUtf8(error.message, MAX_ERROR_MESSAGE_BYTES) };
}

function toLink(item: Record<string, AttributeValue>): Link {
  const lastError = str(item, 'lastError');
  const associatedWith = str(item, 'associatedWith');
  return {
    ...(associatedWith ? { associatedWith } : {}),
    sync: str(item, 'sync') ?? '',
    key: str(item, 'skey') ?? '',
    status: (str(item, 'status') ?? 'pending') as LinkStatus,
    targetId: str(item, 'targetId'),
    hash: str(item, 'hash'),
    version: numText(item, 'version'),
    pendingVersion: numText(item, 'pendingVersion'),
    pendingHash: str(item, 'pendingHash'),
    attempts: num(item, 'attempts') ?? 0,
    lastError: lastError ? (JSON.parse(lastError) as LinkError) : undefined,
    leaseToken: str(item, 'leaseToken'),
    leaseUntil: num(item, 'leaseUntil'),
    runId: str(item, 'runId'),
    redrives: num(item, 'redrives') ?? 0,
    createdAt: str(item, 'createdAt'),
    updatedAt: str(item, 'updatedAt'),
  };
}

function toLinkSummary(item: Record<string, AttributeValue>): LinkSummary {
  return {
    key: str(item, 'skey') ?? '',
    status: str(item, 'status') ?? '',
    targetId: str(item, 'targetId'),
    hash: str(item, 'hash'),
    updatedAt: str(item, 'updatedAt'),
    version: numText(item, 'version'),
    attempts: num(item, 'attempts') ?? 0,
    lastError: str(item, 'lastError'),
  };
}

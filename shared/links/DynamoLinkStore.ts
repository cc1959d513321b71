import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { LinkStoreUnavailableError } from '../errors.ts';
import { LINKS_TABLE } from '../state/tableDefinitions.ts';
import { isConditionFailed, N, num, numText, S, str } from '../util/attr.ts';
import type { Link, LinkError, LinkStatus } from './Link.ts';

export type ClaimResult =
  | { readonly outcome: 'claimed'; readonly link: Link }
  /** The link already holds a newer source version: the message is stale. */
  | { readonly outcome: 'stale'; readonly link: Link }
  /** Another writer holds a live lease on this key: back off and retry. */
  | { readonly outcome: 'busy'; readonly link: Link | undefined };

export interface ClaimRequest {
  readonly sync: string;
  readonly key: string;
  readonly version: string;
  readonly hash: string;
  readonly token: string;
  readonly runId: string;
  readonly now: number;
  readonly leaseMs: number;
}

const BATCH_GET_MAX = 100;

/**
 * The link table in DynamoDB. Every state change is a single-item conditional write, which is
 * what makes duplicate and concurrent deliveries harmless: the condition decides, not the caller.
 */
export class DynamoLinkStore {
  private readonly ddb: DynamoDBClient;
  private readonly table: string;

  public constructor(ddb: DynamoDBClient, table: string) {
    this.ddb = ddb;
    this.table = table;
  }

  private static pk(sync: string, key: string): AttributeValue {
    return S(`${sync}#${key}`);
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

  /** Reads many links at once (100 per call, unprocessed keys retried). */
  public async batchGet(sync: string, keys: readonly string[]): Promise<Map<string, Link>> {
    const out = new Map<string, Link>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += BATCH_GET_MAX) {
      let request: Record<string, { Keys: Record<string, AttributeValue>[] }> | undefined = {
        [this.table]: {
          Keys: unique.slice(i, i + BATCH_GET_MAX).map((k) => ({ pk: DynamoLinkStore.pk(sync, k) })),
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
    }
    return out;
  }

  /**
   * Claims a key for writing: records the intent (status pending, version, hash) and a lease.
   * Succeeds only when no live lease exists and the stored version is not newer.
   */
  public async claim(req: ClaimRequest): Promise<ClaimResult> {
    try {
      const res = await this.guard(() =>
        this.ddb.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { pk: DynamoLinkStore.pk(req.sync, req.key) },
            ConditionExpression: [
              'attribute_not_exists(pk)',
              // Both must hold: nobody else is writing, and we are not older than what the target has.
              '((attribute_not_exists(leaseUntil) OR leaseUntil < :now) AND (attribute_not_exists(version) OR version <= :v))',
            ].join(' OR '),
            UpdateExpression: [
              'SET #sync = :sync, skey = :key, #status = :pending, attention = :attention',
              'leaseToken = :token, leaseUntil = :until, pendingVersion = :v, pendingHash = :h, runId = :run',
              'attempts = if_not_exists(attempts, :zero), createdAt = if_not_exists(createdAt, :iso), updatedAt = :iso',
            ].join(', '),
            ExpressionAttributeNames: { '#sync': 'sync', '#status': 'status' },
            ExpressionAttributeValues: {
              ':sync': S(req.sync),
              ':key': S(req.key),
              ':pending': S('pending'),
              ':attention': S(`${req.sync}#pending`),
              ':token': S(req.token),
              ':until': N(req.now + req.leaseMs),
              ':now': N(req.now),
              ':v': N(req.version),
              ':h': S(req.hash),
              ':run': S(req.runId),
              ':zero': N(0),
              ':iso': S(new Date(req.now).toISOString()),
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return { outcome: 'claimed', link: toLink(res.Attributes!) };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      // Emulators and some SDK paths return no item on a failed condition: re-read to learn why.
      const link = await this.get(req.sync, req.key);
      if (link?.version !== undefined && BigInt(link.version) > BigInt(req.version))
        return { outcome: 'stale', link };
      return { outcome: 'busy', link };
    }
  }

  /** Marks the write done; false when our lease was lost (another writer took over). */
  public async commit(args: {
    sync: string;
    key: string;
    token: string;
    targetId: string;
    hash: string;
    version: string;
    now: number;
  }): Promise<boolean> {
    try {
      await this.guard(() =>
        this.ddb.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { pk: DynamoLinkStore.pk(args.sync, args.key) },
            ConditionExpression: 'leaseToken = :token',
            UpdateExpression:
              'SET #status = :ok, targetId = :tid, targetRef = :ref, #hash = :h, version = :v, attempts = :zero, updatedAt = :iso ' +
              'REMOVE leaseToken, leaseUntil, attention, lastError, pendingVersion, pendingHash',
            ExpressionAttributeNames: { '#status': 'status', '#hash': 'hash' },
            ExpressionAttributeValues: {
              ':token': S(args.token),
              ':ok': S('ok'),
              ':tid': S(args.targetId),
              ':ref': S(`${args.sync}#${args.targetId}`),
              ':h': S(args.hash),
              ':v': N(args.version),
              ':zero': N(0),
              ':iso': S(new Date(args.now).toISOString()),
            },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  /** Records a failed attempt and releases the lease; false when the lease was lost. */
  public async recordFailure(args: {
    sync: string;
    key: string;
    token: string;
    status: Exclude<LinkStatus, 'ok' | 'pending'>;
    error: Omit<LinkError, 'at'>;
    now: number;
  }): Promise<boolean> {
    const at = new Date(args.now).toISOString();
    try {
      await this.guard(() =>
        this.ddb.send(
          new UpdateItemCommand({
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
              ':attention': S(`${args.sync}#${args.status}`),
              ':err': S(JSON.stringify({ ...args.error, at })),
              ':zero': N(0),
              ':one': N(1),
              ':iso': S(at),
            },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  /** Links that need attention (every status but ok), newest first, from the sparse index. */
  public async listByStatus(sync: string, status: Exclude<LinkStatus, 'ok'>, limit = 1000): Promise<Link[]> {
    const out: Link[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const res = await this.guard(() =>
        this.ddb.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: LINKS_TABLE.attentionIndex.name,
            KeyConditionExpression: 'attention = :a',
            ExpressionAttributeValues: { ':a': S(`${sync}#${status}`) },
            ScanIndexForward: false,
            ExclusiveStartKey: start,
          }),
        ),
      );
      out.push(...(res.Items ?? []).map(toLink));
      start = res.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out.slice(0, limit);
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

function toLink(item: Record<string, AttributeValue>): Link {
  const lastError = str(item, 'lastError');
  return {
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
    createdAt: str(item, 'createdAt'),
    updatedAt: str(item, 'updatedAt'),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

import { type AttributeValue, type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { isConditionFailed, N, num, S, str } from '../util/attr.ts';
import { batchGetItems } from '../util/batchGetItems.ts';
import type { AuthOutage, AuthRefusal, RunGate, TargetCallStats, TargetHealthStore } from './LinkStore.ts';

/** Length of one bucket; a window is read as the buckets it overlaps. */
const BUCKET_MS = 15_000;
/** Buckets are only read for minutes; let TTL (set in the CDK table) remove them after a day. */
const RETENTION_SECONDS = 86_400;
/** An auth outage nobody refreshed or cleared for a week is forgotten (TTL). */
const AUTH_RETENTION_SECONDS = 7 * 86_400;
/**
 * A writer that keeps succeeding clears an auth outage at most this often: one conditional write
 * per container per minute, not one per batch. A refusal recorded by the same store resets it.
 */
const CLEAR_EVERY_MS = 60_000;

/**
 * Target call outcomes per sync, in time buckets kept in the link table (`~health#<sync>#<bucket>`:
 * sync names start with a letter, so no link key can collide). Writers add to the current
 * bucket once per batch (one unconditional write); the extract sums the buckets of a window to
 * decide whether the target is down (see checkTargetHealth).
 *
 * Beside the buckets, one item per sync (`~health#<sync>#auth`) holds an open auth outage: the
 * target refused the connection's credentials even after a writer re-read its secret. It is
 * opened (or refreshed) by every refused batch and cleared by the first call that goes through
 * again, and read together with the buckets (same BatchGetItem).
 */
export class DynamoTargetHealthStore implements TargetHealthStore {
  private readonly ddb: DynamoDBClient;
  private readonly table: string;
  /** When this store last cleared (or found nothing to clear of) each sync's auth outage. */
  private readonly clearedAt = new Map<string, number>();

  public constructor(ddb: DynamoDBClient, table: string) {
    this.ddb = ddb;
    this.table = table;
  }

  private static pk(sync: string, bucket: number): Record<string, AttributeValue> {
    return { pk: S(`~health#${sync}#${bucket}`) };
  }

  /** The sync's auth outage item (no bucket is called `auth`). */
  private static authPk(sync: string): Record<string, AttributeValue> {
    return gateKeys(sync)[0]!;
  }

  /** The sync's redrive flag (`~health#<sync>#redrive`): when the extract should next look for links to redrive. */
  private static redrivePk(sync: string): Record<string, AttributeValue> {
    return gateKeys(sync)[1]!;
  }

  /**
   * What a run must know before it can call itself quiet, in one strongly consistent BatchGetItem:
   * whether links are flagged for a redrive (and from when), and an open auth outage.
   */
  public async readGate(sync: string): Promise<RunGate> {
    const { items, unread } = await batchGetItems(this.ddb, {
      [this.table]: { Keys: gateKeys(sync), ConsistentRead: true },
    });
    return gateOf(sync, items[this.table] ?? [], unread !== undefined);
  }

  /**
   * Flags links for the extract's redrive from `dueAt` on: kept when an earlier time is already
   * set, replaced when the flag is due already (a run may be redriving now, from a listing that
   * did not see this link: its own update of the flag then fails its condition and leaves ours).
   */
  public async flagRedrive(sync: string, dueAt: number, now: number): Promise<void> {
    try {
      await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: DynamoTargetHealthStore.redrivePk(sync),
          ConditionExpression: 'attribute_not_exists(dueAt) OR dueAt > :due OR dueAt <= :now',
          UpdateExpression: 'SET dueAt = :due',
          ExpressionAttributeValues: { ':due': N(dueAt), ':now': N(now) },
        }),
      );
    } catch (err) {
      // An earlier time is set: it stays.
      if (!isConditionFailed(err)) throw err;
    }
  }

  /**
   * The extract, after a redrive: the flag moves to when the next link becomes due (`next`), or is
   * removed when none will, only if it still holds what the run read (`seen`); a writer that
   * flagged in between wins.
   */
  public async settleRedrive(
    sync: string,
    seen: number | undefined,
    next: number | undefined,
  ): Promise<void> {
    if (seen === next) return;
    try {
      await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: DynamoTargetHealthStore.redrivePk(sync),
          // seen 0: no flag item was there (or one without a time): still none, or still 0.
          ConditionExpression:
            seen === undefined
              ? 'attribute_not_exists(dueAt)'
              : seen === 0
                ? 'attribute_not_exists(dueAt) OR dueAt = :seen'
                : 'dueAt = :seen',
          UpdateExpression: next === undefined ? 'REMOVE dueAt' : 'SET dueAt = :next',
          ...(seen === undefined && next === undefined
            ? {}
            : {
                ExpressionAttributeValues: {
                  ...(seen === undefined ? {} : { ':seen': N(seen) }),
                  ...(next === undefined ? {} : { ':next': N(next) }),
                },
              }),
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  /** Adds one batch's counts to the current bucket. */
  public async record(
    sync: string,
    now: number,
    stats: { calls: number; failedCalls: number; lagMs?: number | undefined },
  ): Promise<void> {
    const bucket = Math.floor(now / BUCKET_MS) * BUCKET_MS;
    const lag = stats.lagMs === undefined ? '' : ', lagMs = :lag, lagAt = :now';
    await this.ddb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: DynamoTargetHealthStore.pk(sync, bucket),
        UpdateExpression: `ADD calls :c, failedCalls :f SET expiresAt = :exp${lag}`,
        ExpressionAttributeValues: {
          ':c': N(stats.calls),
          ':f': N(stats.failedCalls),
          ':exp': N(Math.floor(now / 1000) + RETENTION_SECONDS),
          ...(stats.lagMs === undefined ? {} : { ':lag': N(Math.round(stats.lagMs)), ':now': N(now) }),
        },
      }),
    );
  }

  /** Sums the buckets overlapping `[now - windowMs, now]`; reads the auth outage item in the same call. */
  public async read(sync: string, now: number, windowMs: number): Promise<TargetCallStats> {
    const keys: Record<string, AttributeValue>[] = [DynamoTargetHealthStore.authPk(sync)];
    for (let b = Math.floor((now - windowMs) / BUCKET_MS) * BUCKET_MS; b <= now; b += BUCKET_MS)
      keys.push(DynamoTargetHealthStore.pk(sync, b));
    let calls = 0;
    let failedCalls = 0;
    let lag: { ms: number; at: number } | undefined;
    let auth: AuthOutage | undefined;
    const { items } = await batchGetItems(this.ddb, { [this.table]: { Keys: keys } });
    for (const item of items[this.table] ?? []) {
      if (str(item, 'pk') === DynamoTargetHealthStore.authPk(sync).pk!.S) {
        auth = authOutage(item);
        continue;
      }
      calls += num(item, 'calls') ?? 0;
      failedCalls += num(item, 'failedCalls') ?? 0;
      const ms = num(item, 'lagMs');
      const at = num(item, 'lagAt');
      if (ms !== undefined && at !== undefined && at >= now - windowMs && (!lag || at > lag.at))
        lag = { ms, at };
    }
    return { calls, failedCalls, lagMs: lag?.ms, ...(auth ? { auth } : {}) };
  }

  /** Opens the sync's auth outage, or refreshes it: `since` keeps the first refusal, the rest the latest. */
  public async recordAuthRefusal(sync: string, now: number, refusal: AuthRefusal): Promise<void> {
    this.clearedAt.delete(sync);
    await this.ddb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: DynamoTargetHealthStore.authPk(sync),
        UpdateExpression:
          'SET #since = if_not_exists(#since, :now), #lastAt = :now, #code = :code, #message = :message, ' +
          '#connection = :connection, #secret = :secret, expiresAt = :exp' +
          (refusal.httpStatus === undefined ? ' REMOVE #httpStatus' : ', #httpStatus = :status'),
        ExpressionAttributeNames: { ...AUTH_NAMES },
        ExpressionAttributeValues: {
          ':now': N(now),
          ':code': S(refusal.code),
          ':message': S(refusal.message.slice(0, 1000)),
          ':connection': S(refusal.connection),
          ':secret': S(refusal.secret),
          ':exp': N(Math.floor(now / 1000) + AUTH_RETENTION_SECONDS),
          ...(refusal.httpStatus === undefined ? {} : { ':status': N(refusal.httpStatus) }),
        },
      }),
    );
  }

  /**
   * Ends an open auth outage whose last refusal came before `now` (a call that started later went
   * through). Conditional, so that a sync without an outage gets no item; at most once a minute per
   * sync from one store, unless this store recorded a refusal since.
   */
  public async clearAuthRefusal(sync: string, now: number): Promise<void> {
    const last = this.clearedAt.get(sync);
    if (last !== undefined && now - last < CLEAR_EVERY_MS) return;
    try {
      await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: DynamoTargetHealthStore.authPk(sync),
          ConditionExpression: 'attribute_exists(#since) AND #lastAt < :now',
          UpdateExpression:
            'REMOVE #since, #lastAt, #code, #message, #connection, #secret, #httpStatus SET okAt = :now',
          ExpressionAttributeNames: { ...AUTH_NAMES },
          ExpressionAttributeValues: { ':now': N(now) },
        }),
      );
    } catch (err) {
      // Nothing open (or refused again since this call started): nothing to clear.
      if (!isConditionFailed(err)) throw err;
    }
    this.clearedAt.set(sync, now);
  }
}

/**
 * The keys of what a run must know before it can call itself quiet (readGate), in the link table:
 * the sync's auth outage item, then its redrive flag.
 */
export function gateKeys(sync: string): Record<string, AttributeValue>[] {
  return [{ pk: S(`~health#${sync}#auth`) }, { pk: S(`~health#${sync}#redrive`) }];
}

/**
 * The gate from the items of gateKeys that a strongly consistent read found. `unread`: some keys
 * stayed unprocessed; the run then looks for links to redrive, as if flagged (a missed redrive
 * would be worse than one more listing).
 */
export function gateOf(
  sync: string,
  items: readonly Record<string, AttributeValue>[],
  unread: boolean,
): RunGate {
  const authPk = gateKeys(sync)[0]!.pk!.S;
  // No flag item at all (a sync that never settled one, a store from before the flag): due.
  let redriveDueAt: number | undefined = 0;
  let auth: AuthOutage | undefined;
  for (const item of items) {
    if (str(item, 'pk') === authPk) auth = authOutage(item);
    else redriveDueAt = num(item, 'dueAt');
  }
  return { redriveDueAt: unread ? 0 : redriveDueAt, ...(auth ? { auth } : {}) };
}

/** Attribute names of the auth outage item (some are DynamoDB reserved words). */
const AUTH_NAMES = {
  '#since': 'since',
  '#lastAt': 'lastAt',
  '#code': 'code',
  '#message': 'message',
  '#connection': 'connection',
  '#secret': 'secret',
  '#httpStatus': 'httpStatus',
} as const;

/** The outage an auth item holds; undefined when it was cleared (or never opened). */
function authOutage(item: Record<string, AttributeValue>): AuthOutage | undefined {
  const since = num(item, 'since');
  const lastAt = num(item, 'lastAt');
  if (since === undefined || lastAt === undefined) return undefined;
  const httpStatus = num(item, 'httpStatus');
  return {
    since,
    lastAt,
    code: str(item, 'code') ?? 'unknown',
    message: str(item, 'message') ?? '',
    connection: str(item, 'connection') ?? 'unknown',
    secret: str(item, 'secret') ?? 'unknown',
    ...(httpStatus === undefined ? {} : { httpStatus }),
  };
}

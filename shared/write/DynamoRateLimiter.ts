import { setTimeout as sleep } from 'node:timers/promises';
import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { isConditionFailed, N, num, S } from '../util/attr.ts';
import type { RateLimit, RateSlot, SharedRateLimiter } from './SharedRateLimiter.ts';

const MAX_CONFLICTS = 20;

/**
 * A shared pacer for one connection's target calls, in one DynamoDB item (`~rate#<name>` in the
 * link table). It is GCRA without burst: the item holds the time the next call may start (`tat`);
 * each acquire moves it one interval on with a conditional write (optimistic; re-read on
 * conflict) and waits until its slot. A 429 pushes `tat` to the end of its Retry-After, so every
 * writer slows down, not only the one that was refused. Pacing (rather than bursting up to the
 * vendor's window) keeps a rolling-window limit such as HubSpot's 100 per 10 s from answering 429.
 */
export class DynamoRateLimiter implements SharedRateLimiter {
  private readonly ddb: DynamoDBClient;
  private readonly table: string;
  private readonly name: string;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private known: number | undefined;

  public constructor(
    ddb: DynamoDBClient,
    table: string,
    name: string,
    limit: RateLimit,
    now: () => number = Date.now,
  ) {
    this.ddb = ddb;
    this.table = table;
    this.name = name;
    this.intervalMs = limit.perMs / (limit.requests * (limit.utilisation ?? 0.95));
    this.now = now;
  }

  public async acquire(maxWaitMs: number): Promise<RateSlot> {
    for (let conflict = 0; conflict < MAX_CONFLICTS; conflict++) {
      const current = this.known ?? (await this.read());
      const now = this.now();
      const slot = Math.max(current ?? 0, now);
      if (slot - now > maxWaitMs) {
        this.known = undefined;
        return { ok: false, retryAfterSeconds: Math.ceil((slot - now) / 1000) };
      }
      // Whole milliseconds keep the stored number and the condition's comparison exact.
      const next = Math.round(slot + this.intervalMs);
      if (await this.swap(current, next)) {
        this.known = next;
        const wait = slot - now;
        if (wait > 0) await sleep(wait);
        return { ok: true, waitedMs: wait };
      }
      this.known = undefined;
    }
    // Heavy contention: let the record come back later rather than spin.
    return { ok: false, retryAfterSeconds: 1 };
  }

  public async backOff(seconds: number): Promise<void> {
    const until = Math.round(this.now() + seconds * 1000);
    try {
      await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: this.key(),
          ConditionExpression: 'attribute_not_exists(tat) OR tat < :until',
          UpdateExpression: 'SET tat = :until',
          ExpressionAttributeValues: { ':until': N(until) },
        }),
      );
    } catch (err) {
      // Someone already pushed the next slot further out: nothing to do.
      if (!isConditionFailed(err)) throw err;
    }
    this.known = undefined;
  }

  private key() {
    return { pk: S(`~rate#${this.name}`) };
  }

  private async read(): Promise<number | undefined> {
    const { Item } = await this.ddb.send(
      new GetItemCommand({ TableName: this.table, Key: this.key(), ConsistentRead: true }),
    );
    return num(Item, 'tat');
  }

  /** Moves `tat` from `expected` (undefined: not set yet) to `next`; false when another writer moved it first. */
  private async swap(expected: number | undefined, next: number): Promise<boolean> {
    try {
      await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: this.key(),
          ConditionExpression: expected === undefined ? 'attribute_not_exists(tat)' : 'tat = :expected',
          UpdateExpression: 'SET tat = :next',
          ExpressionAttributeValues: {
            ':next': N(next),
            ...(expected === undefined ? {} : { ':expected': N(expected) }),
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }
}

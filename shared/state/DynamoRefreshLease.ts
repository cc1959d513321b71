import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { RefreshLease } from '../oauth/RefreshLease.ts';
import { isConditionFailed, N, S } from '../util/attr.ts';
import { STATE_TABLE } from './tableDefinitions.ts';

/** The lease item's sort key, under `connection#<name>`: one per connection, apart from the syncs' items. */
export const REFRESH_LEASE_SK = 'oauth-refresh';

/**
 * The refresh lease of one connection's rotating OAuth tokens (RotatingToken), as one item of the
 * state table (`pk = connection#<name>`, `sk = oauth-refresh`): every writer of every sync on the
 * connection competes for it, whatever their container.
 */
export class DynamoRefreshLease implements RefreshLease {
  private readonly ddb: DynamoDBClient;
  private readonly table: string;
  private readonly connection: string;
  private readonly now: () => number;

  public constructor(ddb: DynamoDBClient, table: string, connection: string, now: () => number = Date.now) {
    this.ddb = ddb;
    this.table = table;
    this.connection = connection;
    this.now = now;
  }

  private get key() {
    return {
      [STATE_TABLE.partitionKey]: S(`connection#${this.connection}`),
      [STATE_TABLE.sortKey]: S(REFRESH_LEASE_SK),
    };
  }

  public async acquire(holder: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    try {
      await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: this.key,
          // Nobody holds it, the holder's time ran out (it may have crashed), or it is ours already.
          ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :owner',
          UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until',
          ExpressionAttributeValues: { ':owner': S(holder), ':now': N(now), ':until': N(now + ttlMs) },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  public async release(holder: string): Promise<void> {
    try {
      await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: this.key,
          // Only our own: a holder whose lease ran out must not end its successor's.
          ConditionExpression: 'leaseOwner = :owner',
          UpdateExpression: 'REMOVE leaseOwner, leaseUntil',
          ExpressionAttributeValues: { ':owner': S(holder) },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }
}

import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { N, num, S } from '../util/attr.ts';
import type { TargetCallStats, TargetHealthStore } from './LinkStore.ts';

/** Length of one bucket; a window is read as the buckets it overlaps. */
const BUCKET_MS = 15_000;
/** Buckets are only read for minutes; let TTL (set in the CDK table) remove them after a day. */
const RETENTION_SECONDS = 86_400;

/**
 * Target call outcomes per sync, in time buckets kept in the link table (`~health#<sync>#<bucket>`:
 * sync names start with a letter, so no link key can collide). Writers add to the current
 * bucket once per batch (one unconditional write); the extract sums the buckets of a window to
 * decide whether the target is down (see checkTargetHealth).
 */
export class DynamoTargetHealthStore implements TargetHealthStore {
  private readonly ddb: DynamoDBClient;
  private readonly table: string;

  public constructor(ddb: DynamoDBClient, table: string) {
    this.ddb = ddb;
    this.table = table;
  }

  private static pk(sync: string, bucket: number): Record<string, AttributeValue> {
    return { pk: S(`~health#${sync}#${bucket}`) };
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

  /** Sums the buckets overlapping `[now - windowMs, now]`. */
  public async read(sync: string, now: number, windowMs: number): Promise<TargetCallStats> {
    const keys: Record<string, AttributeValue>[] = [];
    for (let b = Math.floor((now - windowMs) / BUCKET_MS) * BUCKET_MS; b <= now; b += BUCKET_MS)
      keys.push(DynamoTargetHealthStore.pk(sync, b));
    let calls = 0;
    let failedCalls = 0;
    let lag: { ms: number; at: number } | undefined;
    let request: Record<string, { Keys: Record<string, AttributeValue>[] }> | undefined = {
      [this.table]: { Keys: keys },
    };
    for (let attempt = 0; request && Object.keys(request).length > 0 && attempt < 5; attempt++) {
      const req = request;
      const res = await this.ddb.send(new BatchGetItemCommand({ RequestItems: req }));
      for (const item of res.Responses?.[this.table] ?? []) {
        calls += num(item, 'calls') ?? 0;
        failedCalls += num(item, 'failedCalls') ?? 0;
        const ms = num(item, 'lagMs');
        const at = num(item, 'lagAt');
        if (ms !== undefined && at !== undefined && at >= now - windowMs && (!lag || at > lag.at))
          lag = { ms, at };
      }
      request = res.UnprocessedKeys as typeof request;
    }
    return { calls, failedCalls, lagMs: lag?.ms };
  }
}

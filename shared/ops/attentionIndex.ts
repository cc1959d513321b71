import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { LinkStatus } from '../links/Link.ts';
import { attentionKey } from '../links/linkKeys.ts';
import { LINKS_TABLE } from '../state/tableDefinitions.ts';
import { S, str } from '../util/attr.ts';

/** The statuses the sparse `attention` index holds (every one but ok). */
export const ATTENTION_STATUSES = [
  'pending',
  'retrying',
  'failed',
  'dead',
] as const satisfies readonly Exclude<LinkStatus, 'ok'>[];
/** A link status that needs an operator's look. */
export type AttentionStatus = (typeof ATTENTION_STATUSES)[number];

/** How many links of a sync have a status that needs attention: a COUNT query on the sparse index. */
export async function countAttention(
  ddb: DynamoDBClient,
  table: string,
  sync: string,
  status: AttentionStatus,
): Promise<number> {
  let count = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const res = await ddb.send(
      new QueryCommand({
        TableName: table,
        IndexName: LINKS_TABLE.attentionIndex.name,
        KeyConditionExpression: '#a = :a',
        ExpressionAttributeNames: { '#a': LINKS_TABLE.attentionIndex.partitionKey },
        ExpressionAttributeValues: { ':a': S(attentionKey(sync, status)) },
        Select: 'COUNT',
        ExclusiveStartKey: start,
      }),
    );
    count += res.Count ?? 0;
    start = res.LastEvaluatedKey;
  } while (start);
  return count;
}

/** Source keys of a sync's links with this status, newest first, up to `limit`. */
export async function keysWithStatus(
  ddb: DynamoDBClient,
  table: string,
  sync: string,
  status: AttentionStatus,
  limit: number,
): Promise<string[]> {
  const keys: string[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const res = await ddb.send(
      new QueryCommand({
        TableName: table,
        IndexName: LINKS_TABLE.attentionIndex.name,
        KeyConditionExpression: '#a = :a',
        ExpressionAttributeNames: { '#a': LINKS_TABLE.attentionIndex.partitionKey },
        ExpressionAttributeValues: { ':a': S(attentionKey(sync, status)) },
        ProjectionExpression: 'skey',
        ScanIndexForward: false,
        Limit: Math.min(1000, limit - keys.length),
        ExclusiveStartKey: start,
      }),
    );
    for (const item of res.Items ?? []) {
      const key = str(item, 'skey');
      if (key !== undefined) keys.push(key);
    }
    start = res.LastEvaluatedKey;
  } while (start && keys.length < limit);
  return keys;
}

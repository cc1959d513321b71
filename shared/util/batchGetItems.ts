import { type AttributeValue, BatchGetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** A BatchGetItem's RequestItems: keys per table. */
export type BatchGetRequest = Record<
  string,
  { Keys: Record<string, AttributeValue>[]; ConsistentRead?: boolean }
>;

/**
 * One BatchGetItem, asked again for the keys DynamoDB leaves unprocessed, `attempts` calls at most:
 * the items found, by table, and the keys still unread (undefined when every key was read). For
 * the few small items a run reads first (state, gate, health buckets), where an unread key has a
 * safe default; the link and pair stores back off and fail instead.
 */
export async function batchGetItems(
  ddb: DynamoDBClient,
  request: BatchGetRequest,
  attempts = 5,
): Promise<{ items: Record<string, Record<string, AttributeValue>[]>; unread: BatchGetRequest | undefined }> {
  const items: Record<string, Record<string, AttributeValue>[]> = {};
  let pending: BatchGetRequest | undefined = request;
  for (let attempt = 0; pending && Object.keys(pending).length > 0 && attempt < attempts; attempt++) {
    const res = await ddb.send(new BatchGetItemCommand({ RequestItems: pending }));
    for (const [table, found] of Object.entries(res.Responses ?? {}))
      items[table] = [...(items[table] ?? []), ...found];
    pending = res.UnprocessedKeys as BatchGetRequest | undefined;
  }
  return { items, unread: pending && Object.keys(pending).length > 0 ? pending : undefined };
}

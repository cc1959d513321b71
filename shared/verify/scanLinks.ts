import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';

/** The parts of a link a verification compares. */
export interface LinkSummary {
  readonly key: string;
  readonly status: string;
  readonly targetId: string | undefined;
  readonly hash: string | undefined;
  readonly updatedAt: string | undefined;
  readonly version: string | undefined;
  readonly attempts: number;
  /** JSON of the last error, as the link stores it. */
  readonly lastError: string | undefined;
}

const SEGMENTS = 4;

/**
 * Every link of one sync, by a parallel Scan filtered on the sync: a verification reads them all
 * once, which costs the same as reading the table and needs no extra index written on every update.
 */
export async function* scanLinks(
  ddb: DynamoDBClient,
  table: string,
  sync: string,
): AsyncIterable<LinkSummary> {
  const queue: LinkSummary[][] = [];
  let done = 0;
  let error: unknown;
  let wake: (() => void) | undefined;
  const segment = async (n: number): Promise<void> => {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const res = await ddb.send(
        new ScanCommand({
          TableName: table,
          Segment: n,
          TotalSegments: SEGMENTS,
          FilterExpression: '#sync = :sync',
          ProjectionExpression: 'skey, #status, targetId, #hash, updatedAt, version, attempts, lastError',
          ExpressionAttributeNames: { '#sync': 'sync', '#status': 'status', '#hash': 'hash' },
          ExpressionAttributeValues: { ':sync': { S: sync } },
          ExclusiveStartKey: start,
        }),
      );
      queue.push(
        (res.Items ?? []).map((i) => ({
          key: i.skey?.S ?? '',
          status: i.status?.S ?? '',
          targetId: i.targetId?.S,
          hash: i.hash?.S,
          updatedAt: i.updatedAt?.S,
          version: i.version?.N,
          attempts: Number(i.attempts?.N ?? 0),
          lastError: i.lastError?.S,
        })),
      );
      wake?.();
      start = res.LastEvaluatedKey;
    } while (start);
  };
  const all = Array.from({ length: SEGMENTS }, (_, n) =>
    segment(n)
      .catch((err: unknown) => {
        error = err;
      })
      .finally(() => {
        done++;
        wake?.();
      }),
  );
  while (done < SEGMENTS || queue.length > 0) {
    const batch = queue.shift();
    if (batch) {
      yield* batch;
      continue;
    }
    await new Promise<void>((r) => {
      wake = r;
    });
    wake = undefined;
    if (error) throw error;
  }
  await Promise.all(all);
  if (error) throw error;
}

import { CreateTableCommand, type DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SyncConfig } from '../shared/config/schema.ts';
import { LINKS_TABLE, STATE_TABLE } from '../shared/state/tableDefinitions.ts';

export interface LocalQueues {
  readonly url: string;
  readonly arn: string;
  readonly dlqUrl: string;
}

/** The names of everything a pipeline needs, as the CDK stack outputs them on AWS. */
export interface LocalResources {
  readonly stateTable: string;
  readonly linksTable: string;
  readonly queues: Readonly<Record<string, LocalQueues>>;
  /** Bucket of the claim checks (message bodies too large for SQS); absent when none was created. */
  readonly claimCheckBucket?: string;
}

/** Local visibility timeout: the in-process writer is fast; 6× its budget as on AWS. */
export const LOCAL_VISIBILITY_SECONDS = 60;

/**
 * Creates the tables and per-sync queues (with DLQ and redrive policy) in the emulators.
 * `prefix` keeps test files apart so they can run in parallel against the same emulators.
 */
export async function provisionLocal(
  clients: { ddb: DynamoDBClient; sqs: SQSClient },
  prefix: string,
  syncs: readonly SyncConfig[],
): Promise<LocalResources> {
  const stateTable = `${prefix}-state`;
  const linksTable = `${prefix}-links`;
  await Promise.all([
    createTable(clients.ddb, {
      TableName: stateTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: STATE_TABLE.partitionKey, AttributeType: 'S' },
        { AttributeName: STATE_TABLE.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
      ],
    }),
    createTable(clients.ddb, {
      TableName: linksTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: LINKS_TABLE.partitionKey, AttributeType: 'S' },
        { AttributeName: LINKS_TABLE.attentionIndex.partitionKey, AttributeType: 'S' },
        { AttributeName: LINKS_TABLE.attentionIndex.sortKey, AttributeType: 'S' },
        { AttributeName: LINKS_TABLE.targetIndex.partitionKey, AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: LINKS_TABLE.partitionKey, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: LINKS_TABLE.attentionIndex.name,
          KeySchema: [
            { AttributeName: LINKS_TABLE.attentionIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: LINKS_TABLE.attentionIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: LINKS_TABLE.targetIndex.name,
          KeySchema: [{ AttributeName: LINKS_TABLE.targetIndex.partitionKey, KeyType: 'HASH' }],
          Projection: {
            ProjectionType: 'INCLUDE',
            NonKeyAttributes: [...LINKS_TABLE.targetIndex.projectedAttributes],
          },
        },
      ],
    }),
  ]);
  const queues: Record<string, LocalQueues> = {};
  for (const sync of syncs) {
    const dlq = await clients.sqs.send(
      new CreateQueueCommand({
        QueueName: `${prefix}-${sync.name}-dlq`,
        Attributes: { MessageRetentionPeriod: '1209600' },
      }),
    );
    const dlqArn = await queueArn(clients.sqs, dlq.QueueUrl!);
    const main = await clients.sqs.send(
      new CreateQueueCommand({
        QueueName: `${prefix}-${sync.name}`,
        Attributes: {
          VisibilityTimeout: String(LOCAL_VISIBILITY_SECONDS),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: dlqArn,
            maxReceiveCount: sync.maxReceiveCount,
          }),
        },
      }),
    );
    queues[sync.name] = {
      url: main.QueueUrl!,
      arn: await queueArn(clients.sqs, main.QueueUrl!),
      dlqUrl: dlq.QueueUrl!,
    };
  }
  return { stateTable, linksTable, queues };
}

/**
 * Creates the claim-check bucket in the emulator (fauxqs serves S3 next to SQS) and returns its
 * name. Object expiry is the deployed bucket's lifecycle rule; the local stack is thrown away.
 */
export async function createClaimCheckBucket(s3: S3Client, prefix: string): Promise<string> {
  const bucket = `${prefix}-claim-checks`.toLowerCase();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = (err as Error).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  }
  return bucket;
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const res = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return res.Attributes!.QueueArn!;
}

async function createTable(
  ddb: DynamoDBClient,
  input: ConstructorParameters<typeof CreateTableCommand>[0],
): Promise<void> {
  try {
    await ddb.send(new CreateTableCommand(input));
  } catch (err) {
    if (!(err instanceof ResourceInUseException) && (err as Error).name !== 'ResourceInUseException')
      throw err;
  }
}

import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { countRepeats } from './countRepeats.ts';
import type { ResolvedStack } from './resolveTemplate.ts';

/**
 * Creates the stack's stateful resources on the local emulators with the template's own
 * properties, in the order CloudFormation would (a dead-letter queue before the queue that
 * redrives into it). What an emulator cannot hold (encryption at rest, point-in-time recovery,
 * deletion protection, bucket lifecycle) is listed as not rehearsed, never silently dropped.
 */

export interface ProvisionClients {
  readonly ddb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
}

export interface ProvisionedStack {
  /** Queue ARN in the stack → the emulator's ARN of the same queue (its account differs). */
  readonly queueArns: ReadonlyMap<string, string>;
  /** Queue ARN in the stack → queue URL in the stack. */
  readonly queueUrls: ReadonlyMap<string, string>;
  /** `Type.Property` settings the emulators do not enforce, per resource. */
  readonly notRehearsed: readonly string[];
}

/** Properties that configure something an emulator has no notion of: kept, reported, not applied. */
const NOT_EMULATED: Record<string, readonly string[]> = {
  'AWS::DynamoDB::Table': [
    'SSESpecification',
    'PointInTimeRecoverySpecification',
    'DeletionProtectionEnabled',
    'ContributorInsightsSpecification',
    'Tags',
  ],
  'AWS::SQS::Queue': ['SqsManagedSseEnabled', 'KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds', 'Tags'],
  'AWS::S3::Bucket': [
    'BucketEncryption',
    'LifecycleConfiguration',
    'OwnershipControls',
    'PublicAccessBlockConfiguration',
    'VersioningConfiguration',
    'Tags',
  ],
};

/**
 * What the rehearsal creates, runs or evaluates; any other type of the template (networks, the
 * trial database, alarms, the dashboard) exists only on a real account.
 */
const REHEARSED_TYPES = new Set([
  'AWS::DynamoDB::Table',
  'AWS::SQS::Queue',
  'AWS::SQS::QueuePolicy',
  'AWS::S3::Bucket',
  'AWS::S3::BucketPolicy',
  'AWS::SecretsManager::Secret',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::Lambda::Function',
  'AWS::Lambda::Permission',
  'AWS::Lambda::EventSourceMapping',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::Scheduler::Schedule',
  'AWS::Scheduler::ScheduleGroup',
  'AWS::Logs::LogGroup',
]);

/** SQS queue attributes that CloudFormation passes through as CreateQueue attributes. */
const QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'FifoQueue',
  'ContentBasedDeduplication',
] as const;

export async function provisionFromTemplate(
  stack: ResolvedStack,
  clients: ProvisionClients,
): Promise<ProvisionedStack> {
  const notRehearsed: string[] = [];
  const queueArns = new Map<string, string>();
  const queueUrls = new Map<string, string>();
  const entries = Object.entries(stack.resources);
  const noteSkipped = (_id: string, type: string, props: Record<string, unknown>) => {
    for (const key of NOT_EMULATED[type] ?? []) {
      if (props[key] !== undefined && key !== 'Tags') notRehearsed.push(`${type}.${key}`);
    }
  };

  for (const [id, r] of entries.filter(([, r]) => r.Type === 'AWS::DynamoDB::Table')) {
    const p = r.Properties ?? {};
    noteSkipped(id, r.Type, p);
    const name = stack.physical.get(id)!.ref;
    const input: CreateTableCommandInput = {
      TableName: name,
      AttributeDefinitions: p.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
      KeySchema: p.KeySchema as CreateTableCommandInput['KeySchema'],
      BillingMode: (p.BillingMode as CreateTableCommandInput['BillingMode']) ?? 'PROVISIONED',
      ...(p.ProvisionedThroughput
        ? {
            ProvisionedThroughput:
              p.ProvisionedThroughput as CreateTableCommandInput['ProvisionedThroughput'],
          }
        : {}),
      ...(p.GlobalSecondaryIndexes
        ? {
            GlobalSecondaryIndexes:
              p.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'],
          }
        : {}),
      ...(p.LocalSecondaryIndexes
        ? {
            LocalSecondaryIndexes:
              p.LocalSecondaryIndexes as CreateTableCommandInput['LocalSecondaryIndexes'],
          }
        : {}),
    };
    await clients.ddb.send(new CreateTableCommand(input));
    const ttl = p.TimeToLiveSpecification as { AttributeName: string; Enabled: boolean } | undefined;
    if (ttl?.Enabled) {
      try {
        await clients.ddb.send(
          new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: ttl }),
        );
      } catch {
        // dynalite has no TTL: expiry is AWS's background job and nothing in a rehearsal waits for it.
        notRehearsed.push(`${r.Type}.TimeToLiveSpecification`);
      }
    }
  }

  // Dead-letter queues first: a redrive policy names its target by ARN.
  const queues = entries.filter(([, r]) => r.Type === 'AWS::SQS::Queue');
  const redrives = (p: Record<string, unknown>) => p.RedrivePolicy !== undefined;
  for (const [id, r] of [
    ...queues.filter(([, r]) => !redrives(r.Properties ?? {})),
    ...queues.filter(([, r]) => redrives(r.Properties ?? {})),
  ]) {
    const p = r.Properties ?? {};
    noteSkipped(id, r.Type, p);
    const physical = stack.physical.get(id)!;
    const attributes: Record<string, string> = {};
    for (const key of QUEUE_ATTRIBUTES) if (p[key] !== undefined) attributes[key] = String(p[key]);
    if (p.RedrivePolicy) {
      const policy = p.RedrivePolicy as { deadLetterTargetArn: string; maxReceiveCount: number };
      const target = queueArns.get(policy.deadLetterTargetArn);
      if (!target)
        throw new Error(`${id}: its dead-letter queue ${policy.deadLetterTargetArn} is not in the stack`);
      attributes.RedrivePolicy = JSON.stringify({ ...policy, deadLetterTargetArn: target });
    }
    const created = await clients.sqs.send(
      new CreateQueueCommand({ QueueName: physical.attributes.QueueName!, Attributes: attributes }),
    );
    const got = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: created.QueueUrl!, AttributeNames: ['QueueArn'] }),
    );
    queueArns.set(physical.attributes.Arn!, got.Attributes!.QueueArn!);
    queueUrls.set(physical.attributes.Arn!, physical.ref);
  }

  for (const [id, r] of entries.filter(([, r]) => r.Type === 'AWS::S3::Bucket')) {
    noteSkipped(id, r.Type, r.Properties ?? {});
    await clients.s3.send(new CreateBucketCommand({ Bucket: stack.physical.get(id)!.ref }));
  }
  for (const [, r] of entries) {
    if (!REHEARSED_TYPES.has(r.Type)) notRehearsed.push(`${r.Type} (not created)`);
    if (r.Type === 'AWS::Lambda::Function' && r.Properties?.VpcConfig)
      notRehearsed.push(`${r.Type}.VpcConfig`);
  }
  return { queueArns, queueUrls, notRehearsed: countRepeats(notRehearsed, (n) => ` ×${n}`) };
}

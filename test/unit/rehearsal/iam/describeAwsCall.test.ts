import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AwsCall, AwsService, DescribeContext } from '../../../../local/rehearsal/iam/awsCall.ts';
import { describeAwsCall } from '../../../../local/rehearsal/iam/describeAwsCall.ts';
import { parseSigV4 } from '../../../../local/rehearsal/iam/sigv4.ts';
import { type CaptureServer, startCaptureServer } from './captureServer.ts';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const credentials = { accessKeyId: 'AKIAWRITEFUNCTION01', secretAccessKey: 'secret' };
const ctx: DescribeContext = {
  account: ACCOUNT,
  region: REGION,
  tables: {
    links: { partitionKey: 'pk', indexes: { attention: 'attention' } },
    state: { partitionKey: 'pk' },
  },
  secretArn: (id) =>
    id.startsWith('arn:') ? id : `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-AbCdEf`,
  emulatorAccounts: ['000000000000'],
};
const table = (name: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;

let server: CaptureServer;
beforeAll(async () => {
  server = await startCaptureServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
});

const config = () => ({ region: REGION, credentials, endpoint: server.url, maxAttempts: 1 });

/** Sends the command with the real client and describes the one request it made. */
async function described(
  service: AwsService,
  client: { send(c: never): Promise<unknown> },
  command: unknown,
): Promise<AwsCall[]> {
  await client.send(command as never).catch(() => undefined); // the empty answer may not parse: only the request matters
  expect(server.requests).toHaveLength(1);
  const request = server.requests[0]!;
  expect(parseSigV4(request.headers, request.query)).toMatchObject({
    accessKeyId: credentials.accessKeyId,
    region: REGION,
    service,
  });
  return describeAwsCall(service, request, ctx);
}

const brief = (calls: AwsCall[]) =>
  calls.map((c) => ({
    action: c.action,
    resource: c.resource,
    leadingKeys: c.conditions['dynamodb:LeadingKeys'],
  }));

describe('describeAwsCall on DynamoDB requests as the SDK sends them', () => {
  const ddb = () => new DynamoDBClient(config());

  it('PutItem is dynamodb:PutItem on the table with LeadingKeys = the item partition key and its attributes', async () => {
    const calls = await described(
      'dynamodb',
      ddb(),
      new PutItemCommand({
        TableName: 'links',
        Item: { pk: { S: 'crm#42' }, status: { S: 'ok' } },
        ReturnValues: 'ALL_OLD',
      }),
    );
    expect(calls).toEqual([
      {
        service: 'dynamodb',
        operation: 'PutItem',
        action: 'dynamodb:PutItem',
        resource: table('links'),
        conditions: {
          'aws:SecureTransport': 'true',
          'aws:RequestedRegion': REGION,
          'dynamodb:LeadingKeys': ['crm#42'],
          'dynamodb:Attributes': ['pk', 'status'],
          'dynamodb:ReturnValues': 'ALL_OLD',
        },
      },
    ]);
  });

  it.each([
    [
      'GetItem',
      new GetItemCommand({ TableName: 'state', Key: { pk: { S: 'sync#crm' }, sk: { S: 'state' } } }),
    ],
    [
      'UpdateItem',
      new UpdateItemCommand({
        TableName: 'state',
        Key: { pk: { S: 'sync#crm' }, sk: { S: 'state' } },
        UpdateExpression: 'SET a = :a',
        ExpressionAttributeValues: { ':a': { N: '1' } },
      }),
    ],
    [
      'DeleteItem',
      new DeleteItemCommand({ TableName: 'state', Key: { pk: { S: 'sync#crm' }, sk: { S: 'state' } } }),
    ],
  ])('%s takes LeadingKeys from Key (the partition key only, not the sort key)', async (op, command) => {
    expect(brief(await described('dynamodb', ddb(), command))).toEqual([
      { action: `dynamodb:${op}`, resource: table('state'), leadingKeys: ['sync#crm'] },
    ]);
  });

  it('Query on an index is on table/T/index/I and LeadingKeys is the value bound to the index partition key', async () => {
    const calls = await described(
      'dynamodb',
      ddb(),
      new QueryCommand({
        TableName: 'links',
        IndexName: 'attention',
        KeyConditionExpression: '#a = :s AND updatedAt > :t',
        ExpressionAttributeNames: { '#a': 'attention' },
        ExpressionAttributeValues: { ':s': { S: 'crm#failed' }, ':t': { S: '2026' } },
        Select: 'COUNT',
      }),
    );
    expect(brief(calls)).toEqual([
      {
        action: 'dynamodb:Query',
        resource: `${table('links')}/index/attention`,
        leadingKeys: ['crm#failed'],
      },
    ]);
    expect(calls[0]!.conditions['dynamodb:Select']).toBe('COUNT');
  });

  it('Scan carries no LeadingKeys (IAM sets none for a Scan)', async () => {
    const calls = await described(
      'dynamodb',
      ddb(),
      new ScanCommand({
        TableName: 'links',
        ProjectionExpression: 'pk, #s',
        ExpressionAttributeNames: { '#s': 'status' },
      }),
    );
    expect(brief(calls)).toEqual([
      { action: 'dynamodb:Scan', resource: table('links'), leadingKeys: undefined },
    ]);
    expect(calls[0]!.conditions['dynamodb:Attributes']).toEqual(['pk', 'status']);
  });

  it('BatchGetItem is one dynamodb:BatchGetItem per table, each with its own keys', async () => {
    const calls = await described(
      'dynamodb',
      ddb(),
      new BatchGetItemCommand({
        RequestItems: {
          links: { Keys: [{ pk: { S: 'crm#1' } }, { pk: { S: 'crm#2' } }, { pk: { S: 'crm#1' } }] },
          state: { Keys: [{ pk: { S: 'sync#crm' }, sk: { S: 'state' } }] },
        },
      }),
    );
    expect(brief(calls)).toEqual([
      { action: 'dynamodb:BatchGetItem', resource: table('links'), leadingKeys: ['crm#1', 'crm#2'] },
      { action: 'dynamodb:BatchGetItem', resource: table('state'), leadingKeys: ['sync#crm'] },
    ]);
  });

  it('BatchWriteItem is one dynamodb:BatchWriteItem per table with the put and delete keys', async () => {
    const calls = await described(
      'dynamodb',
      ddb(),
      new BatchWriteItemCommand({
        RequestItems: {
          links: [
            { PutRequest: { Item: { pk: { S: 'crm#1' } } } },
            { DeleteRequest: { Key: { pk: { S: 'other#9' } } } },
          ],
        },
      }),
    );
    expect(brief(calls)).toEqual([
      { action: 'dynamodb:BatchWriteItem', resource: table('links'), leadingKeys: ['crm#1', 'other#9'] },
    ]);
  });

  it('TransactWriteItems is one call per item, ConditionCheck as dynamodb:ConditionCheckItem', async () => {
    const calls = await described(
      'dynamodb',
      ddb(),
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: 'state',
              Key: { pk: { S: 'sync#crm' }, sk: { S: 'lease' } },
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
          { Put: { TableName: 'links', Item: { pk: { S: 'crm#1' } } } },
          {
            Update: {
              TableName: 'links',
              Key: { pk: { S: 'crm#2' } },
              UpdateExpression: 'SET a = :a',
              ExpressionAttributeValues: { ':a': { N: '1' } },
            },
          },
          { Delete: { TableName: 'links', Key: { pk: { S: 'crm#3' } } } },
        ],
      }),
    );
    expect(brief(calls)).toEqual([
      { action: 'dynamodb:ConditionCheckItem', resource: table('state'), leadingKeys: ['sync#crm'] },
      { action: 'dynamodb:PutItem', resource: table('links'), leadingKeys: ['crm#1'] },
      { action: 'dynamodb:UpdateItem', resource: table('links'), leadingKeys: ['crm#2'] },
      { action: 'dynamodb:DeleteItem', resource: table('links'), leadingKeys: ['crm#3'] },
    ]);
    expect(calls[0]!.conditions['dynamodb:EnclosingOperation']).toBe('TransactWriteItems');
  });

  it('DescribeTable is dynamodb:DescribeTable on the table, without item conditions', async () => {
    expect(
      brief(await described('dynamodb', ddb(), new DescribeTableCommand({ TableName: 'links' }))),
    ).toEqual([{ action: 'dynamodb:DescribeTable', resource: table('links'), leadingKeys: undefined }]);
  });
});

describe('describeAwsCall on SQS requests (awsJson1_0, AmazonSQS.<Op>)', () => {
  const sqs = () => new SQSClient(config());
  const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
  // The client has an endpoint of its own, so it sends there whatever the queue URL host.
  const url = (name: string, account = ACCOUNT) => `https://sqs.${REGION}.amazonaws.com/${account}/${name}`;

  it('the installed client speaks awsJson1_0', async () => {
    await sqs()
      .send(new SendMessageCommand({ QueueUrl: url('q'), MessageBody: 'x' }))
      .catch(() => undefined);
    expect(server.requests[0]!.headers['x-amz-target']).toBe('AmazonSQS.SendMessage');
    expect(server.requests[0]!.headers['content-type']).toBe('application/x-amz-json-1.0');
  });

  it.each([
    [
      'SendMessageBatch',
      'sqs:SendMessage',
      new SendMessageBatchCommand({ QueueUrl: url('crm-queue'), Entries: [{ Id: '1', MessageBody: 'a' }] }),
    ],
    ['ReceiveMessage', 'sqs:ReceiveMessage', new ReceiveMessageCommand({ QueueUrl: url('crm-queue') })],
    [
      'DeleteMessageBatch',
      'sqs:DeleteMessage',
      new DeleteMessageBatchCommand({
        QueueUrl: url('crm-queue'),
        Entries: [{ Id: '1', ReceiptHandle: 'r' }],
      }),
    ],
    [
      'ChangeMessageVisibilityBatch',
      'sqs:ChangeMessageVisibility',
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url('crm-queue'),
        Entries: [{ Id: '1', ReceiptHandle: 'r', VisibilityTimeout: 1 }],
      }),
    ],
  ])('%s is %s on the queue ARN from QueueUrl', async (_op, action, command) => {
    expect(brief(await described('sqs', sqs(), command))).toEqual([
      { action, resource: queueArn('crm-queue'), leadingKeys: undefined },
    ]);
  });

  it("the emulator's account in a queue URL stands for the rehearsal's account", async () => {
    const calls = await described(
      'sqs',
      sqs(),
      new ReceiveMessageCommand({ QueueUrl: url('crm-queue', '000000000000') }),
    );
    expect(calls[0]!.resource).toBe(queueArn('crm-queue'));
  });

  it('GetQueueUrl is on the ARN of QueueName, StartMessageMoveTask on SourceArn, ListQueues on *', async () => {
    expect((await described('sqs', sqs(), new GetQueueUrlCommand({ QueueName: 'dlq' })))[0]!.resource).toBe(
      queueArn('dlq'),
    );
    server.requests.length = 0;
    const move = await described(
      'sqs',
      sqs(),
      new StartMessageMoveTaskCommand({ SourceArn: queueArn('dlq') }),
    );
    expect(brief(move)).toEqual([
      { action: 'sqs:StartMessageMoveTask', resource: queueArn('dlq'), leadingKeys: undefined },
    ]);
    server.requests.length = 0;
    expect(brief(await described('sqs', sqs(), new ListQueuesCommand({})))).toEqual([
      { action: 'sqs:ListQueues', resource: '*', leadingKeys: undefined },
    ]);
  });
});

describe('describeAwsCall on S3 requests (restXml, path-style to an IP endpoint)', () => {
  // No forcePathStyle: a deployed function's client has none, and the SDK goes path-style to an IP.
  const s3 = () => new S3Client(config());
  const object = (key: string) => `arn:aws:s3:::claims/${key}`;

  it('PutObject is s3:PutObject on bucket/key (decoded) with the encryption header as a condition', async () => {
    const calls = await described(
      's3',
      s3(),
      new PutObjectCommand({
        Bucket: 'claims',
        Key: 'crm/a b+c.json',
        Body: 'x',
        ServerSideEncryption: 'AES256',
      }),
    );
    expect(server.requests[0]!.path).toBe('/claims/crm/a%20b%2Bc.json');
    expect(calls).toMatchObject([{ action: 's3:PutObject', resource: object('crm/a b+c.json') }]);
    expect(calls[0]!.conditions['s3:x-amz-server-side-encryption']).toBe('AES256');
  });

  it.each([
    ['GetObject', 's3:GetObject', new GetObjectCommand({ Bucket: 'claims', Key: 'crm/1' })],
    ['HeadObject', 's3:GetObject', new HeadObjectCommand({ Bucket: 'claims', Key: 'crm/1' })],
    ['DeleteObject', 's3:DeleteObject', new DeleteObjectCommand({ Bucket: 'claims', Key: 'crm/1' })],
  ])('%s is %s on the object', async (_op, action, command) => {
    expect(await described('s3', s3(), command)).toMatchObject([{ action, resource: object('crm/1') }]);
  });

  it('DeleteObjects is s3:DeleteObject on each key', async () => {
    const calls = await described(
      's3',
      s3(),
      new DeleteObjectsCommand({
        Bucket: 'claims',
        Delete: { Objects: [{ Key: 'crm/1' }, { Key: 'crm/<&>' }] },
      }),
    );
    expect(calls.map((c) => [c.action, c.resource])).toEqual([
      ['s3:DeleteObject', object('crm/1')],
      ['s3:DeleteObject', object('crm/<&>')],
    ]);
  });

  it('ListObjectsV2 is s3:ListBucket on the bucket ARN with s3:prefix', async () => {
    const calls = await described('s3', s3(), new ListObjectsV2Command({ Bucket: 'claims', Prefix: 'crm/' }));
    expect(calls).toMatchObject([{ action: 's3:ListBucket', resource: 'arn:aws:s3:::claims' }]);
    expect(calls[0]!.conditions['s3:prefix']).toBe('crm/');
  });
});

describe('describeAwsCall on Secrets Manager, Lambda, CloudFormation and STS', () => {
  const secret = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:writeback/hubspot-AbCdEf`;

  it.each([
    ['GetSecretValue', new GetSecretValueCommand({ SecretId: 'writeback/hubspot' })],
    ['DescribeSecret', new DescribeSecretCommand({ SecretId: 'writeback/hubspot' })],
  ])('%s is on the secret full ARN, resolved from its name', async (op, command) => {
    const calls = await described('secretsmanager', new SecretsManagerClient(config()), command);
    expect(calls).toMatchObject([{ action: `secretsmanager:${op}`, resource: secret }]);
    expect(calls[0]!.conditions['secretsmanager:SecretId']).toBe(secret);
  });

  it('Invoke is lambda:InvokeFunction on the function ARN, with the qualifier', async () => {
    const calls = await described(
      'lambda',
      new LambdaClient(config()),
      new InvokeCommand({
        FunctionName: 'wb-extract',
        Qualifier: 'live',
        InvocationType: 'Event',
        Payload: Buffer.from('{}'),
      }),
    );
    expect(calls).toMatchObject([
      {
        action: 'lambda:InvokeFunction',
        resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:wb-extract:live`,
      },
    ]);
  });

  it('DescribeStacks (awsQuery) is cloudformation:DescribeStacks on the stack ARN', async () => {
    const calls = await described(
      'cloudformation',
      new CloudFormationClient(config()),
      new DescribeStacksCommand({ StackName: 'Writeback' }),
    );
    expect(calls).toMatchObject([
      {
        action: 'cloudformation:DescribeStacks',
        resource: expect.stringMatching(
          new RegExp(`^arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/Writeback/`),
        ),
      },
    ]);
  });

  it('GetCallerIdentity is sts:GetCallerIdentity', async () => {
    expect(await described('sts', new STSClient(config()), new GetCallerIdentityCommand({}))).toMatchObject([
      { action: 'sts:GetCallerIdentity', resource: '*' },
    ]);
  });
});

import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEmulators, startEmulatorsInProcess } from '../../../local/LocalEmulators.ts';
import { IamGateway } from '../../../local/rehearsal/iam/IamGateway.ts';
import {
  formatLeastPrivilegeReport,
  leastPrivilegeReport,
} from '../../../local/rehearsal/iam/leastPrivilegeReport.ts';
import type { PolicyDocument } from '../../../local/rehearsal/iam/policiesFromTemplate.ts';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/Writeback-WriteRole-ABC`;
const TABLE = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/links`;
const QUEUE = `arn:aws:sqs:${REGION}:${ACCOUNT}:crm-queue`;
const writer = { accessKeyId: 'AKIAWRITEFUNCTION01', secretAccessKey: 'write-secret' };
const operator = { accessKeyId: 'AKIAOPERATOR0000001', secretAccessKey: 'operator-secret' };

/** The write function's role: PutItem on its own partitions only, SendMessage to its queue. */
const writeRolePolicy: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'WriteItsLinks',
      Effect: 'Allow',
      Action: 'dynamodb:PutItem',
      Resource: TABLE,
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['s1~*'] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    },
    { Sid: 'SendToItsQueue', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: QUEUE },
    { Sid: 'ItsClaimChecks', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::claims/crm/*' },
  ],
};

const principals = new Map([
  [
    'WriteFunction',
    { roleArn: ROLE, identityPolicies: [{ name: 'WriteRoleDefaultPolicy', policy: writeRolePolicy }] },
  ],
]);

let emulators: LocalEmulators;
let gateway: IamGateway;
const client = <T>(Client: new (c: object) => T, credentials = writer, extra: object = {}): T =>
  new Client({ region: REGION, credentials, endpoint: gateway.url, maxAttempts: 1, ...extra });

beforeAll(async () => {
  emulators = await startEmulatorsInProcess();
  gateway = new IamGateway({
    upstreams: { dynamodb: emulators.dynamodbEndpoint, sqs: emulators.sqsEndpoint, s3: emulators.s3Endpoint },
    principals: new Map([
      [
        writer.accessKeyId,
        {
          name: 'WriteFunction',
          roleArn: ROLE,
          identityPolicies: [{ name: 'WriteRoleDefaultPolicy', policy: writeRolePolicy }],
        },
      ],
    ]),
    operatorAccessKeyId: operator.accessKeyId,
    describe: {
      account: ACCOUNT,
      tables: { links: { partitionKey: 'pk' } },
      secretArn: (id) => id,
      emulatorAccounts: ['000000000000'],
    },
  });
  await gateway.start();
  await client(DynamoDBClient, operator).send(
    new CreateTableCommand({
      TableName: 'links',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});

afterAll(async () => {
  await gateway?.stop();
  await emulators?.stop();
});

const getItem = (pk: string) =>
  client(DynamoDBClient, operator).send(new GetItemCommand({ TableName: 'links', Key: { pk: { S: pk } } }));

describe('IamGateway in front of dynalite and fauxqs', () => {
  it('forwards a PutItem its role allows (key s1~a) to dynalite, and the item is written', async () => {
    await client(DynamoDBClient).send(
      new PutItemCommand({ TableName: 'links', Item: { pk: { S: 's1~a' }, v: { N: '1' } } }),
    );
    expect((await getItem('s1~a')).Item).toEqual({ pk: { S: 's1~a' }, v: { N: '1' } });
  });

  it('answers a PutItem outside the LeadingKeys (s2~a) as AWS would: the SDK throws AccessDeniedException, nothing is written', async () => {
    const error = await client(DynamoDBClient)
      .send(new PutItemCommand({ TableName: 'links', Item: { pk: { S: 's2~a' } } }))
      .catch((e: unknown) => e as Error & { $metadata?: { httpStatusCode?: number } });
    expect(error).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    expect((error as Error).message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/Writeback-WriteRole-ABC/WriteFunction is not authorized to perform: dynamodb:PutItem on resource: ${TABLE} because no identity-based policy allows the dynamodb:PutItem action`,
    );
    expect((await getItem('s2~a')).Item).toBeUndefined();
  });

  it('records both calls with the principal, the LeadingKeys and the decision', () => {
    const puts = gateway
      .calls()
      .filter((r) => r.principal === 'WriteFunction' && r.call.action === 'dynamodb:PutItem');
    expect(puts.map((r) => [r.call.conditions['dynamodb:LeadingKeys'], r.decision.allowed])).toEqual([
      [['s1~a'], true],
      [['s2~a'], false],
    ]);
    expect(puts[1]!.decision.missingStatement).toMatchObject({ Action: 'dynamodb:PutItem', Resource: TABLE });
  });

  it('the least-privilege report lists the allowed and the denied PutItem, with the missing statement', () => {
    const report = leastPrivilegeReport(principals, gateway.calls());
    const write = report.principals.find((p) => p.name === 'WriteFunction')!;
    expect(write.allowed).toContainEqual({ action: 'dynamodb:PutItem', resource: TABLE, count: 1 });
    expect(write.denied).toContainEqual(
      expect.objectContaining({
        action: 'dynamodb:PutItem',
        resource: TABLE,
        missingStatement: expect.objectContaining({
          Condition: expect.objectContaining({
            'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['s2~a'] },
          }),
        }),
      }),
    );
    const text = formatLeastPrivilegeReport(report);
    expect(text).toContain(`allowed: dynamodb:PutItem on ${TABLE} (1 call(s))`);
    expect(text).toContain(`denied: dynamodb:PutItem on ${TABLE} (PutItem)`);
  });

  it('an access key nobody has gets UnrecognizedClientException', async () => {
    const stranger = { accessKeyId: 'AKIASTRANGER0000001', secretAccessKey: 'x' };
    await expect(
      client(DynamoDBClient, stranger).send(
        new GetItemCommand({ TableName: 'links', Key: { pk: { S: 's1~a' } } }),
      ),
    ).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
  });

  it('SQS: an allowed send goes through to fauxqs, a receive the role lacks is denied with 403', async () => {
    const created = await client(SQSClient, operator).send(
      new CreateQueueCommand({ QueueName: 'crm-queue' }),
    );
    // Host is forwarded as sent: fauxqs builds the URLs it returns from it, so they carry the gateway's port.
    expect(created.QueueUrl).toMatch(new RegExp(`:${new URL(gateway.url).port}/000000000000/crm-queue$`));
    // The URL a function gets from its environment (the resolved template's queue Ref), and a
    // client with no endpoint of its own, as a deployed function's: it sends to the URL's host.
    const QueueUrl = `${gateway.url}/${ACCOUNT}/crm-queue`;
    const sqs = new SQSClient({ region: REGION, credentials: writer, maxAttempts: 1 });
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
    expect(sent.MessageId).toBeTruthy();
    const denied = await sqs.send(new ReceiveMessageCommand({ QueueUrl })).catch((e: unknown) => e as Error);
    // SQS's JSON protocol is query-compatible: the SDK names the error by x-amzn-query-error, the
    // query protocol's code (AccessDenied), as code written for the query protocol expects.
    expect(denied).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect((denied as Error).message).toContain(
      `sqs:ReceiveMessage on resource: ${QUEUE} because no identity-based policy`,
    );
    expect(gateway.calls().at(-1)).toMatchObject({ principal: 'WriteFunction', call: { resource: QUEUE } });
  });

  it('S3: a PutObject the role lacks gets a 403 AccessDenied with the quoted resource', async () => {
    await client(S3Client, operator, { forcePathStyle: true }).send(
      new CreateBucketCommand({ Bucket: 'claims' }),
    );
    const error = await client(S3Client)
      .send(new PutObjectCommand({ Bucket: 'claims', Key: 'crm/1', Body: 'x' }))
      .catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect((error as Error).message).toContain('s3:PutObject on resource: "arn:aws:s3:::claims/crm/1"');
  });

  it('S3: an object the operator stored comes back byte for byte to a role that may read it', async () => {
    const body = Buffer.from([0, 1, 2, 255, ...Buffer.from('claim check ✓ 🧾')]);
    await client(S3Client, operator).send(
      new PutObjectCommand({ Bucket: 'claims', Key: 'crm/2', Body: body }),
    );
    const got = await client(S3Client).send(new GetObjectCommand({ Bucket: 'claims', Key: 'crm/2' }));
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(body);
  });

  it('STS GetCallerIdentity names the role session of the caller', async () => {
    const identity = await client(STSClient).send(new GetCallerIdentityCommand({}));
    expect(identity).toMatchObject({
      Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Writeback-WriteRole-ABC/WriteFunction`,
      Account: ACCOUNT,
    });
  });
});

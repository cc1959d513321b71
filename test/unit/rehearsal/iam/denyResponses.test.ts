import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IamGateway } from '../../../../local/rehearsal/iam/IamGateway.ts';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const role = { accessKeyId: 'ASIANOTHINGGRANTED01', secretAccessKey: 's' };
const stranger = { accessKeyId: 'AKIANOBODYHASTHIS01', secretAccessKey: 's' };

// No upstream at all: a denied request must be answered by the gateway itself, never forwarded.
let gateway: IamGateway;
beforeAll(async () => {
  gateway = new IamGateway({
    upstreams: {},
    principals: new Map([
      [
        role.accessKeyId,
        {
          name: 'ExtractFunction',
          roleArn: `arn:aws:iam::${ACCOUNT}:role/ExtractRole`,
          identityPolicies: [],
        },
      ],
    ]),
    describe: {
      account: ACCOUNT,
      tables: { links: { partitionKey: 'pk' } },
      secretArn: (id) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-AbCdEf`,
    },
  });
  await gateway.start();
});
afterAll(() => gateway.stop());

const config = (credentials: typeof role) => ({
  region: REGION,
  credentials,
  endpoint: gateway.url,
  maxAttempts: 1,
});
type Send = (credentials: typeof role) => Promise<unknown>;

const requests: Record<string, Send> = {
  dynamodb: (c) =>
    new DynamoDBClient(config(c)).send(new GetItemCommand({ TableName: 'links', Key: { pk: { S: 'a' } } })),
  sqs: (c) =>
    new SQSClient(config(c)).send(
      new SendMessageCommand({
        QueueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/q`,
        MessageBody: 'x',
      }),
    ),
  s3: (c) => new S3Client(config(c)).send(new GetObjectCommand({ Bucket: 'claims', Key: 'crm/1' })),
  secretsmanager: (c) =>
    new SecretsManagerClient(config(c)).send(new GetSecretValueCommand({ SecretId: 'writeback/dwh' })),
  lambda: (c) =>
    new LambdaClient(config(c)).send(new InvokeCommand({ FunctionName: 'extract', InvocationType: 'Event' })),
  cloudformation: (c) =>
    new CloudFormationClient(config(c)).send(new DescribeStacksCommand({ StackName: 'Writeback' })),
  sts: (c) => new STSClient(config(c)).send(new GetCallerIdentityCommand({})),
};

describe('what the SDK throws when the gateway refuses a call, per service', () => {
  it.each([
    ['dynamodb', 'AccessDeniedException', 400],
    // Query-compatible: the SDK takes the query protocol's code from x-amzn-query-error.
    ['sqs', 'AccessDenied', 403],
    ['s3', 'AccessDenied', 403],
    ['secretsmanager', 'AccessDeniedException', 400],
    ['lambda', 'AccessDeniedException', 403],
    ['cloudformation', 'AccessDenied', 403],
  ])('%s: a role without the grant gets %s (%i) and the IAM message', async (service, name, status) => {
    const error = (await requests[service]!(role).catch((e: unknown) => e)) as Error & {
      $metadata: { httpStatusCode: number };
    };
    expect(error).toMatchObject({ name, $metadata: { httpStatusCode: status } });
    expect(error.message).toMatch(
      new RegExp(
        `^User: arn:aws:sts::${ACCOUNT}:assumed-role/ExtractRole/ExtractFunction is not authorized to perform: ${service}:\\w+ on resource: `,
      ),
    );
    expect(error.message).toMatch(/because no identity-based policy allows the \w+:\w+ action$/);
  });

  it.each([
    ['dynamodb', 'UnrecognizedClientException'],
    ['sqs', 'InvalidClientTokenId'],
    ['s3', 'InvalidAccessKeyId'],
    ['secretsmanager', 'UnrecognizedClientException'],
    ['lambda', 'UnrecognizedClientException'],
    ['cloudformation', 'InvalidClientTokenId'],
    ['sts', 'InvalidClientTokenId'],
  ])('%s: an access key nobody has gets %s', async (service, name) => {
    await expect(requests[service]!(stranger)).rejects.toMatchObject({ name });
  });

  it('a request the check cannot read is refused (fail closed), saying why', async () => {
    const answer = await fetch(gateway.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.PutItem',
        authorization: `AWS4-HMAC-SHA256 Credential=${role.accessKeyId}/20261205/${REGION}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: 'not json',
    });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({
      __type: 'com.amazon.coral.service#AccessDeniedException',
      Message:
        "the rehearsal's IAM check cannot read this dynamodb request: the request body is not a JSON object",
    });
  });

  it('an unsigned request is refused', async () => {
    const answer = await fetch(gateway.url, { method: 'POST', body: '{}' });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ Message: 'Missing Authentication Token' });
  });

  it('every refused call is recorded, the unknown key under "unknown"', () => {
    const principals = new Set(gateway.calls().map((r) => r.principal));
    expect(principals).toEqual(new Set(['ExtractFunction', 'unknown']));
    expect(gateway.calls().filter((r) => r.decision.allowed)).toEqual([]);
  });
});

import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCloudFormation } from '../../../local/aws/LocalCloudFormation.ts';

const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'not-a-secret' };

describe('LocalCloudFormation (DescribeStacks over the Query protocol, through the real SDK client)', () => {
  const created = new Date('2026-12-01T10:00:00.000Z');
  const local = new LocalCloudFormation({
    region: 'eu-west-1',
    accountId: '111122223333',
    stacks: [
      {
        stackName: 'Writeback',
        creationTime: created,
        description: 'Writeback <reverse ETL> & friends',
        outputs: [
          {
            OutputKey: 'StateTableName',
            OutputValue: 'Writeback-State-1A2B',
            Description: 'the state table',
          },
          {
            OutputKey: 'WriteQueueUrl',
            OutputValue: 'https://sqs.eu-west-1.amazonaws.com/111122223333/q?a=1&b=<2>',
          },
          { OutputKey: 'Exported', OutputValue: 'v', ExportName: 'Writeback-Exported' },
        ],
        parameters: [
          { ParameterKey: 'BootstrapVersion', ParameterValue: '/cdk-bootstrap/hnb659fds/version' },
        ],
      },
      { stackName: 'Other' },
    ],
  });
  let client: CloudFormationClient;

  beforeAll(async () => {
    const endpoint = await local.start();
    client = new CloudFormationClient({ endpoint, region: 'eu-west-1', credentials });
  });
  afterAll(async () => {
    client?.destroy();
    await local.stop();
  });

  it('describes the stack by name: id, CREATE_COMPLETE, creation time, outputs and parameters, XML escaping intact', async () => {
    const out = await client.send(new DescribeStacksCommand({ StackName: 'Writeback' }));

    expect(out.Stacks).toHaveLength(1);
    const [stack] = out.Stacks ?? [];
    expect(stack?.StackId).toMatch(
      /^arn:aws:cloudformation:eu-west-1:111122223333:stack\/Writeback\/[0-9a-f-]{36}$/,
    );
    expect(stack?.StackName).toBe('Writeback');
    expect(stack?.StackStatus).toBe('CREATE_COMPLETE');
    expect(stack?.CreationTime).toEqual(created);
    expect(stack?.Description).toBe('Writeback <reverse ETL> & friends');
    expect(stack?.Outputs).toEqual([
      { OutputKey: 'StateTableName', OutputValue: 'Writeback-State-1A2B', Description: 'the state table' },
      {
        OutputKey: 'WriteQueueUrl',
        OutputValue: 'https://sqs.eu-west-1.amazonaws.com/111122223333/q?a=1&b=<2>',
      },
      { OutputKey: 'Exported', OutputValue: 'v', ExportName: 'Writeback-Exported' },
    ]);
    expect(stack?.Parameters).toEqual([
      { ParameterKey: 'BootstrapVersion', ParameterValue: '/cdk-bootstrap/hnb659fds/version' },
    ]);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('finds a stack by its stack id, and lists every stack when no name is given', async () => {
    const byId = await client.send(new DescribeStacksCommand({ StackName: local.stackIdOf('Writeback') }));
    const all = await client.send(new DescribeStacksCommand({}));

    expect(byId.Stacks?.map((s) => s.StackName)).toEqual(['Writeback']);
    expect(all.Stacks?.map((s) => s.StackName)).toEqual(['Writeback', 'Other']);
    expect(all.Stacks?.[1]?.Outputs).toBeUndefined();
  });

  it('an unknown stack is ValidationError, HTTP 400, "Stack with id X does not exist"', async () => {
    let caught: unknown;
    try {
      await client.send(new DescribeStacksCommand({ StackName: 'Nope' }));
    } catch (err) {
      caught = err;
    }

    const err = caught as CloudFormationServiceException;
    expect(err).toBeInstanceOf(CloudFormationServiceException);
    expect(err.name).toBe('ValidationError');
    expect(err.message).toBe('Stack with id Nope does not exist');
    expect(err.$fault).toBe('client');
    expect(err.$metadata.httpStatusCode).toBe(400);
  });
});

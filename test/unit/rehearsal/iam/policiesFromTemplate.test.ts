import { describe, expect, it } from 'vitest';
import { tableKeysFromTemplate, templatePrincipals } from '../../../../local/rehearsal/iam/gatewaySetup.ts';
import {
  policiesFromTemplate,
  resourcePolicyFor,
} from '../../../../local/rehearsal/iam/policiesFromTemplate.ts';
import { type CfnTemplate, resolveTemplate } from '../../../../local/rehearsal/resolveTemplate.ts';

const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const secureTransport = (resource: unknown, action: string) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: action,
      Resource: resource,
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ],
});

/** The shapes CDK synthesizes (see cdk.out): a default policy per role, queue and bucket policies. */
const template: CfnTemplate = {
  Resources: {
    Links: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'attention',
            KeySchema: [
              { AttributeName: 'attention', KeyType: 'HASH' },
              { AttributeName: 'updatedAt', KeyType: 'RANGE' },
            ],
          },
        ],
      },
    },
    Queue: { Type: 'AWS::SQS::Queue' },
    QueuePolicy: {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: { Queues: [{ Ref: 'Queue' }], PolicyDocument: secureTransport(arnOf('Queue'), 'sqs:*') },
    },
    Bucket: { Type: 'AWS::S3::Bucket' },
    BucketPolicy: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: { Ref: 'Bucket' },
        PolicyDocument: secureTransport(
          [arnOf('Bucket'), { 'Fn::Join': ['', [arnOf('Bucket'), '/*']] }],
          's3:*',
        ),
      },
    },
    WriteRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        },
        Tags: [
          { Key: 'app', Value: 'writeback' },
          { Key: 'writeback:function', Value: 'write' },
        ],
        ManagedPolicyArns: [
          'arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
          'arn:aws:iam::aws:policy/AdministratorAccess',
        ],
        Policies: [
          {
            PolicyName: 'Inline',
            PolicyDocument: {
              Statement: [{ Effect: 'Allow', Action: 'sqs:ReceiveMessage', Resource: arnOf('Queue') }],
            },
          },
        ],
      },
    },
    WriteRoleDefaultPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'WriteRoleDefaultPolicy',
        Roles: [{ Ref: 'WriteRole' }],
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Action: 's3:GetObject',
              Resource: { 'Fn::Join': ['', [arnOf('Bucket'), '/crm/*']] },
            },
          ],
        },
      },
    },
    ContinueBacklog: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: arnOf('WriteFunction'),
        Principal: arnOf('WriteRole'),
      },
    },
    SchedulerInvokes: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: { Ref: 'WriteFunction' },
        Principal: 'scheduler.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
      },
    },
    WriteFunction: {
      Type: 'AWS::Lambda::Function',
      Properties: { Role: arnOf('WriteRole'), Handler: 'index.handler' },
    },
    ScheduleRole: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: { Statement: [] } } },
    Schedule: {
      Type: 'AWS::Scheduler::Schedule',
      Properties: { Target: { Arn: arnOf('WriteFunction'), RoleArn: arnOf('ScheduleRole') } },
    },
  },
};

describe('policiesFromTemplate', () => {
  const stack = resolveTemplate(template, { stackName: 'Writeback' });
  const policies = policiesFromTemplate(stack);

  it("gathers a role's inline policies, the AWS::IAM::Policy that names it and its AWS managed policies", () => {
    const role = policies.roles.WriteRole!;
    expect(role.roleArn).toBe(stack.physical.get('WriteRole')!.attributes.Arn);
    expect(role.identityPolicies.map((p) => p.name)).toEqual([
      'WriteRole/Inline',
      'AWSLambdaVPCAccessExecutionRole',
      'WriteRoleDefaultPolicy',
    ]);
    expect(JSON.stringify(role.identityPolicies[2]!.policy)).toContain(
      `arn:aws:s3:::${stack.physical.get('Bucket')!.ref}/crm/*`,
    );
    // No document is embedded for it: reported, never evaluated as if it granted nothing silently.
    expect(role.unknownManagedPolicies).toEqual(['arn:aws:iam::aws:policy/AdministratorAccess']);
  });

  it("keeps the role's tags (its sessions' aws:PrincipalTag keys)", () => {
    expect(policies.roles.WriteRole!.tags).toEqual({ app: 'writeback', 'writeback:function': 'write' });
  });

  it("turns each AWS::Lambda::Permission into a statement of the function's resource policy", () => {
    const functionArn = stack.physical.get('WriteFunction')!.attributes.Arn!;
    expect(resourcePolicyFor(policies, functionArn)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ContinueBacklog',
          Effect: 'Allow',
          Principal: { AWS: policies.roles.WriteRole!.roleArn },
          Action: 'lambda:InvokeFunction',
          Resource: functionArn,
        },
        {
          Sid: 'SchedulerInvokes',
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Action: 'lambda:InvokeFunction',
          Resource: functionArn,
          Condition: { StringEquals: { 'AWS:SourceAccount': '123456789012' } },
        },
      ],
    });
    // A qualified ARN is under its function's policy.
    expect(resourcePolicyFor(policies, `${functionArn}:live`)).toBe(resourcePolicyFor(policies, functionArn));
  });

  it('knows which role each function and each schedule target uses', () => {
    expect(policies.functionRoles).toEqual({ WriteFunction: 'WriteRole' });
    expect(policies.scheduleRoles).toEqual({
      Schedule: { role: 'ScheduleRole', targetArn: stack.physical.get('WriteFunction')!.attributes.Arn },
    });
  });

  it('keys queue policies by queue ARN and bucket policies by bucket, and finds them for a call', () => {
    const queueArn = stack.physical.get('Queue')!.attributes.Arn!;
    const bucket = stack.physical.get('Bucket')!.ref;
    expect(Object.keys(policies.queuePolicies)).toEqual([queueArn]);
    expect(Object.keys(policies.bucketPolicies)).toEqual([bucket]);
    expect(resourcePolicyFor(policies, queueArn)).toBe(policies.queuePolicies[queueArn]);
    expect(resourcePolicyFor(policies, `arn:aws:s3:::${bucket}/crm/1`)).toBe(policies.bucketPolicies[bucket]);
    expect(resourcePolicyFor(policies, 'arn:aws:dynamodb:eu-west-1:123456789012:table/t')).toBeUndefined();
  });

  it("gives the gateway each table's partition keys and each role a function or schedule runs as, by the role's access key", () => {
    expect(tableKeysFromTemplate(stack)).toEqual({
      [stack.physical.get('Links')!.ref]: { partitionKey: 'pk', indexes: { attention: 'attention' } },
    });
    const principals = templatePrincipals(stack, policies, (roleArn) => `ASIA${roleArn.slice(-6)}`);
    const write = policies.roles.WriteRole!;
    expect([...principals.values()]).toEqual([
      {
        name: 'WriteFunction',
        roleArn: write.roleArn,
        identityPolicies: write.identityPolicies,
        sessionName: stack.physical.get('WriteFunction')!.ref,
        tags: { app: 'writeback', 'writeback:function': 'write' },
      },
      // The schedule calls Lambda Invoke as its own role.
      expect.objectContaining({ name: 'Schedule', roleArn: policies.roles.ScheduleRole!.roleArn }),
    ]);
    expect(principals.get(`ASIA${write.roleArn.slice(-6)}`)?.name).toBe('WriteFunction');
  });
});

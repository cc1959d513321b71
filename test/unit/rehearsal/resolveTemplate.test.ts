import { describe, expect, it } from 'vitest';
import {
  type CfnTemplate,
  resolveTemplate,
  UnresolvedTemplateError,
} from '../../../local/rehearsal/resolveTemplate.ts';
import { buildStack, syncInput, testConfig } from '../../infra/stackFixture.ts';

function demoLikeTemplate(): CfnTemplate {
  const { template } = buildStack(testConfig([syncInput('crm-contacts')]));
  return template.toJSON() as CfnTemplate;
}

describe('resolveTemplate', () => {
  const template = demoLikeTemplate();
  const stack = resolveTemplate(template, { stackName: 'Writeback', sqsBaseUrl: 'http://127.0.0.1:4566' });

  it('gives each function the environment a deploy would: table names, queue URL and secret ARN', () => {
    const fn = Object.values(stack.resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && (r.Properties?.Handler as string) === 'index.handler',
    );
    const env =
      (fn?.Properties?.Environment as { Variables: Record<string, string> } | undefined)?.Variables ?? {};
    const tableNames = [...stack.physical.values()]
      .filter((p) => p.type === 'AWS::DynamoDB::Table')
      .map((p) => p.ref);
    expect(tableNames).toContain(env.WB_STATE_TABLE);
    expect(tableNames).toContain(env.WB_LINKS_TABLE);
    expect(env.WB_DWH_SECRET_ARN).toBe('arn:aws:secretsmanager:eu-west-1:123456789012:secret:writeback/dwh');
    expect(env.WB_SYNC).toBe('crm-contacts');
  });

  it('answers Ref of a queue with its URL on the given SQS endpoint and GetAtt Arn with its ARN', () => {
    const esm = Object.values(stack.resources).find((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    const queueArn = esm?.Properties?.EventSourceArn as string;
    expect(queueArn).toMatch(/^arn:aws:sqs:eu-west-1:123456789012:Writeback-[\w-]+$/);
    const queueName = queueArn.split(':').at(-1);
    expect(Object.values(stack.outputs).map((o) => o.value)).toContain(
      `http://127.0.0.1:4566/123456789012/${queueName}`,
    );
  });

  it('leaves no intrinsic behind in resources or outputs', () => {
    const text = JSON.stringify({ r: stack.resources, o: stack.outputs });
    expect(text).not.toMatch(/"(Ref|Fn::[A-Za-z]+)":/);
  });

  it('names generated resources within their services’ limits (S3 lower case, Lambda and IAM 64 characters)', () => {
    for (const p of stack.physical.values()) {
      if (p.type === 'AWS::S3::Bucket') expect(p.ref).toMatch(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/);
      if (p.type === 'AWS::Lambda::Function' || p.type === 'AWS::IAM::Role')
        expect(p.ref.length).toBeLessThanOrEqual(64);
      if (p.type === 'AWS::SQS::Queue') expect(p.attributes.QueueName!.length).toBeLessThanOrEqual(80);
    }
  });

  it('keeps IAM policies as written: conditions with GetAtt inside, one-key objects holding lists', () => {
    const policy = resolveTemplate(
      {
        Resources: {
          Role: { Type: 'AWS::IAM::Role', Properties: {} },
          Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
          QueuePolicy: {
            Type: 'AWS::SQS::QueuePolicy',
            Properties: {
              PolicyDocument: {
                Statement: [
                  {
                    Effect: 'Deny',
                    Principal: { AWS: ['*'] },
                    Action: 'sqs:SendMessage',
                    Resource: { 'Fn::GetAtt': ['Queue', 'Arn'] },
                    Condition: {
                      ArnNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': ['Role', 'Arn'] }] },
                      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['crm~*'] },
                    },
                  },
                ],
              },
            },
          },
        },
      },
      { stackName: 'S' },
    ).resources.QueuePolicy?.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] };
    const role = `arn:aws:iam::123456789012:role/${'S-Role-'}`;
    const [statement] = policy.Statement;
    expect(statement?.Principal).toEqual({ AWS: ['*'] });
    expect(statement?.Condition).toEqual({
      ArnNotEquals: { 'aws:PrincipalArn': [expect.stringMatching(new RegExp(`^${role}`))] },
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['crm~*'] },
    });
    expect(statement?.Resource).toMatch(/^arn:aws:sqs:eu-west-1:123456789012:S-Queue-/);
  });

  it('refuses a template it cannot resolve, naming the place', () => {
    const broken: CfnTemplate = {
      Resources: {
        Fn: {
          Type: 'AWS::Lambda::Function',
          Properties: { Environment: { Variables: { X: { 'Fn::GetAtt': ['Missing', 'Whatever'] } } } },
        },
      },
    };
    expect(() => resolveTemplate(broken, { stackName: 'S' })).toThrowError(UnresolvedTemplateError);
    expect(() => resolveTemplate(broken, { stackName: 'S' })).toThrowError(
      /Resources\.Fn\.Properties\.Environment\.Variables\.X/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { checkTemplatePolicies } from '../../../../local/rehearsal/iam/checkTemplatePolicies.ts';
import type { TemplatePolicies } from '../../../../local/rehearsal/iam/policiesFromTemplate.ts';

const TABLE = 'arn:aws:dynamodb:eu-west-1:123456789012:table/links';
const QUEUE = 'arn:aws:sqs:eu-west-1:123456789012:q';

const template = (
  leadingKeys: unknown,
  senders: unknown,
  unknownManaged: string[] = [],
): TemplatePolicies => ({
  roles: {
    WriteRole: {
      logicalId: 'WriteRole',
      roleName: 'WriteRole',
      roleArn: 'arn:aws:iam::123456789012:role/WriteRole',
      tags: {},
      unknownManagedPolicies: unknownManaged,
      identityPolicies: [
        {
          name: 'WriteRoleDefaultPolicy',
          policy: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: 'dynamodb:GetItem',
                Resource: TABLE,
                Condition: { 'ForAllValues:StringLike': leadingKeys as Record<string, unknown> },
              },
            ],
          },
        },
      ],
    },
  },
  functionRoles: {},
  scheduleRoles: {},
  queuePolicies: {
    [QUEUE]: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: senders, Action: 'sqs:SendMessage', Resource: QUEUE }],
    },
  },
  bucketPolicies: {},
  functionPolicies: {},
});

describe('checkTemplatePolicies', () => {
  it('finds nothing wrong with well-formed policies', async () => {
    const ok = template(
      { 'dynamodb:LeadingKeys': ['s1#*'] },
      { AWS: ['arn:aws:iam::123456789012:role/WriteRole'] },
    );
    expect(await checkTemplatePolicies(ok)).toEqual([]);
  });

  it('names the role and the queue whose policy a resolver flattened ({key: [values]} became [values])', async () => {
    const flattened = template(['s1#*'], ['arn:aws:iam::123456789012:role/WriteRole']);
    const problems = await checkTemplatePolicies(flattened);
    expect(problems.map((p) => p.where)).toEqual(['role WriteRole', `queue ${QUEUE}`]);
    expect(problems[0]!.message).toContain('Condition operator must be an object, found an array');
  });

  it('reports an AWS managed policy it has no document for', async () => {
    const problems = await checkTemplatePolicies(
      template({ 'dynamodb:LeadingKeys': ['s1#*'] }, '*', ['arn:aws:iam::aws:policy/AdministratorAccess']),
    );
    expect(problems).toEqual([
      {
        where: 'role WriteRole',
        message: expect.stringContaining('arn:aws:iam::aws:policy/AdministratorAccess'),
      },
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import type { AwsCall } from '../../../../local/rehearsal/iam/awsCall.ts';
import { evaluateCall } from '../../../../local/rehearsal/iam/evaluateCall.ts';
import type { CallRecord } from '../../../../local/rehearsal/iam/IamGateway.ts';
import {
  formatLeastPrivilegeReport,
  leastPrivilegeReport,
  type ReportPrincipal,
} from '../../../../local/rehearsal/iam/leastPrivilegeReport.ts';
import type { PolicyDocument } from '../../../../local/rehearsal/iam/policiesFromTemplate.ts';

const ACCOUNT = '123456789012';
const TABLE = `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/links`;
const QUEUE = `arn:aws:sqs:eu-west-1:${ACCOUNT}:crm-queue`;
const LOGS = `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/lambda/write:*`;

const policy: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: LOGS },
    {
      Sid: 'ItsLinks',
      Effect: 'Allow',
      Action: ['dynamodb:PutItem', 'dynamodb:BatchWriteItem'],
      Resource: TABLE,
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['s1~*'] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    },
    { Sid: 'ItsQueue', Effect: 'Allow', Action: 'sqs:*', Resource: QUEUE },
  ],
};
const write: ReportPrincipal = {
  roleArn: `arn:aws:iam::${ACCOUNT}:role/WriteRole`,
  identityPolicies: [{ name: 'WriteRoleDefaultPolicy', policy }],
};

/** Records as the gateway makes them: each call evaluated by the real evaluator. */
async function recorded(name: string, principal: ReportPrincipal, calls: AwsCall[]): Promise<CallRecord[]> {
  return Promise.all(
    calls.map(async (call, i) => ({
      requestId: String(i),
      at: new Date(),
      principal: name,
      accessKeyId: 'AKIA',
      roleArn: principal.roleArn,
      call,
      decision: await evaluateCall(call, { ...principal, sessionName: name }),
    })),
  );
}

const put = (pk: string): AwsCall => ({
  service: 'dynamodb',
  operation: 'PutItem',
  action: 'dynamodb:PutItem',
  resource: TABLE,
  conditions: { 'dynamodb:LeadingKeys': [pk] },
});
const send: AwsCall = {
  service: 'sqs',
  operation: 'SendMessageBatch',
  action: 'sqs:SendMessage',
  resource: QUEUE,
  conditions: {},
};

describe('leastPrivilegeReport', () => {
  it('lists the allowed and denied calls, the grants never used, wildcards used narrowly and what offline cannot see', async () => {
    const records = await recorded('WriteFunction', write, [
      put('s1~a'),
      put('s1~b'),
      put('s2~a'),
      put('s2~a'),
      send,
    ]);
    const report = leastPrivilegeReport(new Map([['WriteFunction', write]]), records);
    const [p] = report.principals;
    expect(p!.allowed).toEqual([
      { action: 'dynamodb:PutItem', resource: TABLE, count: 2 },
      { action: 'sqs:SendMessage', resource: QUEUE, count: 1 },
    ]);
    expect(p!.denied).toMatchObject([
      {
        action: 'dynamodb:PutItem',
        resource: TABLE,
        count: 2,
        missingStatement: {
          Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['s2~a'] } },
        },
      },
    ]);
    expect(p!.unused.map((g) => `${g.action} on ${g.resource} (${g.sid})`)).toEqual([
      `dynamodb:BatchWriteItem on ${TABLE} (ItsLinks)`,
    ]);
    expect(p!.wildcards).toMatchObject([{ action: 'sqs:*', usedAs: ['sqs:SendMessage'] }]);
    expect(p!.notObserved.map((g) => g.action)).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(report).toMatchObject({ deniedCalls: 2, unusedGrants: 1 });

    const text = formatLeastPrivilegeReport(report);
    expect(text).toContain('IAM check: 1 principal(s), 2 denied call(s), 1 grant(s) never used');
    expect(text).toContain('WriteFunction [DENIED] 5 call(s)');
    expect(text).toContain(`denied: dynamodb:PutItem on ${TABLE} (PutItem, 2 times)`);
    expect(text).toContain('missing statement: {"Effect":"Allow","Action":"dynamodb:PutItem"');
    expect(text).toContain(
      `unused: dynamodb:BatchWriteItem on ${TABLE} (WriteRoleDefaultPolicy Sid ItsLinks)`,
    );
  });

  it('a principal that made no call has every observable grant unused, and is not marked denied', async () => {
    const report = leastPrivilegeReport({ VerifyFunction: write }, []);
    expect(report.principals[0]!.unused.map((g) => g.action)).toEqual([
      'dynamodb:PutItem',
      'dynamodb:BatchWriteItem',
      'sqs:*',
    ]);
    expect(formatLeastPrivilegeReport(report)).toContain('VerifyFunction [ok] 0 call(s)');
    // The gateway's principals (they carry their names) give the same report.
    expect(leastPrivilegeReport([{ name: 'VerifyFunction', ...write }], [])).toEqual(report);
  });
});

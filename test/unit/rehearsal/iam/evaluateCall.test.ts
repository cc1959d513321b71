import { describe, expect, it } from 'vitest';
import type { AwsCall } from '../../../../local/rehearsal/iam/awsCall.ts';
import { type CallPrincipal, evaluateCall } from '../../../../local/rehearsal/iam/evaluateCall.ts';
import type { PolicyDocument } from '../../../../local/rehearsal/iam/policiesFromTemplate.ts';

const ACCOUNT = '123456789012';
const TABLE = `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/links`;
const QUEUE = `arn:aws:sqs:eu-west-1:${ACCOUNT}:crm-queue`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/Writeback-WriteRole-ABC`;
const CALLER = `arn:aws:sts::${ACCOUNT}:assumed-role/Writeback-WriteRole-ABC/write-fn`;

const ddbCall = (action: string, leadingKeys?: string[]): AwsCall => ({
  service: 'dynamodb',
  operation: action,
  action: `dynamodb:${action}`,
  resource: TABLE,
  conditions: {
    'aws:SecureTransport': 'true',
    ...(leadingKeys ? { 'dynamodb:LeadingKeys': leadingKeys } : {}),
  },
});

const principal = (...statements: object[]): CallPrincipal => ({
  roleArn: ROLE,
  sessionName: 'write-fn',
  identityPolicies: [
    {
      name: 'WriteRoleDefaultPolicy',
      policy: { Version: '2012-10-17', Statement: statements } as PolicyDocument,
    },
  ],
});

/** As infra/tableAccess.ts grants: the sync's keys only, and a key must be present. */
const itsLinks = {
  Sid: 'WriteItsLinks',
  Effect: 'Allow',
  Action: ['dynamodb:PutItem', 'dynamodb:BatchWriteItem', 'dynamodb:Scan'],
  Resource: TABLE,
  Condition: {
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['s1~*'] },
    Null: { 'dynamodb:LeadingKeys': 'false' },
  },
};

describe('evaluateCall', () => {
  it('allows a PutItem whose partition key matches the LeadingKeys pattern, naming the statement', async () => {
    const decision = await evaluateCall(ddbCall('PutItem', ['s1~a']), principal(itsLinks));
    expect(decision).toMatchObject({ allowed: true, result: 'Allowed' });
    expect(decision.matchedStatements).toMatchObject([
      { policyType: 'identity', policyName: 'WriteRoleDefaultPolicy', sid: 'WriteItsLinks', effect: 'Allow' },
    ]);
  });

  it("denies another partition's key implicitly, with AWS's message and the statement that is missing", async () => {
    const decision = await evaluateCall(ddbCall('PutItem', ['s2~a']), principal(itsLinks));
    expect(decision).toMatchObject({ allowed: false, result: 'ImplicitlyDenied', matchedStatements: [] });
    expect(decision.reason).toBe(
      `User: ${CALLER} is not authorized to perform: dynamodb:PutItem on resource: ${TABLE} because no identity-based policy allows the dynamodb:PutItem action`,
    );
    expect(decision.missingStatement).toEqual({
      Effect: 'Allow',
      Action: 'dynamodb:PutItem',
      Resource: TABLE,
      Condition: {
        'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['s2~a'] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    });
  });

  it('denies a BatchWriteItem when any one of its keys is outside the pattern (ForAllValues)', async () => {
    expect(
      (await evaluateCall(ddbCall('BatchWriteItem', ['s1~a', 's1~b']), principal(itsLinks))).allowed,
    ).toBe(true);
    expect(
      (await evaluateCall(ddbCall('BatchWriteItem', ['s1~a', 's2~b']), principal(itsLinks))).allowed,
    ).toBe(false);
  });

  it('a Scan has no LeadingKeys: ForAllValues alone lets it through the whole table, the Null test stops it', async () => {
    const withoutNull = {
      ...itsLinks,
      Condition: { 'ForAllValues:StringLike': itsLinks.Condition['ForAllValues:StringLike'] },
    };
    expect((await evaluateCall(ddbCall('Scan'), principal(withoutNull))).allowed).toBe(true);
    expect((await evaluateCall(ddbCall('Scan'), principal(itsLinks))).allowed).toBe(false);
  });

  it("a queue policy's Deny on aws:SecureTransport false denies explicitly; over TLS (true) the role's grant applies", async () => {
    const queuePolicy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'sqs:*',
          Resource: QUEUE,
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    };
    const send = (secure: string): AwsCall => ({
      service: 'sqs',
      operation: 'SendMessage',
      action: 'sqs:SendMessage',
      resource: QUEUE,
      conditions: { 'aws:SecureTransport': secure },
    });
    const role = principal({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: QUEUE });
    expect((await evaluateCall(send('true'), role, queuePolicy)).allowed).toBe(true);
    const denied = await evaluateCall(send('false'), role, queuePolicy);
    expect(denied).toMatchObject({ allowed: false, result: 'ExplicitlyDenied' });
    expect(denied).not.toHaveProperty('missingStatement'); // adding an Allow would not help
    expect(denied.reason).toBe(
      `User: ${CALLER} is not authorized to perform: sqs:SendMessage on resource: ${QUEUE} with an explicit deny in a resource-based policy`,
    );
    expect(denied.matchedStatements).toMatchObject([{ policyType: 'resource', index: 1, effect: 'Deny' }]);
  });

  it('a bucket policy that allows the role is enough in the same account, without an identity grant', async () => {
    const object = 'arn:aws:s3:::claims/crm/1';
    const bucketPolicy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'RoleReads',
          Effect: 'Allow',
          Principal: { AWS: ROLE },
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::claims/*',
        },
      ],
    };
    const get: AwsCall = {
      service: 's3',
      operation: 'GetObject',
      action: 's3:GetObject',
      resource: object,
      conditions: {},
    };
    expect((await evaluateCall(get, principal(), bucketPolicy)).matchedStatements).toMatchObject([
      { policyType: 'resource', sid: 'RoleReads' },
    ]);
    expect((await evaluateCall(get, principal())).allowed).toBe(false);
  });

  it('a queue policy that denies the other Writeback functions by tag lets its senders through and stops the rest', async () => {
    const EXTRACT = `arn:aws:iam::${ACCOUNT}:role/Writeback-ExtractRole-XYZ`;
    // As infra/queueSenders.ts writes it (restrictSenders).
    const queuePolicy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AllowItsSenders',
          Effect: 'Allow',
          Principal: { AWS: [EXTRACT] },
          Action: 'sqs:SendMessage',
          Resource: QUEUE,
        },
        {
          Sid: 'DenyOtherWritebackFunctions',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'sqs:SendMessage',
          Resource: QUEUE,
          Condition: {
            Null: { 'aws:PrincipalTag/writeback:function': 'false' },
            ArnNotEquals: { 'aws:PrincipalArn': [EXTRACT] },
          },
        },
      ],
    };
    const send: AwsCall = {
      service: 'sqs',
      operation: 'SendMessage',
      action: 'sqs:SendMessage',
      resource: QUEUE,
      conditions: { 'aws:SecureTransport': 'true' },
    };
    const anyQueue = { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' };
    const extract: CallPrincipal = {
      roleArn: EXTRACT,
      sessionName: 'extract-fn',
      identityPolicies: [],
      tags: { 'writeback:function': 'extract' },
    };
    const extractDecision = await evaluateCall(send, extract, queuePolicy);
    expect(extractDecision).toMatchObject({
      allowed: true,
      matchedStatements: [{ policyType: 'resource', sid: 'AllowItsSenders' }],
    });
    const writer = { ...principal(anyQueue), tags: { 'writeback:function': 'write' } };
    expect(await evaluateCall(send, writer, queuePolicy)).toMatchObject({
      result: 'ExplicitlyDenied',
      matchedStatements: [{ sid: 'DenyOtherWritebackFunctions' }],
    });
    // A role without the tag (not a Writeback function) is left to its own identity policy.
    expect((await evaluateCall(send, principal(anyQueue), queuePolicy)).allowed).toBe(true);
  });

  it("a function's policy from AWS::Lambda::Permission lets its own role invoke it, with no identity grant", async () => {
    const fn = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:Writeback-Extract`;
    const functionPolicy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ContinueBacklog',
          Effect: 'Allow',
          Principal: { AWS: ROLE },
          Action: 'lambda:InvokeFunction',
          Resource: fn,
        },
      ],
    };
    const invoke: AwsCall = {
      service: 'lambda',
      operation: 'Invoke',
      action: 'lambda:InvokeFunction',
      resource: fn,
      conditions: {},
    };
    expect((await evaluateCall(invoke, principal(), functionPolicy)).allowed).toBe(true);
    const other = { ...principal(), roleArn: `arn:aws:iam::${ACCOUNT}:role/Other` };
    expect((await evaluateCall(invoke, other, functionPolicy)).allowed).toBe(false);
  });

  it('sts:GetCallerIdentity needs no permission', async () => {
    const call: AwsCall = {
      service: 'sts',
      operation: 'GetCallerIdentity',
      action: 'sts:GetCallerIdentity',
      resource: '*',
      conditions: {},
    };
    expect((await evaluateCall(call, principal())).allowed).toBe(true);
  });

  it('an identity Deny wins over an Allow', async () => {
    const deny = { Effect: 'Deny', Action: 'dynamodb:PutItem', Resource: '*' };
    const decision = await evaluateCall(ddbCall('PutItem', ['s1~a']), principal(itsLinks, deny));
    expect(decision).toMatchObject({ allowed: false, result: 'ExplicitlyDenied' });
    expect(decision.reason).toMatch(/with an explicit deny in an identity-based policy$/);
  });
});

import { describe, expect, it } from 'vitest';
import { FUNCTION_ROLE_TAG } from '../../infra/queueSenders.ts';
import { arnOf, type Decision, evaluate, type PolicyStatement, PSEUDO } from './policyEvaluator.ts';
import { buildStack, syncInput, testConfig } from './stackFixture.ts';
import { logicalId, resource, roleStatements } from './templateQueries.ts';

/**
 * The queue policies (issue 15): of Writeback's functions only a sync's own extract function (and
 * its verify function, which enqueues repairs) may send to the sync's queue, only its write
 * function to its DLQ; nobody else is locked out. Each request is put to the synthesized identity
 * and queue policies by policyEvaluator.ts.
 */

// Prepare (shared): two syncs, one with a verify function.
const config = testConfig([
  syncInput('contacts', { verify: { table: 'hubspot.contacts', externalIdColumn: 'dwh_id' } }),
  syncInput('deals', { target: { connection: 'hubspot', object: 'deals', externalId: 'dwh_id' } }),
]);
const { template } = buildStack(config);

const queueId = (prefix: string) => logicalId(template, 'AWS::SQS::Queue', prefix);
const queues = {
  contacts: queueId('SyncContactsQueue'),
  contactsDlq: queueId('SyncContactsDeadLetterQueue'),
  contactsScheduleDlq: queueId('SyncContactsScheduleDeadLetterQueue'),
  deals: queueId('SyncDealsQueue'),
};

/** The statements of the queue's own policy. */
function queuePolicy(id: string): PolicyStatement[] {
  const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')).filter((p) =>
    (p.Properties.Queues as unknown[]).some((q) => JSON.stringify(q) === JSON.stringify({ Ref: id })),
  );
  expect(policies).toHaveLength(1);
  return policies[0]!.Properties.PolicyDocument.Statement as PolicyStatement[];
}

/** A caller: its ARN, its tags (a role of the stack: from the template) and its identity statements. */
interface Caller {
  readonly arn: string;
  readonly tags: Record<string, string>;
  readonly identity: PolicyStatement[];
}

function stackRole(prefix: string): Caller {
  const id = logicalId(template, 'AWS::IAM::Role', prefix);
  const tags = (resource(template, 'AWS::IAM::Role', prefix).Properties.Tags ?? []) as {
    Key: string;
    Value: string;
  }[];
  return {
    arn: arnOf(id),
    tags: Object.fromEntries(tags.map((t) => [t.Key, t.Value])),
    identity: roleStatements(template, prefix) as unknown as PolicyStatement[],
  };
}

const EVERYTHING: PolicyStatement = { Effect: 'Allow', Action: '*', Resource: '*' };
/** Principals outside the stack, each allowed everything by its own identity policy. */
const outsiders: Record<string, Caller> = {
  'the account root': { arn: `arn:aws:iam::${PSEUDO.account}:root`, tags: {}, identity: [EVERYTHING] },
  'the CloudFormation execution role': {
    arn: `arn:aws:iam::${PSEUDO.account}:role/cdk-hnb659fds-cfn-exec-role-${PSEUDO.account}-${PSEUDO.region}`,
    tags: {},
    identity: [EVERYTHING],
  },
  'an operator (dlq redrive)': {
    arn: `arn:aws:iam::${PSEUDO.account}:role/writeback-operator`,
    tags: { app: 'writeback' },
    identity: [EVERYTHING],
  },
};

function decide(caller: Caller, action: string, queue: string, opts: { tls?: boolean } = {}): Decision {
  return evaluate(
    {
      action,
      resource: arnOf(queue),
      principal: caller.arn,
      context: {
        'aws:PrincipalArn': caller.arn,
        'aws:SecureTransport': String(opts.tls ?? true),
        ...Object.fromEntries(Object.entries(caller.tags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
      },
    },
    caller.identity,
    queuePolicy(queue),
  );
}

/** The caller with a planted mistake: an identity grant of every SQS action on every queue. */
const withSqsEverywhere = (caller: Caller): Caller => ({
  ...caller,
  identity: [...caller.identity, { Effect: 'Allow', Action: 'sqs:*', Resource: '*' }],
});

describe('Queue policies', () => {
  const extract = stackRole('SyncContactsExtractRole');
  const write = stackRole('SyncContactsWriteRole');
  const verify = stackRole('SyncContactsVerifyRole');
  const dealsExtract = stackRole('SyncDealsExtractRole');
  const dealsWrite = stackRole('SyncDealsWriteRole');
  const scheduler = stackRole('SyncContactsScheduleRole');

  it("tags every function role with its kind, and no other role: the queue policies' test", () => {
    // Assess
    expect([extract, write, verify].map((r) => r.tags[FUNCTION_ROLE_TAG])).toEqual([
      'extract',
      'write',
      'verify',
    ]);
    expect(scheduler.tags[FUNCTION_ROLE_TAG]).toBeUndefined();
  });

  it("lets the sync's extract and verify functions send to its queue, and no other Writeback function", () => {
    // Assess
    expect(decide(extract, 'sqs:SendMessage', queues.contacts)).toBe('allow');
    expect(decide(verify, 'sqs:SendMessage', queues.contacts)).toBe('allow');
    expect(decide(write, 'sqs:SendMessage', queues.contacts)).toBe('explicit-deny');
    expect(decide(dealsExtract, 'sqs:SendMessage', queues.contacts)).toBe('explicit-deny');
    expect(decide(dealsWrite, 'sqs:SendMessage', queues.contacts)).toBe('explicit-deny');
  });

  it("refuses another sync's function even when a wrong identity grant allows it every queue", () => {
    // Assess
    expect(decide(withSqsEverywhere(dealsExtract), 'sqs:SendMessage', queues.contacts)).toBe('explicit-deny');
    expect(decide(withSqsEverywhere(extract), 'sqs:SendMessage', queues.deals)).toBe('explicit-deny');
    expect(decide(withSqsEverywhere(dealsWrite), 'sqs:SendMessage', queues.contactsDlq)).toBe(
      'explicit-deny',
    );
  });

  it('lets only the write function send to the DLQ, and only the extract and verify functions (and Scheduler) to the schedule DLQ', () => {
    // Assess
    expect(decide(write, 'sqs:SendMessage', queues.contactsDlq)).toBe('allow');
    expect(decide(withSqsEverywhere(extract), 'sqs:SendMessage', queues.contactsDlq)).toBe('explicit-deny');
    // Failed asynchronous invocations (the functions' on-failure destination) and undeliverable schedules.
    expect(decide(extract, 'sqs:SendMessage', queues.contactsScheduleDlq)).toBe('allow');
    expect(decide(verify, 'sqs:SendMessage', queues.contactsScheduleDlq)).toBe('allow');
    expect(decide(scheduler, 'sqs:SendMessage', queues.contactsScheduleDlq)).toBe('allow');
    expect(decide(withSqsEverywhere(write), 'sqs:SendMessage', queues.contactsScheduleDlq)).toBe(
      'explicit-deny',
    );
  });

  it("keeps the write function's event source working: receive, delete, change visibility, attributes", () => {
    // Assess
    for (const action of [
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueAttributes',
    ]) {
      expect([action, decide(write, action, queues.contacts)]).toEqual([action, 'allow']);
    }
  });

  it('locks nobody out: the root, CloudFormation and an operator keep sending, reading and managing every queue', () => {
    // Assess
    const actions = [
      'sqs:SendMessage',
      'sqs:ReceiveMessage',
      'sqs:PurgeQueue',
      'sqs:SetQueueAttributes',
      'sqs:DeleteQueue',
      'sqs:StartMessageMoveTask',
    ];
    for (const [who, caller] of Object.entries(outsiders)) {
      for (const queue of Object.values(queues)) {
        for (const action of actions)
          expect([who, action, decide(caller, action, queue)]).toEqual([who, action, 'allow']);
      }
    }
  });

  it('denies only sqs:SendMessage, and only to principals tagged as Writeback functions', () => {
    // Assess: the shape that makes the lock-out test above hold for any principal, not only those three
    for (const queue of Object.values(queues)) {
      const denies = queuePolicy(queue).filter((s) => s.Effect === 'Deny');
      const tls = denies.filter((s) => JSON.stringify(s.Condition).includes('aws:SecureTransport'));
      const senders = denies.filter((s) => s !== tls[0]);
      expect(tls).toHaveLength(1);
      expect(senders).toHaveLength(1);
      expect(senders[0]!.Action).toBe('sqs:SendMessage');
      expect(senders[0]!.Condition?.Null).toEqual({ [`aws:PrincipalTag/${FUNCTION_ROLE_TAG}`]: 'false' });
    }
  });

  it('still denies every request without TLS', () => {
    // Assess
    expect(decide(extract, 'sqs:SendMessage', queues.contacts, { tls: false })).toBe('explicit-deny');
    expect(
      decide(outsiders['the account root']!, 'sqs:ReceiveMessage', queues.contactsDlq, { tls: false }),
    ).toBe('explicit-deny');
  });
});

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { DynamoRefreshLease } from '../../shared/state/DynamoRefreshLease.ts';
import { arnOf, evaluate, type PolicyStatement, resolveValue } from './policyEvaluator.ts';
import { buildStack, syncInput, testConfig } from './stackFixture.ts';
import { logicalId, roleStatements } from './templateQueries.ts';

/**
 * The write function of a connection that lives on rotating OAuth tokens (Xero) may write its
 * refreshed tokens back to the connection secret and take the connection's refresh lease in the
 * state table, and nothing more there; a writer of any other connection gets neither. The lease's
 * real requests (DynamoRefreshLease, recorded instead of sent) are put to the synthesized policies.
 */
const config = testConfig(
  [syncInput('xero-contacts', { target: { connection: 'xero', object: 'Contacts' } }), syncInput('contacts')],
  {
    connections: {
      hubspot: { type: 'hubspot', secret: 'writeback/hubspot' },
      xero: { type: 'xero', secret: 'writeback/xero' },
    },
  },
);
const { template } = buildStack(config);
const STATE = logicalId(template, 'AWS::DynamoDB::Table', 'StateTable');

/** The UpdateItem requests the lease sends (acquire, release), as recorded. */
async function leaseRequests(connection: string): Promise<{ key: string }[]> {
  const sent: { key: string }[] = [];
  const client = new DynamoDBClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 't', secretAccessKey: 't' },
  });
  client.middlewareStack.add(
    () => async (args) => {
      const input = args.input as { Key: { pk: { S: string } } };
      sent.push({ key: input.Key.pk.S });
      return { output: { $metadata: {} }, response: {} } as never;
    },
    { step: 'initialize', name: 'recordInsteadOfSend' },
  );
  const lease = new DynamoRefreshLease(client, 'STATE', connection);
  await lease.acquire('holder', 60_000);
  await lease.release('holder');
  return sent;
}

function allowed(
  rolePrefix: string,
  action: string,
  resource: string,
  context: Record<string, string[]> = {},
) {
  const statements = roleStatements(template, rolePrefix) as unknown as PolicyStatement[];
  return evaluate(
    { action, resource, principal: arnOf(logicalId(template, 'AWS::IAM::Role', rolePrefix)), context },
    statements,
  );
}

function secretActions(rolePrefix: string): string[] {
  return (roleStatements(template, rolePrefix) as unknown as PolicyStatement[])
    .filter((s) => [s.Resource].flat().some((r) => resolveValue(r).includes(':secret:')))
    .flatMap((s) => [s.Action].flat() as string[])
    .sort();
}

describe('Grants for rotating OAuth tokens', () => {
  it("lets a Xero writer take and release its connection's refresh lease, and nothing else in the state table", async () => {
    for (const req of await leaseRequests('xero')) {
      expect(
        allowed('SyncXeroContactsWriteRole', 'dynamodb:UpdateItem', arnOf(STATE), {
          'dynamodb:LeadingKeys': [req.key],
        }),
      ).toBe('allow');
    }
    expect(
      allowed('SyncXeroContactsWriteRole', 'dynamodb:UpdateItem', arnOf(STATE), {
        'dynamodb:LeadingKeys': ['sync#xero-contacts'],
      }),
    ).not.toBe('allow');
    expect(secretActions('SyncXeroContactsWriteRole')).toEqual([
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
    ]);
  });

  it('gives a writer of a static-token connection neither the lease nor a write to its secret', async () => {
    for (const req of await leaseRequests('hubspot')) {
      expect(
        allowed('SyncContactsWriteRole', 'dynamodb:UpdateItem', arnOf(STATE), {
          'dynamodb:LeadingKeys': [req.key],
        }),
      ).not.toBe('allow');
    }
    expect(secretActions('SyncContactsWriteRole')).toEqual(['secretsmanager:GetSecretValue']);
  });

  it("keeps each connection on rotating tokens alive: one weekly schedule per connection, into its first sync's write function", () => {
    // Prepare: a second Xero sync shares the connection
    const two = testConfig(
      [
        syncInput('xero-contacts', { target: { connection: 'xero', object: 'Contacts' } }),
        syncInput('xero-invoices', { target: { connection: 'xero', object: 'Invoices' }, enabled: false }),
        syncInput('contacts'),
      ],
      { connections: config.connections },
    );
    // Act
    const { template: t, app } = buildStack(two);
    // Assess
    const schedules = Object.values(t.findResources('AWS::Scheduler::Schedule')).filter((r) =>
      String(r.Properties.Target.Input).includes('keepAlive'),
    );
    expect(schedules).toHaveLength(1);
    const schedule = schedules[0]!.Properties;
    expect(schedule.ScheduleExpression).toBe('rate(7 days)');
    expect(schedule.State).toBe('ENABLED');
    expect(JSON.parse(schedule.Target.Input)).toEqual({
      keepAlive: { sync: 'xero-contacts', connection: 'xero' },
    });
    expect(schedule.Target.Arn).toEqual({
      'Fn::GetAtt': [logicalId(t, 'AWS::Lambda::Function', 'SyncXeroContactsWriteFunction'), 'Arn'],
    });
    // Only that function may be invoked by the schedule's role, and cdk-nag finds nothing new.
    const invoke = roleStatements(t, 'SyncXeroContactsKeepAliveScheduleRole').filter((st) =>
      [st.Action].flat().includes('lambda:InvokeFunction'),
    );
    expect(invoke.length).toBeGreaterThan(0);
    for (const st of invoke)
      for (const r of [st.Resource].flat())
        expect(JSON.stringify(r)).toContain('SyncXeroContactsWriteFunction');
    // A keep-alive that fails after its retries reaches the schedule DLQ (alarmed), which lets
    // this writer send to it; the writer of the other Xero sync has no such destination.
    const dlq = logicalId(t, 'AWS::SQS::Queue', 'SyncXeroContactsScheduleDeadLetterQueue');
    const configs = Object.values(t.findResources('AWS::Lambda::EventInvokeConfig'));
    const writers = configs.filter((c) =>
      JSON.stringify(c.Properties.FunctionName).includes('WriteFunction'),
    );
    expect(writers).toHaveLength(1);
    expect(JSON.stringify(writers[0]!.Properties.FunctionName)).toContain('SyncXeroContactsWriteFunction');
    expect(writers[0]!.Properties).toMatchObject({
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlq, 'Arn'] } } },
    });
    const writeRole = logicalId(t, 'AWS::IAM::Role', 'SyncXeroContactsWriteRole');
    const dlqPolicy = JSON.stringify(
      Object.values(t.findResources('AWS::SQS::QueuePolicy')).find((q) =>
        JSON.stringify(q.Properties.Queues).includes(dlq),
      ),
    );
    expect(dlqPolicy).toContain(writeRole);
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(
      report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath}`)),
    ).toEqual([]);
  });

  it('schedules no keep-alive for a stack whose connections do not rotate tokens', () => {
    const { template: t } = buildStack(testConfig([syncInput('contacts')]));
    const inputs = Object.values(t.findResources('AWS::Scheduler::Schedule')).map((r) =>
      String(r.Properties.Target.Input),
    );
    expect(inputs.filter((i) => i.includes('keepAlive'))).toEqual([]);
  });
});

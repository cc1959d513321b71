import { describe, expect, it } from 'vitest';
import { syncOutputNames } from '../../shared/contracts/outputNames.ts';
import { ENV } from '../../shared/contracts/RuntimeEnv.ts';
import { buildStack, syncInput, testConfig } from './stackFixture.ts';
import { actionsOn, logicalId, resource, roleStatements } from './templateQueries.ts';

// Prepare: one sync verified against its warehouse copy, one verified through the API, one not verified.
const config = testConfig([
  syncInput('contacts', {
    verify: {
      table: 'hubspot.contacts',
      externalIdColumn: 'dwh_id',
      loadedAtColumn: '_loaded_at',
      schedule: 'rate(6 hours)',
    },
  }),
  syncInput('deals', {
    target: { connection: 'hubspot', object: 'deals', externalId: 'dwh_id' },
    verify: {},
  }),
  syncInput('companies', { target: { connection: 'hubspot', object: 'companies', externalId: 'dwh_id' } }),
]);
const { template } = buildStack(config);
const functions = template.findResources('AWS::Lambda::Function');
const verifyFunctions = Object.keys(functions).filter((id) => id.includes('VerifyFunction'));

describe('Verify function', () => {
  it('exists only for syncs that configure verify', () => {
    expect(verifyFunctions.map((id) => id.replace(/VerifyFunction.*/, '')).sort()).toEqual([
      'SyncContacts',
      'SyncDeals',
    ]);
  });

  it("runs on the verify schedule with the sync's name as input", () => {
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')).filter((s) =>
      String(s.Properties.Description).includes('contacts verify'),
    );
    expect(schedules).toHaveLength(1);
    expect(schedules[0]!.Properties.ScheduleExpression).toBe('rate(6 hours)');
    expect(JSON.parse(schedules[0]!.Properties.Target.Input)).toEqual({ sync: 'contacts' });
  });

  it('may scan the links table, and reads the connection secret only when it lists the target API', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const statementsOf = (prefix: string) =>
      policies
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(prefix))
        .flatMap(
          (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
        );
    const contacts = statementsOf('SyncContactsVerifyRole');
    const scan = contacts.filter((s) => [s.Action].flat().includes('dynamodb:Scan'));
    expect(scan).toHaveLength(1);
    expect(JSON.stringify(scan[0]!.Resource)).toMatch(/LinksTable/);
    const secretReads = (stmts: typeof contacts) =>
      stmts
        .filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))
        .map((s) => JSON.stringify(s.Resource));
    expect(secretReads(contacts).join()).not.toMatch(/hubspot/);
    expect(secretReads(statementsOf('SyncDealsVerifyRole')).join()).toMatch(/hubspot/);
  });

  it("publishes each verify function's name for the CLI (writeback verify), only for verified syncs", () => {
    // Assess
    template.hasOutput(syncOutputNames('contacts').verifyFunctionName, {
      Value: { Ref: logicalId(template, 'AWS::Lambda::Function', 'SyncContactsVerifyFunction') },
    });
    expect(template.findOutputs(syncOutputNames('deals').verifyFunctionName)).not.toEqual({});
    expect(template.findOutputs(syncOutputNames('companies').verifyFunctionName)).toEqual({});
  });

  it("may send to its sync's queue only, for a repair (writeback verify --repair)", () => {
    // Assess
    const fn = resource(template, 'AWS::Lambda::Function', 'SyncContactsVerifyFunction').Properties as {
      Environment: { Variables: Record<string, unknown> };
    };
    const queue = logicalId(template, 'AWS::SQS::Queue', 'SyncContactsQueue');
    expect(fn.Environment.Variables[ENV.queueUrl]).toEqual({ Ref: queue });
    const statements = roleStatements(template, 'SyncContactsVerifyRole');
    expect(actionsOn(statements, queue)).toContain('sqs:SendMessage');
    expect(actionsOn(statements, queue).filter((a) => /Receive|Delete|Purge/.test(a))).toEqual([]);
    const dlq = logicalId(template, 'AWS::SQS::Queue', 'SyncContactsDeadLetterQueue');
    expect(actionsOn(statements, dlq)).toEqual([]);
  });

  it("raises one alarm for the stack's verifications, on one billed metric, when any finds anything but backlog", () => {
    const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.filter(([id]) => id.includes('VerifyFindingsAlarm')).map(([id]) => id)).toEqual([
      logicalId(template, 'AWS::CloudWatch::Alarm', 'VerifyFindingsAlarm'),
    ]);
    const alarm = resource(template, 'AWS::CloudWatch::Alarm', 'VerifyFindingsAlarm').Properties;
    expect(alarm).toMatchObject({
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      Namespace: 'Writeback',
      MetricName: 'VerifyMismatched',
      Dimensions: [{ Name: 'service', Value: 'writeback' }],
      Statistic: 'Maximum',
    });
    expect(alarm.Metrics).toBeUndefined();
  });

  it('has no verify alarm when no sync verifies', () => {
    const { template: unverified } = buildStack(testConfig([syncInput('companies')]));
    expect(
      Object.keys(unverified.findResources('AWS::CloudWatch::Alarm')).some((id) => id.includes('Verify')),
    ).toBe(false);
  });
});

describe('Verify function of associated children', () => {
  // Prepare: line items associated with deals, both verified against warehouse copies; only one
  // copy carries the associations (verify.parentColumn)
  const associated = (name: string, verify: Record<string, unknown>) =>
    syncInput(name, {
      parent: { sync: 'deals', key: 'deal_id' },
      target: {
        connection: 'hubspot',
        object: 'line_items',
        externalId: 'dwh_id',
        associate: { with: 'deals' },
      },
      verify: { table: 'hubspot.line_items', targetIdColumn: 'id', ...verify },
    });
  const { template: t } = buildStack(
    testConfig([
      syncInput('deals', { target: { connection: 'hubspot', object: 'deals', externalId: 'dwh_id' } }),
      associated('lines', {}),
      associated('lines-copied', { parentColumn: 'deal_id' }),
    ]),
  );
  const secretReads = (role: string) =>
    roleStatements(t, role)
      .filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))
      .map((s) => JSON.stringify(s.Resource))
      .join();
  const envOf = (id: string) =>
    (
      resource(t, 'AWS::Lambda::Function', id).Properties as {
        Environment: { Variables: Record<string, unknown> };
      }
    ).Environment.Variables;

  it('reads the connection secret to read the associations from the API when the copy does not carry them', () => {
    // Assess
    expect(secretReads('SyncLinesVerifyRole')).toMatch(/hubspot/);
    expect(envOf('SyncLinesVerifyFunction')[ENV.connectionSecretArn]).toBeDefined();
  });

  it('does not touch the connection secret when the copy carries the associations', () => {
    // Assess
    expect(secretReads('SyncLinesCopiedVerifyRole')).not.toMatch(/hubspot/);
    expect(envOf('SyncLinesCopiedVerifyFunction')[ENV.connectionSecretArn]).toBeUndefined();
  });
});

import { App, Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { NO_ALARM_ACTION_WARNING } from '../../infra/alarmActions.ts';
import { WritebackStack } from '../../infra/WritebackStack.ts';
import { buildStack, syncInput, testConfig } from './stackFixture.ts';
import { logicalId, resource } from './templateQueries.ts';

/**
 * Operator safety at scale (issue 15): every alarm notifies someone (or synth says nobody is
 * told), every asynchronous invocation has a chosen retry policy and a failure destination, and
 * the dead-letter queues are kept like the tables.
 */

// Prepare (shared): a sync with verify, a parent and a child that runs after it.
const config = testConfig([
  syncInput('contacts', { verify: { table: 'hubspot.contacts', externalIdColumn: 'dwh_id' } }),
  syncInput('customers'),
  syncInput('invoices', { parent: { sync: 'customers', key: 'customer_id' } }),
]);
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ops';

describe('Alarm actions', () => {
  it('notifies the topic from every alarm of the stack, on alarm and on recovery, the verify findings alarm too', () => {
    // Act
    const { template } = buildStack(config, { alarmTopicArn: TOPIC });
    // Assess
    const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(20);
    for (const [id, alarm] of alarms) {
      expect([id, alarm.Properties.AlarmActions, alarm.Properties.OKActions]).toEqual([id, [TOPIC], [TOPIC]]);
    }
    expect(alarms.some(([id]) => id.startsWith('VerifyFindingsAlarm'))).toBe(true);
  });

  it('notifies the topic it creates for alarmEmail', () => {
    // Act
    const { template } = buildStack(config, { alarmEmail: 'ops@example.com' });
    // Assess
    const topic = { Ref: logicalId(template, 'AWS::SNS::Topic', 'AlarmTopic') };
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([topic]);
      expect(alarm.Properties.OKActions).toEqual([topic]);
    }
  });

  it('gives an alarm added to the stack later the action too, without it asking', () => {
    // Prepare: a stack not synthesized yet (buildStack synthesizes)
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new WritebackStack(app, 'Writeback', { config, alarmTopicArn: TOPIC });
    // Act
    new cloudwatch.Alarm(stack, 'LaterAlarm', {
      metric: new cloudwatch.Metric({
        namespace: 'Writeback',
        metricName: 'Anything',
        period: Duration.minutes(5),
      }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    // Assess
    const later = resource(Template.fromStack(stack), 'AWS::CloudWatch::Alarm', 'LaterAlarm').Properties;
    expect(later.AlarmActions).toEqual([TOPIC]);
  });

  it('warns at synth when no topic is configured, and not otherwise', () => {
    // Act
    const without = buildStack(config).stack;
    const withTopic = buildStack(config, { alarmTopicArn: TOPIC }).stack;
    // Assess
    const warning = Match.stringLikeRegexp(
      `No alarm topic: the alarms notify nobody.*${NO_ALARM_ACTION_WARNING}`,
    );
    expect(Annotations.fromStack(without).findWarning('*', warning)).toHaveLength(1);
    expect(Annotations.fromStack(withTopic).findWarning('*', warning)).toHaveLength(0);
  });
});

describe('Asynchronous invocations', () => {
  const { template } = buildStack(config);
  const scheduleDlq = (sync: string) =>
    logicalId(template, 'AWS::SQS::Queue', `Sync${sync}ScheduleDeadLetterQueue`);
  const invokeConfigOf = (functionPrefix: string) => {
    const fn = logicalId(template, 'AWS::Lambda::Function', functionPrefix);
    const configs = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')).filter(
      (c) => JSON.stringify(c.Properties.FunctionName) === JSON.stringify({ Ref: fn }),
    );
    return configs.map((c) => c.Properties);
  };

  it('retries an extract invocation (schedule, continuation, a parent starting its child) once within an hour, then sends it to the schedule DLQ', () => {
    // Assess
    for (const sync of ['Contacts', 'Customers', 'Invoices']) {
      expect(invokeConfigOf(`Sync${sync}ExtractFunction`)).toEqual([
        {
          FunctionName: expect.anything(),
          Qualifier: '$LATEST',
          MaximumRetryAttempts: 1,
          MaximumEventAgeInSeconds: 3600,
          DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [scheduleDlq(sync), 'Arn'] } } },
        },
      ]);
    }
  });

  it('does not retry a verification, and sends a failed one to the schedule DLQ', () => {
    // Assess
    expect(invokeConfigOf('SyncContactsVerifyFunction')).toEqual([
      {
        FunctionName: expect.anything(),
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 3600,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [scheduleDlq('Contacts'), 'Arn'] } } },
      },
    ]);
  });

  it('leaves the write function alone: its event source invokes it synchronously and has its own DLQ', () => {
    // Assess
    expect(invokeConfigOf('SyncContactsWriteFunction')).toEqual([]);
  });

  it('gives every schedule, extract and verify, a chosen retry policy and a dead-letter queue', () => {
    // Assess
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));
    expect(schedules.map((s) => String(s.Properties.Description)).sort()).toEqual([
      'Writeback contacts verify: rate(1 day)',
      'Writeback contacts: rate(5 minutes)',
      'Writeback customers: rate(5 minutes)',
    ]);
    for (const schedule of schedules) {
      expect(schedule.Properties.Target).toMatchObject({
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: {
          Arn: { 'Fn::GetAtt': [expect.stringMatching(/ScheduleDeadLetterQueue/), 'Arn'] },
        },
      });
    }
  });
});

describe('Dead-letter queues and retainData', () => {
  const policies = (retainData: boolean | undefined) => {
    const { template } = buildStack(config, retainData === undefined ? {} : { retainData });
    const of = (prefix: string) => {
      const q = resource(template, 'AWS::SQS::Queue', prefix) as unknown as Record<string, unknown>;
      return [q.DeletionPolicy, q.UpdateReplacePolicy];
    };
    return {
      dlq: of('SyncContactsDeadLetterQueue'),
      scheduleDlq: of('SyncContactsScheduleDeadLetterQueue'),
      queue: of('SyncContactsQueue'),
    };
  };

  it('keeps both dead-letter queues when the stack is deleted, like the tables', () => {
    // Assess
    expect(policies(undefined)).toEqual({
      dlq: ['Retain', 'Retain'],
      scheduleDlq: ['Retain', 'Retain'],
      // The queue holds records on their way, re-sent by the next run: not data to keep.
      queue: ['Delete', 'Delete'],
    });
  });

  it('deletes them with retainData=false', () => {
    // Assess
    expect(policies(false)).toEqual({
      dlq: ['Delete', 'Delete'],
      scheduleDlq: ['Delete', 'Delete'],
      queue: ['Delete', 'Delete'],
    });
  });
});

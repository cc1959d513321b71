import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { SyncPipeline } from '../../infra/SyncPipeline.ts';
import { DEFAULT_ENTRIES } from '../../infra/WritebackStack.ts';
import { mappingFingerprint } from '../../shared/config/mappingFingerprint.ts';
import { ENV } from '../../shared/contracts/RuntimeEnv.ts';
import { ConfigValidationError } from '../../shared/errors.ts';
import { buildStack, syncInput, testConfig } from './stackFixture.ts';
import { actionsOn, allActions, logicalId, resource, roleStatements } from './templateQueries.ts';

// Prepare (shared): one hubspot sync with a large batch, one postgres sync with defaults.
const config = testConfig([
  syncInput('contacts', { batchSize: 250, concurrency: 8, maxReceiveCount: 25 }),
  syncInput('invoices', {
    enabled: false,
    schedule: 'cron(0/15 * * * ? *)',
    target: { connection: 'billing-db', object: 'billing.invoices' },
    batchSize: 10,
  }),
  syncInput('deals', { target: { connection: 'hubspot', object: 'deals' } }),
]);
// Act (shared)
const { template } = buildStack(config, { alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops' });

const id = {
  queue: logicalId(template, 'AWS::SQS::Queue', 'SyncContactsQueue'),
  dlq: logicalId(template, 'AWS::SQS::Queue', 'SyncContactsDeadLetterQueue'),
  scheduleDlq: logicalId(template, 'AWS::SQS::Queue', 'SyncContactsScheduleDeadLetterQueue'),
  extract: logicalId(template, 'AWS::Lambda::Function', 'SyncContactsExtractFunction'),
  write: logicalId(template, 'AWS::Lambda::Function', 'SyncContactsWriteFunction'),
  stateTable: logicalId(template, 'AWS::DynamoDB::Table', 'StateTable'),
  linksTable: logicalId(template, 'AWS::DynamoDB::Table', 'LinksTable'),
  bucket: logicalId(template, 'AWS::S3::Bucket', 'ClaimCheckBucket'),
};

describe('Class: SyncPipeline', () => {
  describe('Queue', () => {
    it('encrypts the queue and both dead-letter queues with SQS-managed keys', () => {
      // Assess
      for (const queueId of [id.queue, id.dlq, id.scheduleDlq]) {
        expect(template.findResources('AWS::SQS::Queue')[queueId]?.Properties.SqsManagedSseEnabled).toBe(
          true,
        );
      }
    });

    it('denies every request that does not use TLS', () => {
      // Assess
      for (const queueId of [id.queue, id.dlq, id.scheduleDlq]) {
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: queueId }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: 'sqs:*',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        });
      }
    });

    it('sets the visibility timeout to six times the write timeout plus the batching window', () => {
      // Prepare
      const writeTimeout = resource(template, 'AWS::Lambda::Function', 'SyncContactsWriteFunction').Properties
        .Timeout as number;
      const window = resource(template, 'AWS::Lambda::EventSourceMapping', 'SyncContactsWriteFunction')
        .Properties.MaximumBatchingWindowInSeconds as number;
      // Assess
      const visibility = resource(template, 'AWS::SQS::Queue', 'SyncContactsQueue').Properties
        .VisibilityTimeout;
      expect(writeTimeout).toBe(60);
      expect(visibility).toBe(6 * writeTimeout + window);
      expect(visibility).toBeGreaterThanOrEqual(6 * writeTimeout);
    });

    it("redrives to the dead-letter queue after the sync's maxReceiveCount", () => {
      // Assess
      expect(resource(template, 'AWS::SQS::Queue', 'SyncContactsQueue').Properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [id.dlq, 'Arn'] },
        maxReceiveCount: 25,
      });
      expect(resource(template, 'AWS::SQS::Queue', 'SyncDealsQueue').Properties.RedrivePolicy).toMatchObject({
        maxReceiveCount: 10,
      });
    });

    it("accepts messages up to SQS's largest size, 1 MiB, on the queue and its DLQ, and keeps queued ones 4 days", () => {
      // Assess
      for (const queueId of [id.queue, id.dlq]) {
        expect(template.findResources('AWS::SQS::Queue')[queueId]?.Properties.MaximumMessageSize).toBe(
          1_048_576,
        );
      }
      expect(
        resource(template, 'AWS::SQS::Queue', 'SyncContactsQueue').Properties.MessageRetentionPeriod,
      ).toBe(345_600);
    });

    it('keeps dead letters for 14 days', () => {
      // Assess
      for (const queueId of [id.dlq, id.scheduleDlq]) {
        expect(template.findResources('AWS::SQS::Queue')[queueId]?.Properties.MessageRetentionPeriod).toBe(
          1_209_600,
        );
      }
    });
  });

  describe('Event source mapping', () => {
    it('reports batch item failures with the sync batch size, a batching window and max concurrency', () => {
      // Assess
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [id.queue, 'Arn'] },
        FunctionName: { Ref: id.write },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 250,
        MaximumBatchingWindowInSeconds: 5,
        ScalingConfig: { MaximumConcurrency: 8 },
      });
    });

    it('uses no batching window for batches of ten or fewer', () => {
      // Assess
      const mapping = resource(template, 'AWS::Lambda::EventSourceMapping', 'SyncInvoicesWriteFunction');
      expect(mapping.Properties.BatchSize).toBe(10);
      expect(mapping.Properties.MaximumBatchingWindowInSeconds).toBeUndefined();
      expect(resource(template, 'AWS::SQS::Queue', 'SyncInvoicesQueue').Properties.VisibilityTimeout).toBe(
        360,
      );
    });

    it('defaults to batches of 100 and a max concurrency of 2', () => {
      // Assess
      const mapping = resource(template, 'AWS::Lambda::EventSourceMapping', 'SyncDealsWriteFunction');
      expect(mapping.Properties).toMatchObject({ BatchSize: 100, ScalingConfig: { MaximumConcurrency: 2 } });
    });
  });

  describe('Schedule', () => {
    it("invokes the extract function with the sync's expression, enabled state and input", () => {
      // Assess
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(5 minutes)',
        State: 'ENABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: Match.objectLike({
          Arn: { 'Fn::GetAtt': [id.extract, 'Arn'] },
          Input: JSON.stringify({ sync: 'contacts' }),
        }),
      });
    });

    it('creates a disabled schedule for a disabled sync', () => {
      // Assess
      const schedule = resource(template, 'AWS::Scheduler::Schedule', 'SyncInvoicesSchedule');
      expect(schedule.Properties).toMatchObject({
        ScheduleExpression: 'cron(0/15 * * * ? *)',
        State: 'DISABLED',
      });
    });

    it('sends undeliverable invocations to its own dead-letter queue after a bounded retry policy', () => {
      // Assess
      const target = resource(template, 'AWS::Scheduler::Schedule', 'SyncContactsSchedule').Properties.Target;
      expect(target).toMatchObject({
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id.scheduleDlq, 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      });
    });

    it('puts every schedule in the stack schedule group', () => {
      // Prepare
      const groupName = resource(template, 'AWS::Scheduler::ScheduleGroup', 'ScheduleGroup').Properties.Name;
      // Assess
      for (const schedule of Object.values(template.findResources('AWS::Scheduler::Schedule'))) {
        expect(schedule.Properties.GroupName).toEqual(groupName);
      }
    });
  });

  describe('Functions', () => {
    it('runs both handlers on nodejs24.x arm64 with JSON logs in a log group with retention', () => {
      // Assess
      for (const [prefix, handlerMemory, timeout] of [
        ['SyncContactsExtractFunction', 1024, 300],
        ['SyncContactsWriteFunction', 512, 60],
      ] as const) {
        const fn = resource(template, 'AWS::Lambda::Function', prefix).Properties;
        expect(fn).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          MemorySize: handlerMemory,
          Timeout: timeout,
          LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO' },
          TracingConfig: { Mode: 'Active' },
        });
        const logGroupId = (fn.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
        expect(template.findResources('AWS::Logs::LogGroup')[logGroupId]?.Properties.RetentionInDays).toBe(
          30,
        );
      }
    });

    it('lets only the extract function re-invoke itself to continue a backlog', () => {
      // Assess
      const extract = resource(template, 'AWS::Lambda::Function', 'SyncContactsExtractFunction').Properties;
      const write = resource(template, 'AWS::Lambda::Function', 'SyncContactsWriteFunction').Properties;
      expect(extract.RecursiveLoop).toBe('Allow');
      expect(write.RecursiveLoop).toBeUndefined();
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter((r) =>
        JSON.stringify(r.Properties.FunctionName).includes(id.extract),
      );
      const selfInvoke = permissions.filter(
        (r) => r.Properties.Action === 'lambda:InvokeFunction' && !r.Properties.SourceArn,
      );
      expect(selfInvoke).toHaveLength(1);
      expect(JSON.stringify(selfInvoke[0]!.Properties.Principal)).toContain('SyncContactsExtractRole');
    });

    it('sets the runtime env contract on the extract function', () => {
      // Assess
      const env = resource(template, 'AWS::Lambda::Function', 'SyncContactsExtractFunction').Properties
        .Environment;
      expect(env).toEqual({
        Variables: {
          [ENV.sync]: 'contacts',
          [ENV.stateTable]: { Ref: id.stateTable },
          [ENV.linksTable]: { Ref: id.linksTable },
          [ENV.queueUrl]: { Ref: id.queue },
          [ENV.claimCheckBucket]: { Ref: id.bucket },
          [ENV.dwhSecretArn]: expect.anything(),
          // Computed from the config as written, so a deploy that changes map() makes the next run re-read.
          [ENV.mappingFingerprint]: mappingFingerprint(config.syncs[0]!),
          // Its Postgres statements stop before it does; the RDS CAs verify the warehouse.
          [ENV.functionTimeoutMs]: '300000',
          NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'writeback',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
      });
      expect(JSON.stringify(env)).toContain(':secret:writeback/dwh');
    });

    it('sets the runtime env contract on the write function', () => {
      // Assess
      const env = resource(template, 'AWS::Lambda::Function', 'SyncContactsWriteFunction').Properties
        .Environment as {
        Variables: Record<string, unknown>;
      };
      expect(Object.keys(env.Variables).sort()).toEqual(
        [
          ENV.sync,
          ENV.stateTable,
          ENV.linksTable,
          ENV.queueUrl,
          ENV.dlqUrl,
          ENV.connectionSecretArn,
          ENV.claimCheckBucket,
          // No NODE_EXTRA_CA_CERTS: a HubSpot writer reaches no database.
          ENV.functionTimeoutMs,
          'NODE_OPTIONS',
          'POWERTOOLS_SERVICE_NAME',
          'POWERTOOLS_LOG_LEVEL',
        ].sort(),
      );
      expect(env.Variables[ENV.dlqUrl]).toEqual({ Ref: id.dlq });
      expect(JSON.stringify(env.Variables[ENV.connectionSecretArn])).toContain(':secret:writeback/hubspot');
      expect(env.Variables[ENV.dwhSecretArn]).toBeUndefined();
    });

    it("gives each write function its own connection's secret", () => {
      // Assess
      const env = resource(template, 'AWS::Lambda::Function', 'SyncInvoicesWriteFunction').Properties
        .Environment;
      expect(JSON.stringify(env)).toContain(':secret:writeback/billing-db');
    });
  });

  describe('Permissions', () => {
    const extract = roleStatements(template, 'SyncContactsExtractRole');
    const write = roleStatements(template, 'SyncContactsWriteRole');

    it('lets the extract function send to its queue but not consume it or touch the DLQ', () => {
      // Assess
      expect(actionsOn(extract, id.queue)).toEqual(['sqs:SendMessage']);
      expect(actionsOn(extract, id.dlq)).toEqual([]);
    });

    it('lets the write function consume its queue and send to its DLQ, but not send to the main queue', () => {
      // Assess
      expect(actionsOn(write, id.queue)).toEqual([
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
      ]);
      expect(actionsOn(write, id.dlq)).toEqual(['sqs:SendMessage']);
    });

    it("lets the extract function only store claim checks, under its sync's prefix", () => {
      // Assess
      const s3Statements = extract.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')));
      expect(s3Statements).toEqual([
        expect.objectContaining({
          Effect: 'Allow',
          Action: 's3:PutObject',
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id.bucket, 'Arn'] }, '/contacts/*']] },
        }),
      ]);
    });

    it("lets the write function only read and delete claim checks under its sync's prefix, and list only that prefix", () => {
      // Assess
      const s3Statements = write.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')));
      expect(s3Statements).toEqual([
        expect.objectContaining({
          Effect: 'Allow',
          Action: ['s3:GetObject', 's3:DeleteObject'],
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id.bucket, 'Arn'] }, '/contacts/*']] },
        }),
        // So that S3 answers a missing object with 404, not 403: "gone" is told apart from "denied".
        expect.objectContaining({
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: { 'Fn::GetAtt': [id.bucket, 'Arn'] },
          Condition: { StringLike: { 's3:prefix': 'contacts/*' } },
        }),
      ]);
      expect(allActions(write)).not.toContain('s3:PutObject');
    });

    it("keeps functions out of other syncs' queues", () => {
      // Prepare
      const dealsQueue = logicalId(template, 'AWS::SQS::Queue', 'SyncDealsQueue');
      const dealsDlq = logicalId(template, 'AWS::SQS::Queue', 'SyncDealsDeadLetterQueue');
      // Assess
      for (const statements of [extract, write]) {
        expect(actionsOn(statements, dealsQueue)).toEqual([]);
        expect(actionsOn(statements, dealsDlq)).toEqual([]);
      }
    });

    it('lets the extract function read and update links and write the state table, and the write function only touch links', () => {
      // Assess: the exact grants, with their leading keys, are in leastPrivilege.test.ts
      expect(actionsOn(extract, id.linksTable)).toEqual(['dynamodb:BatchGetItem', 'dynamodb:UpdateItem']);
      expect(actionsOn(extract, id.stateTable)).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ]);
      expect(actionsOn(write, id.linksTable)).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
      ]);
      expect(actionsOn(write, id.stateTable)).toEqual([]);
    });

    it('grants no table scans, stream reads or wildcard actions', () => {
      // Assess
      for (const statements of [extract, write]) {
        const actions = allActions(statements);
        expect(actions).not.toContain('dynamodb:Scan');
        expect(actions.filter((a) => a.includes('*'))).toEqual([]);
        expect(actions.filter((a) => /GetRecords|GetShardIterator/.test(a))).toEqual([]);
      }
    });

    it('lets the extract function read only the warehouse secret, and the write function only its connection secret', () => {
      // Prepare
      const secretResources = (statements: typeof extract): string =>
        JSON.stringify(statements.filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue')));
      // Assess
      expect(secretResources(extract)).toContain(':secret:writeback/dwh-??????');
      expect(secretResources(extract)).not.toContain('writeback/hubspot');
      expect(secretResources(extract)).not.toContain('writeback/billing-db');
      expect(secretResources(write)).toContain(':secret:writeback/hubspot-??????');
      expect(secretResources(write)).not.toContain('writeback/dwh');
    });

    it('writes logs to its own log group only', () => {
      // Prepare
      const logGroup = logicalId(template, 'AWS::Logs::LogGroup', 'SyncContactsExtractLogGroup');
      // Assess
      expect(actionsOn(extract, logGroup)).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      expect(allActions(extract).filter((a) => a.startsWith('logs:'))).toEqual([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ]);
    });

    it('uses no AWS managed policies', () => {
      // Assess
      for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      }
    });

    it("lets the scheduler role invoke only the sync's extract function and write to the schedule DLQ", () => {
      // Prepare
      const statements = roleStatements(template, 'SyncContactsScheduleRole');
      // Assess
      expect(allActions(statements)).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
      expect(actionsOn(statements, id.extract)).toEqual(['lambda:InvokeFunction']);
      expect(actionsOn(statements, id.scheduleDlq)).toEqual(['sqs:SendMessage']);
      const role = resource(template, 'AWS::IAM::Role', 'SyncContactsScheduleRole');
      expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('aws:SourceAccount');
    });
  });

  describe('Alarms', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
      String(a.Properties.AlarmDescription).startsWith('Writeback contacts:'),
    );
    const byMetric = (namespace: string, metric: string) =>
      alarms.filter((a) => a.Properties.Namespace === namespace && a.Properties.MetricName === metric);

    it('alarms when a record reaches the dead-letter queue', () => {
      // Assess
      const [dlq] = byMetric('AWS/SQS', 'ApproximateNumberOfMessagesVisible').filter(
        (a) => a.Properties.Dimensions[0].Value['Fn::GetAtt'][0] === id.dlq,
      );
      expect(dlq?.Properties).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    });

    it('alarms when the oldest queued record is older than an hour', () => {
      // Assess
      expect(byMetric('AWS/SQS', 'ApproximateAgeOfOldestMessage')[0]?.Properties).toMatchObject({
        Threshold: 3600,
        Statistic: 'Maximum',
      });
    });

    it("alarms on the extract function's errors, and leaves the writer's to the queue's age and the DLQ", () => {
      // Assess: a writer that keeps failing shows as an old message, then as dead letters.
      const functions = byMetric('AWS/Lambda', 'Errors').map((a) => a.Properties.Dimensions[0].Value.Ref);
      expect(functions).toEqual([id.extract]);
      expect(byMetric('AWS/SQS', 'ApproximateAgeOfOldestMessage')).toHaveLength(1);
    });

    it('alarms when Scheduler dead-letters an invocation', () => {
      // Assess
      const [scheduleFailures] = byMetric('AWS/SQS', 'ApproximateNumberOfMessagesVisible').filter(
        (a) => a.Properties.Dimensions[0].Value['Fn::GetAtt'][0] === id.scheduleDlq,
      );
      expect(scheduleFailures).toBeDefined();
    });

    const alarmOf = (logicalIdPrefix: string) =>
      resource(template, 'AWS::CloudWatch::Alarm', logicalIdPrefix).Properties as Record<string, unknown>;
    const syncDimensions = (sync: string) => [
      { Name: 'service', Value: 'writeback' },
      { Name: 'sync', Value: sync },
    ];

    it('alarms when the writer dead-letters records, so a partial run notifies every time', () => {
      // Assess
      expect(alarmOf('SyncContactsRecordsFailedAlarm')).toMatchObject({
        Namespace: 'Writeback',
        MetricName: 'Failed',
        Dimensions: syncDimensions('contacts'),
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        // Failed is only published when records failed: no data means none did.
        TreatMissingData: 'notBreaching',
      });
    });

    it('alarms once per outage when the target refuses the credentials (the sync pauses, nothing is dead-lettered)', () => {
      expect(alarmOf('SyncContactsCredentialsRefusedAlarm')).toMatchObject({
        Namespace: 'Writeback',
        MetricName: 'AuthFailures',
        Dimensions: syncDimensions('contacts'),
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 12,
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
      });
    });

    it('has no alarm of its own on RunsFailed: a failed run fails its invocation, which the extract errors alarm watches', () => {
      expect(
        Object.keys(template.findResources('AWS::CloudWatch::Alarm')).some((i) =>
          i.includes('RunsFailedAlarm'),
        ),
      ).toBe(false);
    });

    it('alarms when the extract function was not invoked for two schedule intervals, treating missing data as breaching', () => {
      // Prepare
      const alarm = alarmOf('SyncContactsMissedScheduleAlarm');
      // Assess: rate(5 minutes) → three 5-minute periods (two whole ones and the one filling), all empty.
      expect(alarm).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        TreatMissingData: 'breaching',
      });
      expect(alarm.Metrics).toEqual([
        expect.objectContaining({ Expression: 'FILL(started, 0)', ReturnData: true }),
        {
          Id: 'started',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: 'Invocations',
              Dimensions: [{ Name: 'FunctionName', Value: expect.anything() }],
            },
            Period: 300,
            Stat: 'Sum',
          },
          ReturnData: false,
        },
      ]);
    });

    it('has no missed-schedule alarm for a disabled sync', () => {
      // Assess
      const ids = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
      expect(ids.filter((i) => i.startsWith('SyncInvoices'))).toHaveLength(6);
      expect(ids.some((i) => i.startsWith('SyncInvoicesMissedScheduleAlarm'))).toBe(false);
    });

    it('derives the missed-schedule window from a cron schedule, and skips schedules too sparse to watch', () => {
      // Act
      const built = buildStack(
        testConfig([
          syncInput('weekdays', { schedule: 'cron(0 9 ? * MON-FRI *)' }),
          syncInput('weekly', { schedule: 'cron(0 3 ? * MON *)' }),
        ]),
      ).template;
      // Assess: the weekend is the longest gap (3 days): seven daily periods, no alarm on Mondays.
      const weekdays = resource(
        built,
        'AWS::CloudWatch::Alarm',
        'SyncWeekdaysMissedScheduleAlarm',
      ).Properties;
      expect(weekdays).toMatchObject({ EvaluationPeriods: 7, DatapointsToAlarm: 7 });
      expect(JSON.stringify(weekdays.Metrics)).toContain('"Period":86400');
      expect(
        Object.keys(built.findResources('AWS::CloudWatch::Alarm')).some((i) =>
          i.startsWith('SyncWeeklyMissedScheduleAlarm'),
        ),
      ).toBe(false);
    });

    it('notifies the alarm topic on alarm and on recovery', () => {
      // Assess
      expect(alarms).toHaveLength(7);
      for (const alarm of alarms) {
        expect(alarm.Properties.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:ops']);
        expect(alarm.Properties.OKActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:ops']);
      }
    });
  });

  describe('Validation', () => {
    it('names every timeout beyond the Lambda maximum at once', () => {
      // Prepare
      const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test');
      const table = new dynamodb.Table(stack, 'T', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      });
      const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'x');
      // Act
      const error = captureError(
        () =>
          new SyncPipeline(stack, 'P', {
            sync: config.syncs[0]!,
            stateTable: table,
            linksTable: table,
            dwhSecret: secret,
            connectionSecret: secret,
            claimCheckBucket: new s3.Bucket(stack, 'B'),
            entries: DEFAULT_ENTRIES,
            scheduleGroup: new scheduler.ScheduleGroup(stack, 'G'),
            writeTimeout: Duration.minutes(20),
            extractTimeout: Duration.minutes(16),
          }),
      );
      // Assess
      expect(error).toBeInstanceOf(ConfigValidationError);
      expect((error as ConfigValidationError).errors).toEqual([
        'syncs[contacts]: write timeout 1200s exceeds 900s',
        'syncs[contacts]: extract timeout 960s exceeds 900s',
      ]);
    });
  });
});

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** What a sync's alarms watch. */
export interface SyncAlarmTargets {
  readonly syncName: string;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  readonly extractFunction: lambda.IFunction;
  readonly writeFunction: lambda.IFunction;
}

/**
 * The five alarms of a sync, each answering "does someone need to look now?": a record was
 * dead-lettered, the queue stopped draining, a function failed as a whole (record-level failures
 * are retried or dead-lettered and show up in the first two), or Scheduler could not start a run.
 */
export function createSyncAlarms(
  scope: Construct,
  targets: SyncAlarmTargets,
  opts: { maxMessageAge: Duration; action: cloudwatch.IAlarmAction | undefined },
): cloudwatch.Alarm[] {
  const name = targets.syncName;
  const period = Duration.minutes(5);
  const alarm = (
    id: string,
    description: string,
    metric: cloudwatch.IMetric,
    threshold = 1,
    comparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  ): cloudwatch.Alarm => {
    const created = new cloudwatch.Alarm(scope, id, {
      alarmDescription: `Writeback ${name}: ${description}`,
      metric,
      threshold,
      comparisonOperator,
      evaluationPeriods: 1,
      // No data means an idle queue or a function that did not run: nothing is wrong.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (opts.action) {
      created.addAlarmAction(opts.action);
      created.addOkAction(opts.action);
    }
    return created;
  };
  const maxVisible = (queue: sqs.IQueue) =>
    queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' });

  return [
    alarm(
      'DeadLetterQueueNotEmptyAlarm',
      'records are in the dead-letter queue; their message attributes carry the reason. Fix the cause, then redrive them to the source queue.',
      maxVisible(targets.deadLetterQueue),
    ),
    alarm(
      'OldestMessageAgeAlarm',
      `a queued record has waited more than ${opts.maxMessageAge.toHumanString()}; the writer is failing, throttled or too slow.`,
      targets.queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' }),
      opts.maxMessageAge.toSeconds(),
      cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    ),
    alarm(
      'ExtractErrorsAlarm',
      'the extract function failed (an error, a timeout or a crash); the run history in the state table says why.',
      targets.extractFunction.metricErrors({ period, statistic: 'Sum' }),
    ),
    alarm(
      'WriteErrorsAlarm',
      'the write function failed as a whole (an error, a timeout or a crash, not a record-level failure).',
      targets.writeFunction.metricErrors({ period, statistic: 'Sum' }),
    ),
    alarm(
      'ScheduleFailuresAlarm',
      "EventBridge Scheduler could not invoke the extract function; the failed invocations are in the schedule's dead-letter queue.",
      maxVisible(targets.scheduleDeadLetterQueue),
    ),
  ];
}

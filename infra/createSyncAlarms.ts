import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  VERIFY_MISMATCHED,
  WRITE_METRICS,
} from '../shared/contracts/metricNames.ts';
import { missedScheduleWindow } from './missedSchedule.ts';
import { syncMetric } from './syncMetrics.ts';

/** What a sync's alarms watch. */
export interface SyncAlarmTargets {
  readonly syncName: string;
  /**
   * The schedule expression that starts the sync's runs, when it is enabled: the missed-schedule
   * alarm derives its window from it. @default - no missed-schedule alarm (a disabled sync)
   */
  readonly schedule?: string;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  readonly extractFunction: lambda.IFunction;
}

/**
 * The alarms of a sync, each answering "does someone need to look now?":
 *
 * - a record was dead-lettered (DLQ not empty: stays in ALARM until the DLQ is redriven or purged);
 * - records failed (the run that sent them is partial): the writer dead-lettered records in the
 *   last five minutes. Unlike the DLQ alarm it returns to OK by itself, so a new wave of failures
 *   notifies again while older ones still sit in the DLQ;
 * - the queue stopped draining (oldest message age);
 * - the extract function failed (Lambda Errors: a failed run, whose handler fails the invocation
 *   after recording it, and timeouts and crashes that leave no run record). The write function's
 *   Errors have no alarm of their own: a batch that fails as a whole goes back to the queue, so a
 *   writer that keeps failing ages the queue (the oldest-message alarm) and SQS then moves the
 *   records to the DLQ (the DLQ alarm), while one that failed once needs no one. Its own alarm
 *   would bill a metric per sync for an earlier copy of those notifications;
 * - the schedule did not start a run when it should have (no invocation of the extract function for
 *   about two schedule intervals, missing data breaching), or an invocation was lost: Scheduler
 *   could not deliver it, or Lambda gave up on an asynchronous one after its retries (both land in
 *   the schedule DLQ).
 *
 * Each alarm bills one metric ($0.10 a month): the shapes are chosen so that an idle sync costs
 * little (`npm run bench -- cost` counts them from the template).
 *
 * Their actions come from the stack (applyAlarmAction): every alarm notifies the alarm topic.
 */
export function createSyncAlarms(
  scope: Construct,
  targets: SyncAlarmTargets,
  opts: { maxMessageAge: Duration },
): cloudwatch.Alarm[] {
  const name = targets.syncName;
  const period = Duration.minutes(5);
  const alarm = (
    id: string,
    description: string,
    metric: cloudwatch.IMetric,
    threshold = 1,
    comparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluation: Pick<
      cloudwatch.AlarmProps,
      'evaluationPeriods' | 'datapointsToAlarm' | 'treatMissingData'
    > = {
      evaluationPeriods: 1,
      // No data means an idle queue or a function that did not run: nothing is wrong.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    },
  ): cloudwatch.Alarm => {
    return new cloudwatch.Alarm(scope, id, {
      alarmDescription: `Writeback ${name}: ${description}`,
      metric,
      threshold,
      comparisonOperator,
      ...evaluation,
    });
  };
  const maxVisible = (queue: sqs.IQueue) =>
    queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' });
  const sum = (metricName: string) => syncMetric(name, metricName, { period, statistic: 'Sum' });

  const alarms = [
    alarm(
      'DeadLetterQueueNotEmptyAlarm',
      'records are in the dead-letter queue; their message attributes carry the reason. Fix the cause, then redrive them to the source queue.',
      maxVisible(targets.deadLetterQueue),
    ),
    alarm(
      'RecordsFailedAlarm',
      'a run is partial: the writer dead-lettered records in the last 5 minutes (failed permanently or out of retries). `writeback runs` shows the run, the DLQ has the reasons.',
      // Failed counts every record the writer dead-lettered (Dead is a part of it); it is only
      // published when not zero, so missing data means none.
      sum(WRITE_METRICS.failed),
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
      // Also every failed run: the handler fails its invocation after recording the run, so a
      // separate alarm on RunsFailed would only bill one more metric for the same notification.
      'the extract function failed (a failed run, an error before the run, a timeout or a crash); `writeback runs` (the run history) and the logs say why.',
      targets.extractFunction.metricErrors({ period, statistic: 'Sum' }),
    ),
    alarm(
      'CredentialsRefusedAlarm',
      "the target refuses the connection's credentials (revoked, expired or rotated), even after the writer re-read the secret: the sync is paused and nothing is dead-lettered. `writeback status` names the secret to update; the backlog drains once it holds valid credentials.",
      sum(WRITE_METRICS.authFailures),
      1,
      cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // One outage, one alarm: refused records come back every 15 minutes and the extract probes
      // every 30; the alarm returns to OK an hour after the last refusal.
      {
        evaluationPeriods: 12,
        datapointsToAlarm: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
    ),
    alarm(
      'ScheduleFailuresAlarm',
      "an invocation was lost: EventBridge Scheduler could not invoke the extract, verify or (keep-alive) write function, or an asynchronous invocation (schedule, continuation, parent starting this sync, the connection's keep-alive) failed after its retries or waited too long. The schedule's dead-letter queue holds each with its reason; purge it once read.",
      maxVisible(targets.scheduleDeadLetterQueue),
    ),
  ];
  const window = targets.schedule ? missedScheduleWindow(targets.schedule) : undefined;
  if (window) {
    alarms.push(
      alarm(
        'MissedScheduleAlarm',
        `the extract function has not been invoked for ${Duration.seconds(2 * window.longestGap.toSeconds()).toHumanString()} (schedule ${targets.schedule}): the schedule is disabled or failing, or the extract function cannot start.`,
        new cloudwatch.MathExpression({
          // FILL turns periods without a run into zeros, so that the alarm sees them as breaching
          // even while older periods still have data (CloudWatch only applies the missing-data
          // treatment when fewer datapoints than evaluation periods exist in its look-back range).
          expression: 'FILL(started, 0)',
          // Lambda's own Invocations of the extract function (no custom metric to publish, so a
          // quiet run publishes nothing): every tick invokes it, whether the run then has work or not.
          usingMetrics: {
            started: targets.extractFunction.metricInvocations({ period: window.period, statistic: 'Sum' }),
          },
          period: window.period,
          label: `${name} runs started`,
        }),
        1,
        cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        {
          evaluationPeriods: window.periods,
          datapointsToAlarm: window.periods,
          // No data at all (FILL has nothing to fill from): nothing has run for the whole range.
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        },
      ),
    );
  }
  return alarms;
}

/**
 * The stack's one verify alarm: a verification of any sync found records missing, drifted, orphaned
 * or dead in the target. It watches VERIFY_MISMATCHED, which the verify functions publish without
 * the sync dimension, so it bills one alarm metric for every verifying sync of the stack (a
 * per-sync alarm on the four finding gauges billed four per sync). Which sync and which kind: the
 * per-sync gauges (VERIFY_METRICS), the verify functions' logs and `writeback verify <sync>`.
 *
 * The metric carries no stack name: a second Writeback stack in the same account and region
 * publishes into the same metric, so this alarm also goes off for that stack's findings (its
 * per-sync metrics share names the same way when their syncs do).
 */
export function createVerifyFindingsAlarm(scope: Construct): cloudwatch.Alarm {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: VERIFY_MISMATCHED,
    dimensionsMap: { service: METRICS_SERVICE },
    statistic: 'Maximum',
    // A verification publishes once; an hour keeps its finding in view across EMF's delay.
    period: Duration.hours(1),
  }).createAlarm(scope, 'VerifyFindingsAlarm', {
    alarmDescription:
      'Writeback: a verification found records missing, drifted, orphaned or dead in the target. The VerifyMissing/VerifyDrift/VerifyOrphan/VerifyDead metrics and the verify functions\' "verify finished" log lines say which sync; `writeback verify <sync>` lists the findings.',
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

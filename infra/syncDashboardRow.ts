import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { RUN_METRICS, WRITE_METRICS } from '../shared/contracts/metricNames.ts';
import type { SyncPipeline } from './SyncPipeline.ts';
import { syncMetric } from './syncMetrics.ts';

/**
 * One dashboard row for a sync, two lines of 24 columns: a header with its alarms, then the
 * questions ops ask in order: did it run, is the queue draining, are writes failing, is anything
 * dead-lettered; below, the handlers' own metrics: how runs ended, what they read and enqueued,
 * what became of the records, and how many links are failed or dead right now.
 */
export function syncDashboardRow(pipeline: SyncPipeline): cloudwatch.IWidget[] {
  const { sync } = pipeline;
  const period = Duration.minutes(5);
  const height = 6;
  const extract = pipeline.extractFunction;
  const write = pipeline.writeFunction;
  const sum = (name: string, label: string) =>
    syncMetric(sync.name, name, { period, statistic: 'Sum', label });
  const max = (name: string, label: string) =>
    syncMetric(sync.name, name, { period, statistic: 'Maximum', label });
  return [
    new cloudwatch.AlarmStatusWidget({
      title: `${sync.name} · ${sync.schedule}${sync.enabled ? '' : ' (disabled)'}`,
      alarms: pipeline.alarms,
      width: 4,
      height,
    }),
    new cloudwatch.GraphWidget({
      title: 'Extract runs',
      left: [
        extract.metricInvocations({ period, label: 'runs' }),
        extract.metricErrors({ period, label: 'errors' }),
      ],
      right: [extract.metricDuration({ period, statistic: 'Maximum', label: 'max duration' })],
      width: 5,
      height,
    }),
    new cloudwatch.GraphWidget({
      title: 'Queue',
      left: [
        pipeline.queue.metricNumberOfMessagesSent({ period, label: 'enqueued' }),
        pipeline.queue.metricApproximateNumberOfMessagesVisible({
          period,
          statistic: 'Maximum',
          label: 'waiting',
        }),
      ],
      right: [
        pipeline.queue.metricApproximateAgeOfOldestMessage({
          period,
          statistic: 'Maximum',
          label: 'oldest (s)',
        }),
      ],
      width: 5,
      height,
    }),
    new cloudwatch.GraphWidget({
      title: 'Writer',
      left: [
        write.metricInvocations({ period, label: 'batches' }),
        write.metricErrors({ period, label: 'errors' }),
        write.metricThrottles({ period, label: 'throttles' }),
      ],
      right: [write.metric('ConcurrentExecutions', { period, statistic: 'Maximum', label: 'concurrency' })],
      width: 5,
      height,
    }),
    new cloudwatch.GraphWidget({
      title: 'Dead letters',
      left: [
        pipeline.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period,
          statistic: 'Maximum',
          label: 'records',
        }),
        pipeline.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period,
          statistic: 'Maximum',
          label: 'missed runs',
        }),
      ],
      width: 5,
      height,
    }),
    new cloudwatch.GraphWidget({
      title: 'Run outcomes',
      left: [
        sum(RUN_METRICS.runsStarted, 'started'),
        sum(RUN_METRICS.runsFailed, 'failed'),
        sum(RUN_METRICS.runsPartial, 'partial'),
        sum(RUN_METRICS.runsSkipped, 'skipped'),
      ],
      width: 8,
      height,
    }),
    new cloudwatch.GraphWidget({
      title: 'Rows',
      left: [
        sum(RUN_METRICS.rowsRead, 'read'),
        sum(RUN_METRICS.rowsEnqueued, 'enqueued'),
        sum(RUN_METRICS.redriven, 're-driven'),
      ],
      width: 8,
      height,
    }),
    new cloudwatch.GraphWidget({
      title: 'Records',
      left: [
        sum(WRITE_METRICS.written, 'written'),
        sum(WRITE_METRICS.retrying, 'retrying'),
        sum(WRITE_METRICS.waitingForParent, 'waiting for parent'),
        sum(WRITE_METRICS.failed, 'dead-lettered'),
        sum(WRITE_METRICS.dead, 'of which out of retries'),
      ],
      // Gauges from the last run: what is failed or dead now, not what failed in this period.
      right: [max(RUN_METRICS.linksFailed, 'links failed'), max(RUN_METRICS.linksDead, 'links dead')],
      width: 8,
      height,
    }),
  ];
}

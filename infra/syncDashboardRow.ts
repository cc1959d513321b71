import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { SyncPipeline } from './SyncPipeline.ts';

/**
 * One dashboard row for a sync (24 columns): a header with its alarms, then the questions ops
 * ask in order: did it run, is the queue draining, are writes failing, is anything dead-lettered.
 */
export function syncDashboardRow(pipeline: SyncPipeline): cloudwatch.IWidget[] {
  const { sync } = pipeline;
  const period = Duration.minutes(5);
  const height = 6;
  const extract = pipeline.extractFunction;
  const write = pipeline.writeFunction;
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
  ];
}

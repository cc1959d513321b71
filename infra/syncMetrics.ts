import type { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../shared/contracts/metricNames.ts';

/**
 * One of a sync's own metrics (shared/contracts/metricNames.ts), as the handlers publish it: namespace
 * `Writeback`, dimensions `service` and `sync`.
 */
export function syncMetric(
  syncName: string,
  metricName: string,
  opts: { period: Duration; statistic: 'Sum' | 'Maximum'; label?: string },
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: METRICS_SERVICE, sync: syncName },
    statistic: opts.statistic,
    period: opts.period,
    ...(opts.label ? { label: opts.label } : {}),
  });
}

import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';
import { RUN_METRICS, WRITE_METRICS } from '../shared/contracts/metricNames.ts';
import type { RunRecord } from '../shared/state/RunRecord.ts';
import type { WriteCounts } from '../shared/write/processWriteBatch.ts';

/**
 * How run records and write batches become CloudWatch metrics (names in metricNames.ts).
 *
 * Counters are added only when they are not zero: CloudWatch bills a custom metric for every hour
 * it receives data, so a sync that never fails pays nothing for RunsFailed, and a Sum over a period
 * without data is zero anyway. Gauges (LinksFailed, LinksDead) are added whenever the run counted
 * them (a run that looked for links to redrive), zero included, so that the graph comes back down
 * when the links recover.
 */

/**
 * Adds a finished run's outcome and counts; the middleware publishes them when the handler ends.
 * A quiet run (nothing changed, nothing flagged) adds nothing: it carries no information, and
 * every metric published in an hour is billed for it. Whether the schedule fires is Lambda's own
 * Invocations metric (the missed-schedule alarm), not ours.
 */
export function addRunMetrics(metrics: Metrics, run: RunRecord): void {
  if (run.quiet) return;
  metrics.addDimension('sync', run.sync);
  metrics.addMetric(RUN_METRICS.runsStarted, MetricUnit.Count, 1);
  const { counts } = run;
  const outcome = {
    failed: RUN_METRICS.runsFailed,
    partial: RUN_METRICS.runsPartial,
    skipped: RUN_METRICS.runsSkipped,
    succeeded: undefined,
  }[run.outcome];
  if (outcome) metrics.addMetric(outcome, MetricUnit.Count, 1);
  addCount(metrics, RUN_METRICS.rowsRead, counts.read);
  addCount(metrics, RUN_METRICS.rowsEnqueued, counts.enqueued);
  addCount(metrics, RUN_METRICS.redriven, counts.redriven);
  if (counts.failed !== undefined)
    metrics.addMetric(RUN_METRICS.linksFailed, MetricUnit.Count, counts.failed);
  if (counts.dead !== undefined) metrics.addMetric(RUN_METRICS.linksDead, MetricUnit.Count, counts.dead);
}

/**
 * Adds a write batch's counts; the middleware publishes them when the handler ends. A batch of
 * unchanged or stale records adds nothing.
 */
export function addWriteMetrics(metrics: Metrics, sync: string, counts: WriteCounts): void {
  const written = counts.created + counts.updated;
  if (!(written || counts.failed || counts.dead || counts.retrying || counts.authRefused)) return;
  metrics.addDimension('sync', sync);
  addCount(metrics, WRITE_METRICS.written, counts.created + counts.updated);
  // One metric for every dead-lettered record, so that one alarm watches one metric.
  addCount(metrics, WRITE_METRICS.failed, counts.failed + counts.dead);
  addCount(metrics, WRITE_METRICS.dead, counts.dead);
  addCount(metrics, WRITE_METRICS.retrying, counts.retrying);
  addCount(metrics, WRITE_METRICS.waitingForParent, counts.waitingForParent);
  addCount(metrics, WRITE_METRICS.authFailures, counts.authRefused);
}

/**
 * Publishes what the handler added when it returns or throws, like Powertools' logMetrics, but
 * silently skips an invocation that added nothing (logMetrics warns on every such invocation:
 * one log line per no-op write batch).
 */
export function publishMetrics(metrics: Metrics): middy.MiddlewareObj {
  const publish = (): void => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    else metrics.clearDimensions();
  };
  return { after: publish, onError: publish };
}

function addCount(metrics: Metrics, name: string, value: number | undefined): void {
  if (value) metrics.addMetric(name, MetricUnit.Count, value);
}

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { findSync, type VerifyHandlerDeps } from '../shared/runtime/HandlerDeps.ts';
import { once } from '../shared/util/once.ts';
import { FINDING_KINDS } from '../shared/verify/VerifyReport.ts';
import { verifySync } from '../shared/verify/verifySync.ts';
import { logger } from './logger.ts';

/** The verify schedule's input: `{"sync": "crm-customers"}`. */
export interface VerifyEvent {
  readonly sync?: string;
}

/** Builds the verify handler: compare, keep the report in the run history, publish one metric per finding kind. */
export function createVerifyHandler(getDeps: () => Promise<VerifyHandlerDeps>) {
  return middy(async (event: VerifyEvent) => {
    const deps = await getDeps();
    const sync = findSync(deps.config, event.sync ?? deps.defaultSync);
    const report = await verifySync(sync, deps.depsFor(sync), { exportLogs: true });
    await deps.depsFor(sync).state.recordVerify(report);
    for (const kind of FINDING_KINDS) {
      deps.metrics?.addDimension('sync', sync.name);
      deps.metrics?.addMetric(
        `Verify${kind[0]!.toUpperCase()}${kind.slice(1)}`,
        MetricUnit.Count,
        report.counts[kind],
      );
    }
    deps.logger.info('verify finished', { sync: sync.name, counts: report.counts, clean: report.clean });
    return { ...report, findings: report.findings.slice(0, 20) };
  });
}

const metrics = new Metrics({ namespace: 'Writeback', serviceName: 'writeback' });
const awsDeps = once(async () =>
  (await import('./awsDeps.ts')).createAwsVerifyDeps(process.env, logger, metrics),
);

/** Lambda entry point. */
export const handler = createVerifyHandler(awsDeps)
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics));

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import {
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  VERIFY_METRICS,
  VERIFY_MISMATCHED,
} from '../shared/contracts/metricNames.ts';
import { findSync, syncToRun, type VerifyHandlerDeps } from '../shared/runtime/HandlerDeps.ts';
import { once } from '../shared/util/once.ts';
import { type RepairResult, repairFindings } from '../shared/verify/repairSync.ts';
import { FINDING_KINDS, type VerifyAnswer } from '../shared/verify/VerifyReport.ts';
import { verifySyncFindings } from '../shared/verify/verifySync.ts';
import { logger, tracer } from './logger.ts';

/** The verify schedule's input: `{"sync": "crm-customers"}`; `writeback verify --repair` adds `"repair": true`. */
export interface VerifyEvent {
  readonly sync?: string;
  /** Re-enqueue the missing and drifted records through the normal write path (deletes nothing). */
  readonly repair?: boolean;
  /** With repair: build the repair's messages and send none (`writeback verify --repair --dry-run`). */
  readonly dryRun?: boolean;
  /** With repair: send nothing when more records than this need it (`--max`; the CLI asks, then sends with a higher one). */
  readonly max?: number;
}

/** Findings of each kind in the answer (the stored report keeps more; the warehouse has them all). */
const ANSWER_FINDINGS_PER_KIND = 10;

/**
 * Builds the verify handler: compare, keep the report in the run history, publish one metric per
 * finding kind, and, when asked, repair. Answers with the report (a few findings of each kind)
 * and what the repair sent.
 */
export function createVerifyHandler(getDeps: () => Promise<VerifyHandlerDeps>) {
  return middy(async (event: VerifyEvent) => {
    const deps = await getDeps();
    const sync = findSync(deps.config, syncToRun('verify', event.sync, deps.defaultSync));
    const verifyDeps = deps.depsFor(sync);
    const { report, findings } = await verifySyncFindings(sync, verifyDeps, { exportLogs: true });
    await verifyDeps.state.recordVerify(report);
    deps.metrics?.addDimension('sync', sync.name);
    for (const kind of FINDING_KINDS) {
      deps.metrics?.addMetric(VERIFY_METRICS[kind], MetricUnit.Count, report.counts[kind]);
    }
    // The kinds that mean a mismatch (not backlog), summed without the sync dimension: the stack's
    // one verify alarm watches it for every sync (one billed alarm metric, not four per sync).
    const { missing, drift, orphan, dead } = report.counts;
    deps.metrics
      ?.singleMetric()
      .addMetric(VERIFY_MISMATCHED, MetricUnit.Count, missing + drift + orphan + dead);
    deps.logger.info('verify finished', { sync: sync.name, counts: report.counts, clean: report.clean });
    let repair: RepairResult | undefined;
    if (event.repair) {
      if (!deps.enqueuerFor) throw new Error(`verify of ${sync.name}: no queue to repair through`);
      repair = await repairFindings(
        sync,
        findings,
        { sql: verifyDeps.dwh, enqueuer: deps.enqueuerFor(sync), now: verifyDeps.now },
        {
          ...(event.dryRun ? { dryRun: true } : {}),
          ...(typeof event.max === 'number' ? { max: event.max } : {}),
        },
      );
      deps.logger.info(
        repair.dryRun ? 'repair dry run' : repair.heldOverMax ? 'repair held over max' : 'repair enqueued',
        {
          sync: sync.name,
          runId: repair.runId,
          requested: repair.requested,
          enqueued: repair.enqueued,
          sourceGone: repair.sourceGone.length,
        },
      );
    }
    const shown = new Map<string, number>();
    const answer: VerifyAnswer = {
      ...report,
      findings: report.findings.filter((f) => {
        const n = (shown.get(f.kind) ?? 0) + 1;
        shown.set(f.kind, n);
        return n <= ANSWER_FINDINGS_PER_KIND;
      }),
      ...(repair
        ? {
            repair: {
              ...repair,
              enqueuedKeys: repair.enqueuedKeys.slice(0, 100),
              ...(repair.wouldEnqueueKeys
                ? { wouldEnqueueKeys: repair.wouldEnqueueKeys.slice(0, 1000) }
                : {}),
            },
          }
        : {}),
    };
    return answer;
  });
}

const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
const awsDeps = once(async () =>
  (await import('./awsDeps.ts')).createAwsVerifyDeps(process.env, logger, metrics),
);

/** Lambda entry point. */
export const handler = createVerifyHandler(awsDeps)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics));

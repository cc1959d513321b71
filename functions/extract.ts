import { randomUUID } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../shared/contracts/metricNames.ts';
import { runExtract } from '../shared/extract/runExtract.ts';
import { type ExtractHandlerDeps, findSync, syncToRun } from '../shared/runtime/HandlerDeps.ts';
import type { RunRecord } from '../shared/state/RunRecord.ts';
import { once } from '../shared/util/once.ts';
import { logger, tracer } from './logger.ts';
import { addRunMetrics, publishMetrics } from './runMetrics.ts';

/** The schedule's input: `{"sync": "crm-customers"}`. */
export interface ExtractEvent {
  readonly sync?: string;
}

/**
 * Builds the extract handler around injected dependencies (AWS or local). With `metrics`, each run
 * that did something publishes its outcome and counts when it ends (runMetrics.ts; a quiet run
 * publishes nothing); the caller's publishMetrics middleware flushes them, also when the handler throws.
 */
export function createExtractHandler(
  getDeps: () => Promise<ExtractHandlerDeps>,
  opts: { readonly metrics?: Metrics } = {},
) {
  return middy(async (event: ExtractEvent, context: Context): Promise<RunRecord> => {
    const deps = await getDeps();
    const sync = findSync(deps.config, syncToRun('extract', event.sync, deps.defaultSync));
    const run = await runExtract(sync, deps.depsFor(sync), {
      runId: randomUUID(),
      remainingMs: () => context.getRemainingTimeInMillis(),
    });
    if (opts.metrics) addRunMetrics(opts.metrics, run);
    deps.logger.info('extract run finished', { run });
    // Continue only when this run made progress: a run that cannot move the bookmark must not loop.
    const progressed = JSON.stringify(run.bookmarkAfter) !== JSON.stringify(run.bookmarkBefore);
    if (run.backlog && progressed) await deps.continueBacklog?.(sync, context);
    // Parents before children in one tick: children sharing the schedule start once the parent is done.
    else await deps.runChildren?.(sync);
    // Fail the invocation so error metrics and alarms see it; the run history already says why.
    if (run.outcome === 'failed') throw new Error(`run ${run.runId} of ${sync.name} failed: ${run.message}`);
    return run;
  });
}

const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
const awsDeps = once(async () => (await import('./awsDeps.ts')).createAwsExtractDeps(process.env, logger));

/** Lambda entry point: dependencies are built from the environment once per container. */
export const handler = createExtractHandler(awsDeps, { metrics })
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(publishMetrics(metrics));

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../shared/contracts/metricNames.ts';
import { findSync, type WriteHandlerDeps } from '../shared/runtime/HandlerDeps.ts';
import { once } from '../shared/util/once.ts';
import { type KeepAliveOutcome, keepConnectionAlive } from '../shared/write/keepConnectionAlive.ts';
import { emptyWriteCounts, processWriteBatch } from '../shared/write/processWriteBatch.ts';
import { logger, tracer } from './logger.ts';
import { addWriteMetrics, publishMetrics } from './runMetrics.ts';

/**
 * Builds the write handler around injected dependencies. The response is the SQS partial batch
 * contract: only the ids in batchItemFailures come back; everything else is deleted.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 * The batch watches the invocation's remaining time: records it cannot finish go back in
 * batchItemFailures before the deadline (processWriteBatch, WriteBatchOptions). The other event it
 * takes is its connection's weekly keep-alive (KeepAliveEvent), answered with its outcome.
 */
export function createWriteHandler(
  getDeps: () => Promise<WriteHandlerDeps>,
  opts: { readonly metrics?: Metrics } = {},
) {
  return middy(async (event: SQSEvent | KeepAliveEvent, context: Context): Promise<WriteHandlerResult> => {
    const deps = await getDeps();
    if ('keepAlive' in event) return keepAlive(deps, event, opts.metrics);
    const first = event.Records[0];
    if (!first) return { batchItemFailures: [] };
    const sync = findSync(deps.config, deps.syncForSource(first.eventSourceARN));
    const result = await processWriteBatch(
      sync,
      event.Records.map((r) => ({
        messageId: r.messageId,
        body: r.body,
        receiptHandle: r.receiptHandle,
        receiveCount: Number(r.attributes.ApproximateReceiveCount ?? '1'),
      })),
      deps.depsFor(sync),
      { remainingMs: () => context.getRemainingTimeInMillis() },
    );
    if (opts.metrics) addWriteMetrics(opts.metrics, sync.name, result.counts);
    deps.logger.info('write batch finished', {
      sync: sync.name,
      records: event.Records.length,
      ...result.counts,
    });
    return { batchItemFailures: result.retry.map((id) => ({ itemIdentifier: id })) };
  });
}

/**
 * The stack's weekly keep-alive of a connection on rotating OAuth tokens (infra: the KeepAlive
 * schedule of the connection's first sync), delivered to that sync's write function.
 */
export interface KeepAliveEvent {
  readonly keepAlive: { readonly sync: string; readonly connection: string };
}

type WriteHandlerResult = SQSBatchResponse | KeepAliveOutcome;

/** Renews the connection's credentials (keepConnectionAlive); a refusal is logged and counted like a writer's. */
async function keepAlive(
  deps: WriteHandlerDeps,
  event: KeepAliveEvent,
  metrics: Metrics | undefined,
): Promise<KeepAliveOutcome> {
  const sync = findSync(deps.config, event.keepAlive.sync);
  const result = await keepConnectionAlive(sync, deps.depsFor(sync));
  if (result.outcome === 'refused') {
    if (metrics) addWriteMetrics(metrics, sync.name, { ...emptyWriteCounts(), authRefused: 1 });
    deps.logger.error('connection keep-alive refused', {
      sync: sync.name,
      connection: sync.target.connection,
      code: result.code,
      message: result.message,
    });
  } else {
    deps.logger.info('connection kept alive', {
      sync: sync.name,
      connection: sync.target.connection,
      outcome: result.outcome,
    });
  }
  return result;
}

const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
const awsDeps = once(async () => (await import('./awsDeps.ts')).createAwsWriteDeps(process.env, logger));

/** Lambda entry point: dependencies are built from the environment once per container. */
export const handler = createWriteHandler(awsDeps, { metrics })
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(publishMetrics(metrics));

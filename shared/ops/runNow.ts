import { randomUUID } from 'node:crypto';
import { mappingFingerprint } from '../config/mappingFingerprint.ts';
import { WritebackError } from '../errors.ts';
import { runExtract } from '../extract/runExtract.ts';
import type { RunCounts, RunRecord } from '../state/RunRecord.ts';
import { audited } from './audit.ts';
import { UsageError } from './errors.ts';
import type { OpsContext } from './OpsContext.ts';

/**
 * Runs a sync's extract now, as its schedule would. Locally: runExtract itself (the extract
 * handler's whole logic) against the local stack's warehouse, tables and queue; the local stack's
 * writers drain the queue. On AWS: a synchronous Invoke of the sync's extract function, so the
 * run happens where the warehouse is reachable. Either way the run takes the sync's lease: when
 * another run holds it, this one is recorded as skipped.
 */
export async function runNow(
  ctx: OpsContext,
  syncName: string,
  opts: { onProgress?: (counts: RunCounts) => void } = {},
): Promise<RunRecord> {
  ctx.sync(syncName);
  ctx.syncResources(syncName);
  return audited(
    ctx,
    { sync: syncName, action: 'run' },
    () => runUnaudited(ctx, syncName, opts),
    (run) => ({
      records: run.counts.enqueued,
      runId: run.runId,
      detail: `extract ${run.outcome}: read ${run.counts.read}, unchanged ${run.counts.unchanged}, enqueued ${run.counts.enqueued}`,
    }),
  );
}

async function runUnaudited(
  ctx: OpsContext,
  syncName: string,
  opts: { onProgress?: (counts: RunCounts) => void },
): Promise<RunRecord> {
  const sync = ctx.sync(syncName);
  const res = ctx.syncResources(syncName);
  if (ctx.kind === 'local') {
    return runExtract(
      sync,
      {
        sql: await ctx.warehouse(),
        state: ctx.state,
        links: ctx.links,
        enqueuer: ctx.enqueuer(syncName),
        now: Date.now,
        mappingFingerprint: mappingFingerprint(sync),
        ...(opts.onProgress
          ? { onProgress: (_: string, counts: RunCounts) => opts.onProgress?.(counts) }
          : {}),
      },
      // No Lambda time limit here: the run reads the whole backlog.
      { runId: randomUUID(), remainingMs: () => Number.MAX_SAFE_INTEGER },
    );
  }
  if (!res.extractFunction) throw new UsageError(`no extract function is known for ${syncName}`);
  return invokeExtract(ctx, syncName, res.extractFunction);
}

async function invokeExtract(ctx: OpsContext, syncName: string, functionName: string): Promise<RunRecord> {
  const { InvokeCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
  // An extract may run up to the function's 15-minute limit: wait as long.
  const lambda = new LambdaClient({
    ...(ctx.region ? { region: ctx.region } : {}),
    requestHandler: { requestTimeout: 16 * 60_000 },
  });
  try {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify({ sync: syncName })),
      }),
    );
    const text = new TextDecoder().decode(out.Payload ?? new Uint8Array());
    if (!out.FunctionError) return JSON.parse(text) as RunRecord;
    // The handler throws on a failed run after recording it: the history has the whole record.
    const [recorded] = await ctx.state.listRuns(syncName, 1);
    if (recorded?.outcome === 'failed') return recorded;
    const error = safeJson(text) as { errorMessage?: string } | undefined;
    throw new WritebackError(
      'WB_INVOKE_FAILED',
      `extract function ${functionName} failed: ${error?.errorMessage ?? text}. Its logs: CloudWatch log group /aws/lambda/${functionName}`,
    );
  } finally {
    lambda.destroy();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

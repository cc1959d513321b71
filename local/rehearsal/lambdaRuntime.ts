/**
 * The Node.js runtime of one rehearsed Lambda execution environment, run as its own process
 * (`node lambdaRuntime.ts <task root> <handler>`, forked by LambdaEnvironment). It does what the
 * Lambda runtime interface client does and nothing more: loads the handler from the bundle the way
 * Lambda resolves `Handler` (`index.handler` → `index.{js,mjs,cjs}` in the task root, export
 * `handler`), then runs one invocation at a time with Lambda's context object, and answers with the
 * result or the error as Lambda serialises it. It imports nothing of ours: the bundle must stand on
 * its own, as it does in Lambda.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface InvokeMessage {
  readonly type: 'invoke';
  readonly id: string;
  readonly event: unknown;
  readonly deadline: number;
  readonly invokedFunctionArn: string;
  readonly traceId: string;
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/** Lambda's error shape: what `X-Amz-Function-Error` payloads and the logs show. */
function errorPayload(err: unknown, errorType?: string) {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    errorType: errorType ?? e.name,
    errorMessage: e.message,
    trace: (e.stack ?? '').split('\n'),
  };
}

const [, , taskRoot, handlerSpec] = process.argv;
const send = (message: unknown) => process.send?.(message);

async function loadHandler(): Promise<Handler> {
  if (!taskRoot || !handlerSpec) throw new Error('usage: lambdaRuntime.ts <task root> <module.function>');
  const dot = handlerSpec.lastIndexOf('.');
  const moduleName = handlerSpec.slice(0, dot);
  const exportName = handlerSpec.slice(dot + 1);
  const file = ['.js', '.mjs', '.cjs']
    .map((ext) => join(taskRoot, moduleName + ext))
    .find((f) => existsSync(f));
  if (!file) {
    throw Object.assign(new Error(`Cannot find module '${moduleName}'`), {
      lambdaType: 'Runtime.ImportModuleError',
    });
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw Object.assign(err as Error, { lambdaType: 'Runtime.ImportModuleError' });
  }
  const handler = mod[exportName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${moduleName}.${exportName} is undefined or not exported`), {
      lambdaType: 'Runtime.HandlerNotFound',
    });
  }
  return handler as Handler;
}

async function invoke(handler: Handler, message: InvokeMessage): Promise<void> {
  process.env._X_AMZN_TRACE_ID = message.traceId;
  const env = process.env;
  const context = {
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: message.invokedFunctionArn,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: message.id,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
  };
  try {
    const result = await handler(message.event, context);
    send({
      type: 'result',
      id: message.id,
      payload: JSON.stringify(result ?? null),
      rss: process.memoryUsage.rss(),
    });
  } catch (err) {
    send({ type: 'result', id: message.id, error: errorPayload(err), rss: process.memoryUsage.rss() });
  }
}

try {
  const handler = await loadHandler();
  process.on('message', (message: InvokeMessage) => {
    if (message?.type === 'invoke') void invoke(handler, message);
  });
  send({ type: 'ready', rss: process.memoryUsage.rss() });
} catch (err) {
  send({ type: 'init-error', error: errorPayload(err, (err as { lambdaType?: string }).lambdaType) });
  // Lambda reports an init failure and discards the environment.
  process.disconnect?.();
}

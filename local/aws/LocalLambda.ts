import { AwsServiceError, validationError } from './awsErrors.ts';
import { parseFunctionName } from './functionName.ts';
import { type AwsHttpRequest, type AwsHttpResponse, headerValue, LocalHttpServer } from './httpServer.ts';

/** Lambda's payload quotas for Invoke, in bytes (documented as 6 MB and 1 MB). */
export const SYNC_REQUEST_LIMIT_BYTES = 6 * 1024 * 1024;
export const ASYNC_REQUEST_LIMIT_BYTES = 1024 * 1024;
/** The response quota, as Lambda's own error message states it. */
export const SYNC_RESPONSE_LIMIT_BYTES = 6_291_556;

export type InvocationType = 'RequestResponse' | 'Event';

export interface LocalFunction {
  readonly name: string;
  /** Unqualified: `arn:aws:lambda:<region>:<account>:function:<name>`. */
  readonly arn: string;
}

/** What running a function produced: its response payload, or its error payload when `functionError`. */
export interface InvocationResult {
  readonly payload: Uint8Array;
  readonly functionError?: boolean;
}

export type FunctionInvoker = (
  functionArn: string,
  payload: Uint8Array,
  type: InvocationType,
) => Promise<InvocationResult>;

/** An asynchronous invocation that failed on every attempt. */
export interface AsyncInvocationFailure {
  readonly functionArn: string;
  readonly payload: Uint8Array;
  readonly attempts: number;
  /** The function's error payload (`{errorType, errorMessage, trace}`), or the invoker's thrown error. */
  readonly error: Uint8Array | Error;
}

export interface LocalLambdaOptions {
  /** The functions that exist; more can be added with `register` once they are known. */
  readonly functions?: readonly LocalFunction[];
  /** Runs a function. A function's own failure is `{functionError: true}`, not a rejection. */
  readonly invoke: FunctionInvoker;
  /** Told of every asynchronous invocation that failed after its retries. */
  readonly onAsyncError?: (failure: AsyncInvocationFailure) => void;
  /**
   * Retries of a failed asynchronous invocation; Lambda's default is 2 (MaximumRetryAttempts).
   * Lambda waits a minute or two between them; here they follow at once.
   */
  readonly asyncRetryAttempts?: number;
  /** Where a bare function name lives; by default the first function's region and account. */
  readonly region?: string;
  readonly accountId?: string;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/**
 * Lambda's Invoke API on a loopback port (restJson1: `POST /2015-03-31/functions/{FunctionName}/invocations`),
 * reached by the real SDK client through `AWS_ENDPOINT_URL_LAMBDA`. It runs no code itself: each
 * invocation goes to the injected `invoke`. RequestResponse answers 200 with the function's
 * payload (`X-Amz-Function-Error: Unhandled` on a function error); Event answers 202 at once and
 * runs in the background, tracked until `idle()`; DryRun answers 204. Errors carry Lambda's codes,
 * statuses and messages (404 ResourceNotFoundException, 413 RequestEntityTooLargeException…).
 */
export class LocalLambda {
  readonly #byArn: Map<string, LocalFunction>;
  readonly #invoke: FunctionInvoker;
  readonly #onAsyncError: (failure: AsyncInvocationFailure) => void;
  readonly #retries: number;
  readonly #home: { region: string; accountId: string };
  readonly #inFlight = new Set<Promise<void>>();
  readonly #server: LocalHttpServer;

  public constructor(opts: LocalLambdaOptions) {
    const functions = opts.functions ?? [];
    this.#byArn = new Map(functions.map((fn) => [fn.arn, fn]));
    this.#invoke = opts.invoke;
    this.#onAsyncError = opts.onAsyncError ?? (() => {});
    this.#retries = opts.asyncRetryAttempts ?? 2;
    const [, , , region, accountId] = functions[0]?.arn.split(':') ?? [];
    this.#home = {
      region: opts.region ?? region ?? 'us-east-1',
      accountId: opts.accountId ?? accountId ?? '123456789012',
    };
    this.#server = new LocalHttpServer((req) => this.#handle(req), {
      maxBodyBytes: SYNC_REQUEST_LIMIT_BYTES,
      tooLarge: () =>
        error(
          new AwsServiceError(
            'RequestEntityTooLargeException',
            `Request must be smaller than ${SYNC_REQUEST_LIMIT_BYTES} bytes for the InvokeFunction operation`,
            413,
          ),
        ),
    });
  }

  /** Resolves to the endpoint URL, `http://127.0.0.1:<port>`. */
  public start(): Promise<string> {
    return this.#server.start();
  }

  /** Stops listening; asynchronous invocations already accepted keep running (see `idle`). */
  public stop(): Promise<void> {
    return this.#server.stop();
  }

  /** Adds functions (or replaces ones with the same ARN): Invoke finds them from now on. */
  public register(functions: readonly LocalFunction[]): void {
    for (const fn of functions) this.#byArn.set(fn.arn, fn);
  }

  /** Resolves once no asynchronous invocation is running, including ones started meanwhile. */
  public async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async #handle(req: AwsHttpRequest): Promise<AwsHttpResponse> {
    try {
      const path = INVOKE_PATH.exec(req.url.pathname);
      if (req.method !== 'POST' || !path?.[1]) {
        throw new AwsServiceError(
          'UnknownOperationException',
          `Unknown operation ${req.method} ${req.url.pathname}`,
          404,
        );
      }
      const type = headerValue(req.headers, 'x-amz-invocation-type') ?? 'RequestResponse';
      if (type !== 'RequestResponse' && type !== 'Event' && type !== 'DryRun') {
        throw validationError(
          'invocationType',
          'Member must satisfy enum value set: [Event, RequestResponse, DryRun]',
          type,
        );
      }
      const fn = this.#find(decodeURIComponent(path[1]), req.url.searchParams.get('Qualifier') ?? undefined);
      const payload = requestPayload(req.body);
      if (type === 'DryRun') return { status: 204 };
      if (type === 'Event') {
        if (payload.byteLength > ASYNC_REQUEST_LIMIT_BYTES) {
          throw new AwsServiceError(
            'RequestEntityTooLargeException',
            `${payload.byteLength} byte payload is too large for the Event invocation type (limit ${ASYNC_REQUEST_LIMIT_BYTES} bytes)`,
            413,
          );
        }
        this.#track(this.#runAsync(fn.arn, payload));
        return { status: 202 };
      }
      return await this.#runSync(fn.arn, payload);
    } catch (err) {
      if (err instanceof AwsServiceError) return error(err);
      throw err;
    }
  }

  #find(functionName: string, queryQualifier: string | undefined): LocalFunction {
    const ref = parseFunctionName(functionName, queryQualifier, this.#home);
    const fn = this.#byArn.get(ref.arn);
    // Only $LATEST exists here: the rehearsal deploys no versions or aliases.
    if (!fn || (ref.qualifier !== undefined && ref.qualifier !== '$LATEST')) {
      const arn = ref.qualifier !== undefined ? `${ref.arn}:${ref.qualifier}` : ref.arn;
      throw new AwsServiceError('ResourceNotFoundException', `Function not found: ${arn}`, 404, {
        Type: 'User',
      });
    }
    return fn;
  }

  async #runSync(functionArn: string, payload: Uint8Array): Promise<AwsHttpResponse> {
    let result: InvocationResult;
    try {
      result = await this.#invoke(functionArn, payload, 'RequestResponse');
    } catch (err) {
      throw new AwsServiceError(
        'ServiceException',
        `local invoke failed: ${(err as Error)?.message ?? err}`,
        500,
        {
          Type: 'Service',
        },
      );
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'X-Amz-Executed-Version': '$LATEST',
    };
    if (result.payload.byteLength > SYNC_RESPONSE_LIMIT_BYTES) {
      // Lambda reports an oversized response as the function's error, not as an API error.
      return {
        status: 200,
        headers: { ...headers, 'X-Amz-Function-Error': 'Unhandled' },
        body: JSON.stringify({
          errorMessage: `Response payload size exceeded maximum allowed payload size (${SYNC_RESPONSE_LIMIT_BYTES} bytes).`,
          errorType: 'Function.ResponseSizeTooLarge',
        }),
      };
    }
    if (result.functionError) headers['X-Amz-Function-Error'] = 'Unhandled';
    return { status: 200, headers, body: result.payload };
  }

  async #runAsync(functionArn: string, payload: Uint8Array): Promise<void> {
    let failure: Uint8Array | Error = new Error('not run');
    for (let attempt = 1; attempt <= 1 + this.#retries; attempt++) {
      try {
        const result = await this.#invoke(functionArn, payload, 'Event');
        if (!result.functionError) return;
        failure = result.payload;
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
      }
    }
    this.#onAsyncError({ functionArn, payload, attempts: 1 + this.#retries, error: failure });
  }

  #track(run: Promise<void>): void {
    const tracked = run.finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }
}

/**
 * The event a function receives: Lambda requires JSON and gives `{}` for an empty payload. The
 * message follows Lambda's; the parser's detail is Node's, not Jackson's.
 */
function requestPayload(body: Buffer): Uint8Array {
  if (body.length === 0) return new TextEncoder().encode('{}');
  try {
    JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new AwsServiceError(
      'InvalidRequestContentException',
      `Could not parse request body into json: Could not parse payload into json: ${(err as Error).message}`,
      400,
      { Type: 'User' },
    );
  }
  return new Uint8Array(body);
}

/** restJson1 errors: the code in `x-amzn-ErrorType`, the shape's members in the JSON body. */
function error(err: AwsServiceError): AwsHttpResponse {
  // Lambda's modelled shapes differ in the case of the message member.
  const messageKey =
    err.code === 'ResourceNotFoundException' || err.code === 'ServiceException' ? 'Message' : 'message';
  return {
    status: err.status,
    headers: { 'content-type': 'application/json', 'x-amzn-ErrorType': err.code },
    body: JSON.stringify({ Type: 'User', ...err.fields, [messageKey]: err.message }),
  };
}

import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

/** One AWS::Lambda::Function of the resolved template, as the rehearsal runs it. */
export interface FunctionSpec {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly roleArn: string;
  /** `index.handler`. */
  readonly handler: string;
  /** The bundle's folder in cdk.out (Lambda's /var/task). */
  readonly taskRoot: string;
  readonly runtime: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** The process environment: the template's variables plus what Lambda itself sets (lambdaEnvironment). */
  readonly environment: Readonly<Record<string, string>>;
}

export interface LambdaError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: readonly string[];
}

export interface InvocationResult {
  /** The handler's answer, JSON as Lambda returns it. */
  readonly payload?: string;
  readonly error?: LambdaError;
  readonly durationMs: number;
  /** Set when this invocation started a new execution environment (a cold start): init time. */
  readonly initMs?: number;
}

export interface FunctionStats {
  readonly invocations: number;
  readonly errors: number;
  readonly coldStarts: number;
  readonly initMs: readonly number[];
  /** Highest resident set size any of its environments reached, in MiB (Lambda's "Max Memory Used"). */
  readonly maxMemoryUsedMb: number;
}

export interface RehearsedFunctionOptions {
  /** Node.js binary of the runtime (the rehearsal checks it matches `Runtime`). */
  readonly nodePath: string;
  /** Where each output line of the function goes (its CloudWatch log group, locally). */
  readonly log: (line: string) => void;
  /** Most execution environments at once (Lambda scales out per concurrent invocation). */
  readonly maxEnvironments?: number;
}

const RUNTIME_SCRIPT = fileURLToPath(new URL('./lambdaRuntime.ts', import.meta.url));

interface Pending {
  readonly resolve: (r: { payload?: string; error?: LambdaError; rss: number }) => void;
}

/** One execution environment: a Node process that holds the loaded bundle between invocations. */
class ExecutionEnvironment {
  readonly process: ChildProcess;
  private pending?: Pending;
  private exitReason?: string;
  readonly ready: Promise<{ error?: LambdaError; initMs: number }>;
  maxRss = 0;

  constructor(spec: FunctionSpec, opts: RehearsedFunctionOptions) {
    const started = performance.now();
    this.process = fork(RUNTIME_SCRIPT, [spec.taskRoot, spec.handler], {
      cwd: spec.taskRoot,
      env: spec.environment,
      execPath: opts.nodePath,
      // A heap ceiling below the function's memory, as the Lambda runtime sets one.
      execArgv: [`--max-old-space-size=${Math.floor(spec.memoryMb * 0.9)}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    for (const stream of [this.process.stdout, this.process.stderr]) {
      let rest = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) if (line.length > 0) opts.log(line);
      });
    }
    this.ready = new Promise((resolve) => {
      const onMessage = (m: { type: string; error?: LambdaError; rss?: number }) => {
        if (m.type === 'ready' || m.type === 'init-error') {
          this.process.off('message', onMessage);
          this.maxRss = Math.max(this.maxRss, m.rss ?? 0);
          resolve({ ...(m.error ? { error: m.error } : {}), initMs: performance.now() - started });
        }
      };
      this.process.on('message', onMessage);
      this.process.once('exit', (code, signal) => {
        this.exitReason = `Runtime exited with ${signal ? `signal ${signal}` : `error: exit status ${code}`}`;
        resolve({
          error: { errorType: 'Runtime.ExitError', errorMessage: this.exitReason },
          initMs: performance.now() - started,
        });
        this.pending?.resolve({
          error: { errorType: 'Runtime.ExitError', errorMessage: this.exitReason },
          rss: 0,
        });
        this.pending = undefined;
      });
    });
    this.process.on('message', (m: { type: string; payload?: string; error?: LambdaError; rss: number }) => {
      if (m.type !== 'result') return;
      this.maxRss = Math.max(this.maxRss, m.rss);
      const pending = this.pending;
      this.pending = undefined;
      pending?.resolve(m);
    });
  }

  get alive(): boolean {
    return this.exitReason === undefined && !this.killed;
  }

  run(message: object): Promise<{ payload?: string; error?: LambdaError; rss: number }> {
    return new Promise((resolve) => {
      this.pending = { resolve };
      this.process.send(message);
    });
  }

  private killed = false;

  kill(): void {
    if (this.alive) this.process.kill('SIGKILL');
    this.killed = true;
  }
}

/**
 * A rehearsed function: invocations run in execution environments (processes) created on demand
 * and reused while warm, one invocation per environment at a time, killed at the function's
 * timeout as Lambda does ("Task timed out").
 */
export class RehearsedFunction {
  private readonly idle: ExecutionEnvironment[] = [];
  private readonly all = new Set<ExecutionEnvironment>();
  private readonly waiting: Array<() => void> = [];
  private invocations = 0;
  private errors = 0;
  private readonly initMs: number[] = [];
  private maxRss = 0;

  readonly spec: FunctionSpec;
  private readonly opts: RehearsedFunctionOptions;

  constructor(spec: FunctionSpec, opts: RehearsedFunctionOptions) {
    this.spec = spec;
    this.opts = opts;
  }

  /** Invocations running now. */
  running = 0;

  async invoke(event: unknown, invokedFunctionArn = this.spec.arn): Promise<InvocationResult> {
    this.running += 1;
    try {
      return await this.invokeOnce(event, invokedFunctionArn);
    } finally {
      this.running -= 1;
    }
  }

  private async invokeOnce(event: unknown, invokedFunctionArn: string): Promise<InvocationResult> {
    const { environment: env, initMs } = await this.acquire();
    const started = performance.now();
    try {
      if (initMs.error) {
        this.errors += 1;
        return { error: initMs.error, durationMs: 0, initMs: initMs.ms };
      }
      const id = randomUUID();
      const timeoutMs = this.spec.timeoutSeconds * 1000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<{ payload?: string; error?: LambdaError; rss: number }>((resolve) => {
        timer = setTimeout(() => {
          env.kill();
          resolve({
            error: {
              errorType: 'Sandbox.Timedout',
              errorMessage: `Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds`,
            },
            rss: 0,
          });
        }, timeoutMs);
      });
      const result = await Promise.race([
        env.run({
          type: 'invoke',
          id,
          event,
          deadline: Date.now() + timeoutMs,
          invokedFunctionArn,
          traceId: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${id.replaceAll('-', '').slice(0, 24)};Parent=${id.slice(0, 16).replaceAll('-', '0')};Sampled=0`,
        }),
        timedOut,
      ]);
      clearTimeout(timer);
      this.invocations += 1;
      if (result.error) this.errors += 1;
      this.maxRss = Math.max(this.maxRss, env.maxRss);
      const memoryUsedMb = env.maxRss / 2 ** 20;
      const outOfMemory: LambdaError | undefined =
        memoryUsedMb > this.spec.memoryMb
          ? {
              errorType: 'Runtime.OutOfMemory',
              errorMessage: `Runtime exited: ${Math.round(memoryUsedMb)} MB used of the function's ${this.spec.memoryMb} MB`,
            }
          : undefined;
      if (outOfMemory) env.kill();
      const error = result.error ?? outOfMemory;
      return {
        ...(result.payload !== undefined ? { payload: result.payload } : {}),
        ...(error ? { error } : {}),
        durationMs: performance.now() - started,
        ...(initMs.cold ? { initMs: initMs.ms } : {}),
      };
    } finally {
      this.release(env);
    }
  }

  stats(): FunctionStats {
    return {
      invocations: this.invocations,
      errors: this.errors,
      coldStarts: this.initMs.length,
      initMs: [...this.initMs],
      maxMemoryUsedMb: Math.round(this.maxRss / 2 ** 20),
    };
  }

  /** Ends every environment (the rehearsal is over). */
  stop(): void {
    for (const env of this.all) env.kill();
    this.all.clear();
    this.idle.length = 0;
  }

  private async acquire(): Promise<{
    environment: ExecutionEnvironment;
    initMs: { cold: boolean; ms: number; error?: LambdaError };
  }> {
    for (;;) {
      const warm = this.idle.pop();
      if (warm?.alive) return { environment: warm, initMs: { cold: false, ms: 0 } };
      if (warm) this.all.delete(warm);
      if (this.all.size < (this.opts.maxEnvironments ?? 10)) break;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    const env = new ExecutionEnvironment(this.spec, this.opts);
    this.all.add(env);
    const ready = await env.ready;
    this.initMs.push(ready.initMs);
    if (ready.error) {
      // Lambda discards an environment whose init failed; the next invocation tries a new one.
      env.kill();
      return { environment: env, initMs: { cold: true, ms: ready.initMs, error: ready.error } };
    }
    return { environment: env, initMs: { cold: true, ms: ready.initMs } };
  }

  private release(env: ExecutionEnvironment): void {
    if (env.alive) this.idle.push(env);
    else this.all.delete(env);
    this.waiting.shift()?.();
  }
}

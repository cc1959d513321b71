import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type FunctionSpec, RehearsedFunction } from '../../../local/rehearsal/RehearsedFunction.ts';

/**
 * The rehearsal's Lambda execution environments, on small bundles written here: each runs in its
 * own Node process with exactly the environment it is given, answers as Lambda answers, and fails
 * the way Lambda fails (import errors, timeouts, crashes).
 */
const root = mkdtempSync(join(tmpdir(), 'wb-rehearsed-fn-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function bundle(name: string, source: string, overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.mjs'), source);
  return {
    logicalId: name,
    name: `Stack-${name}`,
    arn: `arn:aws:lambda:eu-west-1:123456789012:function:Stack-${name}`,
    roleArn: 'arn:aws:iam::123456789012:role/r',
    handler: 'index.handler',
    taskRoot: dir,
    runtime: 'nodejs24.x',
    memoryMb: 256,
    timeoutSeconds: 5,
    environment: {
      ONLY_THIS: 'set',
      AWS_LAMBDA_FUNCTION_NAME: `Stack-${name}`,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    },
    ...overrides,
  };
}

const lines: string[] = [];
const started: RehearsedFunction[] = [];
function run(spec: FunctionSpec): RehearsedFunction {
  const fn = new RehearsedFunction(spec, { nodePath: process.execPath, log: (l) => lines.push(l) });
  started.push(fn);
  return fn;
}
afterAll(() => {
  for (const fn of started) fn.stop();
});

describe('RehearsedFunction', () => {
  it('runs the handler with only the given environment and Lambda’s context, and keeps the environment warm', async () => {
    const fn = run(
      bundle(
        'echo',
        `let calls = 0;
         export const handler = async (event, context) => ({
           calls: ++calls,
           event,
           env: Object.keys(process.env).filter((k) => !k.startsWith('NODE_') && k !== '_X_AMZN_TRACE_ID').sort(),
           arn: context.invokedFunctionArn,
           remaining: context.getRemainingTimeInMillis(),
           trace: process.env._X_AMZN_TRACE_ID,
         });`,
      ),
    );
    const first = await fn.invoke({ hello: 'world' });
    const second = await fn.invoke({ again: true });
    const a = JSON.parse(first.payload!);
    const b = JSON.parse(second.payload!);
    expect(a.event).toEqual({ hello: 'world' });
    expect(a.env).toEqual(['AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_VERSION', 'ONLY_THIS']);
    expect(a.arn).toBe('arn:aws:lambda:eu-west-1:123456789012:function:Stack-echo');
    expect(a.remaining).toBeGreaterThan(0);
    expect(a.remaining).toBeLessThanOrEqual(5000);
    expect(a.trace).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
    expect(first.initMs).toBeGreaterThan(0);
    expect(second.initMs).toBeUndefined();
    expect(b.calls).toBe(2);
    expect(fn.stats()).toMatchObject({ invocations: 2, errors: 0, coldStarts: 1 });
  });

  it('answers a thrown error with Lambda’s error shape', async () => {
    const fn = run(
      bundle('throws', `export const handler = async () => { throw new TypeError('no such field'); };`),
    );
    const result = await fn.invoke({});
    expect(result.error).toMatchObject({ errorType: 'TypeError', errorMessage: 'no such field' });
    expect(result.payload).toBeUndefined();
  });

  it('reports a bundle whose imports do not resolve as Runtime.ImportModuleError, on every invocation', async () => {
    const fn = run(
      bundle('broken-import', `import 'no-such-package-anywhere'; export const handler = async () => 1;`),
    );
    for (let i = 0; i < 2; i++) {
      const result = await fn.invoke({});
      expect(result.error?.errorType).toBe('Runtime.ImportModuleError');
      expect(result.error?.errorMessage).toContain('no-such-package-anywhere');
    }
  });

  it('reports a handler the module does not export as Runtime.HandlerNotFound', async () => {
    const fn = run(bundle('no-handler', `export const other = async () => 1;`));
    expect((await fn.invoke({})).error?.errorType).toBe('Runtime.HandlerNotFound');
  });

  it('stops an invocation at the function’s timeout and starts a new environment for the next', async () => {
    const fn = run(
      bundle(
        'slow',
        `export const handler = async (e) => { if (e.hang) await new Promise(() => setInterval(() => {}, 1000)); return 'quick'; };`,
        {
          timeoutSeconds: 1,
        },
      ),
    );
    const hung = await fn.invoke({ hang: true });
    expect(hung.error).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: 'Task timed out after 1.00 seconds',
    });
    const next = await fn.invoke({});
    expect(next.payload).toBe('"quick"');
    expect(next.initMs).toBeGreaterThan(0);
    expect(fn.stats().coldStarts).toBe(2);
  });

  it('reports a process that exits mid-invocation as Runtime.ExitError', async () => {
    const fn = run(bundle('exits', `export const handler = async () => { process.exit(3); };`));
    const result = await fn.invoke({});
    expect(result.error).toMatchObject({ errorType: 'Runtime.ExitError' });
    expect(result.error?.errorMessage).toContain('exit status 3');
  });

  it('passes the function’s output lines to its log', async () => {
    const fn = run(
      bundle(
        'logs',
        `export const handler = async () => { console.log(JSON.stringify({ level: 'INFO', message: 'hello from the bundle' })); return null; };`,
      ),
    );
    await fn.invoke({});
    expect(lines.some((l) => l.includes('hello from the bundle'))).toBe(true);
  });
});

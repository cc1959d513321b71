import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WritebackError } from '../../shared/errors.ts';
import type { FunctionSpec } from './RehearsedFunction.ts';
import type { ResolvedStack } from './resolveTemplate.ts';

/**
 * The rehearsed form of each AWS::Lambda::Function: its bundle in cdk.out, and the environment
 * Lambda would give its process, which is the template's variables plus the ones Lambda defines
 * itself (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
 * Two things differ from AWS, both stated: the SDK's endpoints (`AWS_ENDPOINT_URL_<SERVICE>`) point
 * at the rehearsal, and a file the Lambda runtime provides (the CA bundle) is the local one.
 */

/** Variables Lambda sets and a function may not: a template that sets one fails to deploy. */
const RESERVED = [
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
];

/** Runtimes the rehearsal runs, and the Node.js major each stands for. */
export const NODE_RUNTIMES: Readonly<Record<string, number>> = { 'nodejs22.x': 22, 'nodejs24.x': 24 };

/** A function the rehearsal cannot run as deployed: a bundle missing, a reserved variable set, another runtime. */
export class FunctionSpecError extends WritebackError {
  public constructor(message: string) {
    super('WB_REHEARSAL_FUNCTION_INVALID', message);
    this.name = 'FunctionSpecError';
  }
}

export interface FunctionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

export interface SpecOptions {
  readonly cdkOut: string;
  /** Credentials of each function's role (one access key per role: the gateway knows the role by it). */
  readonly credentialsFor: (roleArn: string) => FunctionCredentials;
  /** `AWS_ENDPOINT_URL_<SERVICE>` values (`DYNAMODB`, `SQS`, `S3`, `SECRETS_MANAGER`, `LAMBDA`, `STS`). */
  readonly endpoints: Readonly<Record<string, string>>;
  /** Runtime-provided files and where they are here (`/var/runtime/ca-cert.pem` → the local CA). */
  readonly runtimeFiles: Readonly<Record<string, string>>;
  /** Directory holding the rehearsal's Node.js binary (for PATH). */
  readonly nodeBinDir: string;
}

/** The cdk.out folder of a function's code: the S3 key is `<asset hash>.zip`. */
function taskRootOf(logicalId: string, code: Record<string, unknown>, cdkOut: string): string {
  const key = typeof code.S3Key === 'string' ? code.S3Key : undefined;
  if (!key) throw new FunctionSpecError(`${logicalId}: Code has no S3Key (inline code is not rehearsed)`);
  const dir = join(cdkOut, `asset.${key.replace(/\.zip$/, '')}`);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new FunctionSpecError(`${logicalId}: its bundle ${dir} is not in cdk.out (run cdk synth)`);
  return dir;
}

export function functionSpecs(stack: ResolvedStack, opts: SpecOptions): FunctionSpec[] {
  const specs: FunctionSpec[] = [];
  for (const [logicalId, r] of Object.entries(stack.resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const p = r.Properties ?? {};
    const physical = stack.physical.get(logicalId)!;
    const runtime = String(p.Runtime);
    if (!(runtime in NODE_RUNTIMES))
      throw new FunctionSpecError(
        `${logicalId}: runtime ${runtime} is not one the rehearsal runs (${Object.keys(NODE_RUNTIMES).join(', ')})`,
      );
    const own = ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
      {}) as Record<string, unknown>;
    const reserved = Object.keys(own).filter((k) => RESERVED.includes(k));
    if (reserved.length > 0)
      throw new FunctionSpecError(
        `${logicalId}: sets Lambda's reserved variable(s) ${reserved.join(', ')}: the deploy would fail`,
      );
    const memoryMb = Number(p.MemorySize ?? 128);
    const timeoutSeconds = Number(p.Timeout ?? 3);
    const logging = (p.LoggingConfig ?? {}) as Record<string, string>;
    const logGroup = logging.LogGroup ?? `/aws/lambda/${physical.ref}`;
    const roleArn = String(p.Role);
    const creds = opts.credentialsFor(roleArn);
    const handler = String(p.Handler ?? 'index.handler');
    const taskRoot = taskRootOf(logicalId, (p.Code ?? {}) as Record<string, unknown>, opts.cdkOut);
    const environment: Record<string, string> = {
      // Set by Lambda.
      _HANDLER: handler,
      AWS_REGION: stack.region,
      AWS_DEFAULT_REGION: stack.region,
      AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: physical.ref,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: logGroup,
      AWS_LAMBDA_LOG_STREAM_NAME: `rehearsal/[$LATEST]${logicalId.slice(0, 16)}`,
      ...(logging.LogFormat ? { AWS_LAMBDA_LOG_FORMAT: logging.LogFormat } : {}),
      ...(logging.LogFormat === 'JSON' && logging.ApplicationLogLevel
        ? { AWS_LAMBDA_LOG_LEVEL: logging.ApplicationLogLevel }
        : {}),
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      AWS_SESSION_TOKEN: creds.sessionToken,
      LAMBDA_TASK_ROOT: taskRoot,
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      PATH: `${opts.nodeBinDir}:/usr/local/bin:/usr/bin:/bin`,
      NODE_PATH: '/opt/nodejs/node_modules:/var/runtime/node_modules',
      AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
      AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
      // The rehearsal's endpoints, through the SDK's standard settings.
      ...Object.fromEntries(
        Object.entries(opts.endpoints).map(([svc, url]) => [`AWS_ENDPOINT_URL_${svc}`, url]),
      ),
    };
    for (const [key, value] of Object.entries(own)) {
      const text = String(value);
      environment[key] = opts.runtimeFiles[text] ?? text;
    }
    specs.push({
      logicalId,
      name: physical.ref,
      arn: physical.attributes.Arn!,
      roleArn,
      handler,
      taskRoot,
      runtime,
      memoryMb,
      timeoutSeconds,
      environment,
    });
  }
  return specs;
}

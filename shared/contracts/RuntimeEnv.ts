import { ConfigValidationError } from '../errors.ts';

/**
 * The environment contract between the CDK stack (infra/) and the Lambda handlers (functions/).
 * The stack sets exactly these variables; nothing else in the code reads process.env.
 */
export const ENV = {
  /** Name of the DynamoDB table holding bookmarks, leases and run history. */
  stateTable: 'WB_STATE_TABLE',
  /** Name of the DynamoDB table holding the links (one item per sync + source key). */
  linksTable: 'WB_LINKS_TABLE',
  /** Name of the sync this function serves. */
  sync: 'WB_SYNC',
  /** URL of the sync's SQS queue (extract function). */
  queueUrl: 'WB_QUEUE_URL',
  /** URL of the sync's dead-letter queue (write function sends permanent failures there). */
  dlqUrl: 'WB_DLQ_URL',
  /** Secrets Manager ARN of the warehouse credentials (extract function). */
  dwhSecretArn: 'WB_DWH_SECRET_ARN',
  /**
   * Secrets Manager ARN of the warehouse writer's credentials: a user that owns only the
   * `writeback` schema (verify function, for its exports). Unset: verify writes with the reader.
   */
  dwhWriterSecretArn: 'WB_DWH_WRITER_SECRET_ARN',
  /** Secrets Manager ARN of the target connection's credentials (write function). */
  connectionSecretArn: 'WB_CONNECTION_SECRET_ARN',
  /** JSON array of extract function names of child syncs run right after this one (same schedule). */
  thenInvoke: 'WB_THEN_INVOKE',
  /** mappingFingerprint of the function's sync, computed from the config at synth time (extract function). */
  mappingFingerprint: 'WB_MAPPING_FINGERPRINT',
  /**
   * S3 bucket of the claim checks: message bodies too large for SQS (extract and verify functions
   * store, the write function reads and deletes, each under its sync's prefix only).
   */
  claimCheckBucket: 'WB_CLAIM_CHECK_BUCKET',
  /**
   * The function's own timeout in milliseconds: its Postgres connections' statement and lock
   * timeouts are set below it (timeoutsForBudget in shared/postgresPools.ts).
   */
  functionTimeoutMs: 'WB_FUNCTION_TIMEOUT_MS',
} as const;

export interface RuntimeEnv {
  readonly stateTable: string;
  readonly linksTable: string;
  readonly sync: string;
  readonly queueUrl: string | undefined;
  readonly dlqUrl: string | undefined;
  readonly dwhSecretArn: string | undefined;
  readonly dwhWriterSecretArn: string | undefined;
  readonly connectionSecretArn: string | undefined;
  readonly thenInvoke: readonly string[];
  readonly mappingFingerprint: string | undefined;
  readonly claimCheckBucket: string | undefined;
  readonly functionTimeoutMs: number | undefined;
}

/** Reads the contract from an environment (injectable for tests); names every missing variable at once. */
export function readRuntimeEnv(env: Record<string, string | undefined>): RuntimeEnv {
  const missing = [ENV.stateTable, ENV.linksTable, ENV.sync].filter((name) => !env[name]);
  if (missing.length > 0) throw new ConfigValidationError(missing.map((name) => `env.${name}: required`));
  return {
    stateTable: env[ENV.stateTable]!,
    linksTable: env[ENV.linksTable]!,
    sync: env[ENV.sync]!,
    queueUrl: env[ENV.queueUrl],
    dlqUrl: env[ENV.dlqUrl],
    dwhSecretArn: env[ENV.dwhSecretArn],
    dwhWriterSecretArn: env[ENV.dwhWriterSecretArn],
    connectionSecretArn: env[ENV.connectionSecretArn],
    thenInvoke: env[ENV.thenInvoke] ? (JSON.parse(env[ENV.thenInvoke]!) as string[]) : [],
    mappingFingerprint: env[ENV.mappingFingerprint],
    claimCheckBucket: env[ENV.claimCheckBucket],
    functionTimeoutMs: positiveInteger(env, ENV.functionTimeoutMs),
  };
}

function positiveInteger(env: Record<string, string | undefined>, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new ConfigValidationError([`env.${name}: a positive whole number of milliseconds, not '${text}'`]);
  return n;
}

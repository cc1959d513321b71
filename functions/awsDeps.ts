import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
// The config the stack was synthesized from: writeback.config.ts here (package.json "imports"),
// the file of `cdk deploy -c config=<path>` in a bundle (an esbuild alias, infra/defaults.ts).
import config from '#writeback-config';
import { type AwsClients, createAwsClients } from '../shared/aws/awsClients.ts';
import { S3ClaimCheckStore } from '../shared/aws/S3ClaimCheckStore.ts';
import { validateConfig } from '../shared/config/validateConfig.ts';
import { createConnector, credentialsFromSecret } from '../shared/connectors/createConnector.ts';
import { ENV, type RuntimeEnv, readRuntimeEnv } from '../shared/contracts/RuntimeEnv.ts';
import { ConfigValidationError } from '../shared/errors.ts';
import { DynamoLinkStore } from '../shared/links/DynamoLinkStore.ts';
import { DynamoPairStore } from '../shared/pair/DynamoPairStore.ts';
import { type SessionTimeouts, timeoutsForBudget, warehousePool } from '../shared/postgresPools.ts';
import { SqsEnqueuer } from '../shared/queue/SqsEnqueuer.ts';
import type {
  ExtractHandlerDeps,
  VerifyHandlerDeps,
  WriteHandlerDeps,
} from '../shared/runtime/HandlerDeps.ts';
import { DynamoRunStartReader } from '../shared/state/DynamoRunStartReader.ts';
import { DynamoStateStore } from '../shared/state/DynamoStateStore.ts';
import { verifyReadsTarget } from '../shared/verify/verifyReadsTarget.ts';
import { SqsDeadLetterSink } from '../shared/write/DeadLetterSink.ts';
import { DynamoRateLimiter } from '../shared/write/DynamoRateLimiter.ts';
import { paceForWindows } from '../shared/write/paceForWindows.ts';
import { connectionFromSecret, secretReader, tokenRotation } from './secrets.ts';

type Env = Record<string, string | undefined>;

/**
 * Reads a secret (RDS-style JSON, {url}, {token}, or a plain string) through Powertools
 * Parameters: cached per container with a time to live (SECRET_MAX_AGE_SECONDS), re-read past the
 * cache when a target refuses the credentials (connectionFromSecret).
 */
const readSecret = secretReader();

/** A secret's fields as connection credentials (RDS-style Postgres JSON, tokens, OAuth client pairs). */
const toCredentials = credentialsFromSecret;

/** The claim-check store of the stack's bucket (WB_CLAIM_CHECK_BUCKET), when the stack set one. */
function claimChecksOf(aws: AwsClients, runtime: RuntimeEnv): { claimChecks?: S3ClaimCheckStore } {
  return runtime.claimCheckBucket
    ? { claimChecks: new S3ClaimCheckStore(aws.s3, runtime.claimCheckBucket) }
    : {};
}

/**
 * Statement and lock timeouts below the function's own timeout (WB_FUNCTION_TIMEOUT_MS); the
 * defaults of a local run when the stack did not say.
 */
function timeoutsOf(runtime: RuntimeEnv): { timeouts?: SessionTimeouts } {
  return runtime.functionTimeoutMs ? { timeouts: timeoutsForBudget(runtime.functionTimeoutMs) } : {};
}

/**
 * The warehouse pool, from its secret (serverless pool options, the pinned session). TLS as the
 * secret or its URL says, verify-full by default: the stack points NODE_EXTRA_CA_CERTS at the
 * Lambda runtime's Amazon CA bundle, which holds the RDS authorities.
 */
async function warehouseSql(secretArn: string, runtime: RuntimeEnv) {
  const { url } = toCredentials(await readSecret(secretArn));
  if (!url)
    throw new ConfigValidationError(['warehouse secret: needs url, or host/port/username/password/dbname']);
  return warehousePool(url, { max: 2, ...timeoutsOf(runtime) });
}

export async function createAwsExtractDeps(env: Env, logger: Logger): Promise<ExtractHandlerDeps> {
  const runtime = readRuntimeEnv(env);
  const cfg = validateConfig(config);
  if (!runtime.dwhSecretArn || !runtime.queueUrl) {
    throw new ConfigValidationError([
      `env.${ENV.dwhSecretArn} and env.${ENV.queueUrl}: required by the extract function`,
    ]);
  }
  const sql = await warehouseSql(runtime.dwhSecretArn, runtime);
  const aws = createAwsClients();
  const state = new DynamoStateStore(aws.ddb, runtime.stateTable);
  const links = new DynamoLinkStore(aws.ddb, runtime.linksTable);
  const runStart = new DynamoRunStartReader(aws.ddb, {
    state: runtime.stateTable,
    links: runtime.linksTable,
  });
  const enqueuer = new SqsEnqueuer(aws.sqs, runtime.queueUrl, claimChecksOf(aws, runtime));
  const lambda = new LambdaClient({});
  return {
    config: cfg,
    logger,
    defaultSync: runtime.sync,
    depsFor: (sync) => ({
      sql,
      state,
      links,
      runStart,
      ...(sync.pair ? { pairs: new DynamoPairStore(aws.ddb, runtime.linksTable) } : {}),
      enqueuer,
      now: Date.now,
      ...(sync.name === runtime.sync && runtime.mappingFingerprint
        ? { mappingFingerprint: runtime.mappingFingerprint }
        : {}),
    }),
    // An asynchronous invoke of this same function: the next run starts at once and re-acquires the
    // lease. Lambda's recursive loop detection counts Invoke API chains, so the stack sets the
    // function's recursive loop setting to Allow; the handler only continues after progress.
    continueBacklog: async (sync, context) => {
      await lambda.send(
        new InvokeCommand({
          FunctionName: context.invokedFunctionArn,
          InvocationType: 'Event',
          Payload: new TextEncoder().encode(JSON.stringify({ sync: sync.name })),
        }),
      );
      logger.info('backlog continues in a new invocation', { sync: sync.name });
    },
    runChildren: async (sync) => {
      for (const functionName of runtime.thenInvoke) {
        await lambda.send(
          new InvokeCommand({
            FunctionName: functionName,
            InvocationType: 'Event',
            Payload: new TextEncoder().encode('{}'),
          }),
        );
      }
      if (runtime.thenInvoke.length > 0)
        logger.info('child syncs started', { sync: sync.name, functions: runtime.thenInvoke });
    },
  };
}

export async function createAwsWriteDeps(env: Env, logger: Logger): Promise<WriteHandlerDeps> {
  const runtime = readRuntimeEnv(env);
  const cfg = validateConfig(config);
  const sync = cfg.syncs.find((s) => s.name === runtime.sync);
  if (!sync) throw new ConfigValidationError([`env.${ENV.sync}: unknown sync '${runtime.sync}'`]);
  if (!runtime.dlqUrl || !runtime.queueUrl) {
    throw new ConfigValidationError([
      `env.${ENV.dlqUrl} and env.${ENV.queueUrl}: required by the write function`,
    ]);
  }
  const queueUrl = runtime.queueUrl;
  const connection = cfg.connections[sync.target.connection]!;
  const creds = runtime.connectionSecretArn
    ? toCredentials(await readSecret(runtime.connectionSecretArn))
    : {};
  const aws = createAwsClients();
  const secretId = runtime.connectionSecretArn;
  // An OAuth 2.0 connection's rotating tokens: refreshed by one writer at a time, stored before use.
  const options = {
    ...timeoutsOf(runtime),
    ...(secretId
      ? {
          tokenRotation: tokenRotation({
            secretId,
            ddb: aws.ddb,
            stateTable: runtime.stateTable,
            connection: sync.target.connection,
          }),
        }
      : {}),
  };
  const connector = createConnector(sync, connection, creds, options);
  // A rotated or replaced secret reaches the writer: re-read with a time to live, and at once when
  // the target refuses the credentials (the refused call is then repeated with the new connector).
  const credentials = secretId
    ? connectionFromSecret({
        name: connection.secret ?? secretId,
        secretId,
        read: readSecret,
        build: (c) => createConnector(sync, connection, c, options),
        initial: { creds, connector },
      })
    : undefined;
  const links = new DynamoLinkStore(aws.ddb, runtime.linksTable);
  const deadLetters = new SqsDeadLetterSink(aws.sqs, runtime.dlqUrl);
  const claimChecks = claimChecksOf(aws, runtime);
  // Writers of one connection run in separate containers: they share one paced budget in DynamoDB.
  const pace = paceForWindows(connector.capabilities.rateLimits?.windows);
  const limiter = pace
    ? new DynamoRateLimiter(aws.ddb, runtime.linksTable, sync.target.connection, pace)
    : undefined;
  return {
    config: cfg,
    logger,
    syncForSource: () => runtime.sync,
    depsFor: () => ({
      links,
      ...(sync.pair ? { pairs: new DynamoPairStore(aws.ddb, runtime.linksTable) } : {}),
      connector,
      ...(credentials ? { credentials } : {}),
      deadLetters,
      ...claimChecks,
      ...(limiter ? { limiter } : {}),
      now: Date.now,
      newToken: randomUUID,
      delay: async (receiptHandle, seconds) => {
        await aws.sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: receiptHandle,
            VisibilityTimeout: seconds,
          }),
        );
      },
    }),
  };
}

/**
 * The verify function reads the warehouse (source and, when configured, the target's copy) and
 * all links of its sync, and exports to the `writeback` schema with the writer's credentials
 * (WB_DWH_WRITER_SECRET_ARN) when the stack gives it them; it calls the target through the connector when the copy is missing or
 * does not carry the associations it checks (verifyReadsTarget).
 */
export async function createAwsVerifyDeps(
  env: Env,
  logger: Logger,
  metrics: Metrics,
): Promise<VerifyHandlerDeps> {
  const runtime = readRuntimeEnv(env);
  const cfg = validateConfig(config);
  if (!runtime.dwhSecretArn)
    throw new ConfigValidationError([`env.${ENV.dwhSecretArn}: required by the verify function`]);
  const sql = await warehouseSql(runtime.dwhSecretArn, runtime);
  // The exports into the `writeback` schema, as the user that owns it (warehouse.writerSecret);
  // without one, as the reader (the stack warned at synth).
  const writer = runtime.dwhWriterSecretArn
    ? await warehouseSql(runtime.dwhWriterSecretArn, runtime)
    : undefined;
  const aws = createAwsClients();
  const state = new DynamoStateStore(aws.ddb, runtime.stateTable);
  const links = new DynamoLinkStore(aws.ddb, runtime.linksTable);
  const sync = cfg.syncs.find((s) => s.name === runtime.sync);
  const connector =
    sync && verifyReadsTarget(sync) && runtime.connectionSecretArn
      ? createConnector(
          sync,
          cfg.connections[sync.target.connection]!,
          toCredentials(await readSecret(runtime.connectionSecretArn)),
          timeoutsOf(runtime),
        )
      : undefined;
  const queueUrl = runtime.queueUrl;
  return {
    config: cfg,
    logger,
    metrics,
    defaultSync: runtime.sync,
    ...(queueUrl
      ? { enqueuerFor: () => new SqsEnqueuer(aws.sqs, queueUrl, claimChecksOf(aws, runtime)) }
      : {}),
    depsFor: () => ({
      dwh: sql,
      ...(writer ? { dwhWriter: writer } : {}),
      links,
      state,
      now: Date.now,
      ...(connector ? { connector } : {}),
    }),
  };
}

import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';

/**
 * Secure defaults for every resource the stack creates, in one place so a reviewer can read
 * them at a glance (the aws-solutions-constructs `*-defaults.ts` idea).
 */

/** Lambda runtime of both handlers: the newest Node.js runtime in aws-cdk-lib 2.276. */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Graviton: ~20 % cheaper per GB-second than x86 and at least as fast for this I/O-bound code. */
export const ARCHITECTURE = lambda.Architecture.ARM_64;

/**
 * The write function's timeout. One invocation handles one SQS batch: a few target calls
 * (HubSpot batch upsert ~1 s, Xero 60 calls/min) plus two DynamoDB round trips per record.
 * @default 60 seconds
 */
export const WRITE_TIMEOUT = Duration.seconds(60);

/**
 * The extract function's timeout. The handler stops paging before its time budget runs out and
 * keeps the bookmark of the last page it enqueued, so a longer run only means fewer cold starts.
 * @default 5 minutes
 */
export const EXTRACT_TIMEOUT = Duration.minutes(5);

/**
 * The environment of a function that connects to Postgres (the extract and verify functions, a
 * Postgres target's writer): Node adds the Lambda runtime's Amazon CA bundle, which holds the RDS
 * certificate authorities, to the ones it trusts, so TLS verifies an RDS server (sslmode=verify-full
 * by default, shared/postgresTls.ts). Since Node.js 20 Lambda no longer loads that bundle by
 * default; functions that reach no database skip its cost at cold start.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html
 */
export const POSTGRES_CA_ENVIRONMENT = { NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' } as const;

/** Memory (and so CPU share) of the extract function: streaming, hashing and SDK calls are CPU-bound. */
export const EXTRACT_MEMORY_MB = 1024;

/** Memory of the write function: it waits on the target API most of the time. */
export const WRITE_MEMORY_MB = 512;

/** SQS event source batch size when the sync does not set `batchSize`. */
export const DEFAULT_BATCH_SIZE = 100;

/**
 * How long the event source mapping gathers messages before it invokes the writer with a batch
 * larger than 10 (SQS requires a window for batches above 10). The extractor enqueues pages in
 * bursts, so a short window already fills batches, and fuller batches spend the target's rate
 * limit better than many small ones.
 */
export const BATCHING_WINDOW = Duration.seconds(5);

/**
 * Visibility timeout of a sync's queue: AWS's guidance for SQS event sources is at least six times
 * the function timeout, so a batch that was throttled or retried by Lambda is not redelivered while
 * it is still being worked on; the batching window is added because messages are already in flight
 * while the mapping gathers a batch.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
 */
export function queueVisibilityTimeout(
  writeTimeout: Duration,
  batchingWindow: Duration | undefined,
): Duration {
  return Duration.seconds(6 * writeTimeout.toSeconds() + (batchingWindow?.toSeconds() ?? 0));
}

/** Dead-letter queues keep messages for the SQS maximum, so ops have two weeks to redrive. */
export const DLQ_RETENTION = Duration.days(14);

/** How long a sync's queue keeps a message (SQS's default, set explicitly: the claim checks depend on it). */
export const QUEUE_RETENTION = Duration.days(4);

/**
 * MaximumMessageSize of every queue: SQS's largest, 1 MiB, set explicitly (the default changed
 * over time). The extractor sends bodies above 256 KiB by claim check anyway
 * (shared/queue/sqsLimits.ts); the DLQ takes a message plus the writer's reason attributes.
 */
export const MAX_MESSAGE_SIZE_BYTES = 1_048_576;

/**
 * Lifetime of a claim-check object (a message body too large for SQS): longer than any message
 * that points to it can live, so no pointer outlives its object: up to QUEUE_RETENTION in the
 * sync's queue, then up to DLQ_RETENTION in the DLQ after the writer dead-letters it, plus three
 * days of margin. The writer deletes objects of settled messages itself; this rule removes the rest.
 */
export const CLAIM_CHECK_EXPIRY = Duration.days(QUEUE_RETENTION.toDays() + DLQ_RETENTION.toDays() + 3);

/** The claim-check bucket: private, encrypted, TLS only, no versions (an expired object is gone). */
export const CLAIM_CHECK_BUCKET: Pick<
  s3.BucketProps,
  'encryption' | 'blockPublicAccess' | 'enforceSSL' | 'versioned' | 'objectOwnership' | 'lifecycleRules'
> = {
  // S3-managed keys: no KMS key to grant to every function, nothing to pay per request.
  encryption: s3.BucketEncryption.S3_MANAGED,
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  enforceSSL: true,
  versioned: false,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  lifecycleRules: [
    {
      id: 'ExpireClaimChecks',
      enabled: true,
      expiration: CLAIM_CHECK_EXPIRY,
      abortIncompleteMultipartUploadAfter: Duration.days(1),
    },
  ],
};

/** Encryption at rest and TLS-only access for every queue (cdk-nag AwsSolutions-SQS2 and -SQS4). */
export const QUEUE_SECURITY: Pick<sqs.QueueProps, 'encryption' | 'enforceSSL'> = {
  // SQS-managed SSE: no KMS key to pay for or to grant to Scheduler and Lambda.
  encryption: sqs.QueueEncryption.SQS_MANAGED,
  enforceSSL: true,
};

/** On-demand billing, point-in-time recovery and encryption at rest for every table. */
export const TABLE_DEFAULTS: Pick<
  dynamodb.TableProps,
  'billingMode' | 'pointInTimeRecoverySpecification' | 'encryption'
> = {
  // Traffic is bursty (a run every few minutes, idle in between): on-demand costs nothing at rest.
  billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
  // The links table is what makes writes idempotent; losing it means duplicates in the target.
  pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  // The AWS-managed key (aws/dynamodb): key use is visible in CloudTrail and costs no monthly fee.
  encryption: dynamodb.TableEncryption.AWS_MANAGED,
};

/**
 * How Scheduler retries an invocation it could not deliver (a throttled Invoke API) before it puts
 * it in the sync's schedule DLQ: a few times within an hour; after that a newer tick has made it
 * pointless, and ScheduleFailuresAlarm tells ops.
 */
export const SCHEDULE_TARGET_RETRY = { retryAttempts: 3, maxEventAge: Duration.hours(1) } as const;

/**
 * How often a connection on rotating OAuth tokens is kept alive (SyncPipeline.keepConnectionAlive):
 * weekly, so that a Xero refresh token (expired after 60 days unused) gets eight chances, and a
 * revoked connection is noticed within a week even when nothing is written.
 */
export const KEEP_ALIVE_EVERY = Duration.days(7);

/**
 * Asynchronous invocations of a write function (only its keep-alive schedule invokes it so; the
 * queue's event source mapping invokes synchronously): two retries within the hour, then the
 * schedule DLQ (ScheduleFailuresAlarm).
 */
export const KEEP_ALIVE_ASYNC_INVOKE: AsyncInvokePolicy = {
  retryAttempts: 2,
  maxEventAge: Duration.hours(1),
};

/** How Lambda retries a function's failed asynchronous invocations, and how long an event may wait. */
export interface AsyncInvokePolicy {
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
}

/**
 * Asynchronous invocations of the extract function (Scheduler, a continuation of a backlog, a
 * parent starting its child). One retry, a minute later, covers a passing failure (the warehouse
 * restarting, a throttled secret read); more would repeat a failure the run history already
 * records, and the next tick runs again anyway (a retry after a timeout finds the lease still held
 * and skips). An event older than an hour is superseded by newer ticks. What fails for good goes to
 * the schedule DLQ instead of Lambda's default of two retries over up to six hours and nowhere.
 */
export const EXTRACT_ASYNC_INVOKE: AsyncInvokePolicy = { retryAttempts: 1, maxEventAge: Duration.hours(1) };

/**
 * Asynchronous invocations of the verify function (its schedule). No retry: a verification reads
 * every link of its sync and copies source and target, so a failed one is reported (schedule DLQ,
 * ScheduleFailuresAlarm) rather than repeated; the next scheduled one, or `writeback verify`, runs it
 * again.
 */
export const VERIFY_ASYNC_INVOKE: AsyncInvokePolicy = { retryAttempts: 0, maxEventAge: Duration.hours(1) };

/**
 * esbuild settings for both handlers: one ESM file per function with a source map, the AWS SDK
 * bundled at the versions in package-lock.json rather than whatever the runtime ships, and no
 * Docker (the local esbuild is used).
 */
const BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  bundleAwsSDK: true,
  forceDockerBundling: false,
  // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
  banner:
    "import { createRequire as __wbCreateRequire } from 'node:module'; const require = __wbCreateRequire(import.meta.url);",
};

/**
 * The bundling of a handler that carries `configFile`: the handlers import the config as
 * `#writeback-config` (package.json "imports" names writeback.config.ts), and an esbuild alias
 * points that name at the file the stack is synthesized from, so `cdk deploy -c config=<path>`
 * deploys functions that run the same config as the stack around them.
 */
export function bundlingFor(configFile: string): BundlingOptions {
  return { ...BUNDLING, esbuildArgs: { '--alias:#writeback-config': configFile } };
}

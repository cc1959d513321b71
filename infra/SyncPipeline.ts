import {
  CfnElement,
  Duration,
  Lazy,
  Names,
  RemovalPolicy,
  Stack,
  Tags,
  TimeZone,
  Validations,
} from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { mappingFingerprint } from '../shared/config/mappingFingerprint.ts';
import type { SyncConfig } from '../shared/config/schema.ts';
import { ENV } from '../shared/contracts/RuntimeEnv.ts';
import { ConfigValidationError } from '../shared/errors.ts';
import { verifyReadsTarget } from '../shared/verify/verifyReadsTarget.ts';
import { createSyncAlarms } from './createSyncAlarms.ts';
import {
  ARCHITECTURE,
  type AsyncInvokePolicy,
  BATCHING_WINDOW,
  bundlingFor,
  DEFAULT_BATCH_SIZE,
  DLQ_RETENTION,
  EXTRACT_ASYNC_INVOKE,
  EXTRACT_MEMORY_MB,
  EXTRACT_TIMEOUT,
  KEEP_ALIVE_ASYNC_INVOKE,
  KEEP_ALIVE_EVERY,
  MAX_MESSAGE_SIZE_BYTES,
  POSTGRES_CA_ENVIRONMENT,
  QUEUE_RETENTION,
  QUEUE_SECURITY,
  queueVisibilityTimeout,
  RUNTIME,
  SCHEDULE_TARGET_RETRY,
  VERIFY_ASYNC_INVOKE,
  WRITE_MEMORY_MB,
  WRITE_TIMEOUT,
} from './defaults.ts';
import { FUNCTION_ROLE_TAG, restrictSenders } from './queueSenders.ts';
import { extractItemGrants, grantItems, verifyItemGrants, writeItemGrants } from './tableAccess.ts';

/** Handler entry files, absolute paths. */
export interface HandlerEntries {
  readonly extract: string;
  readonly write: string;
  readonly verify: string;
  /** The config file the bundles carry: the one the stack is synthesized from. */
  readonly config: string;
}

/** Places a function in a VPC. */
export interface FunctionNetwork {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
}

export interface SyncPipelineProps {
  /** The validated sync from `writeback.config.ts`. */
  readonly sync: SyncConfig;
  /** Bookmarks, leases and run history. */
  readonly stateTable: dynamodb.ITable;
  /** One item per (sync, source key). */
  readonly linksTable: dynamodb.ITable;
  /** Warehouse credentials (a read-only user): read by the extract and verify functions. */
  readonly dwhSecret: secretsmanager.ISecret;
  /**
   * Credentials of the warehouse user that owns only the `writeback` schema
   * (`warehouse.writerSecret`): read by the verify function only, for its exports.
   * @default - verify exports with `dwhSecret`
   */
  readonly dwhWriterSecret?: secretsmanager.ISecret;
  /** Credentials of the sync's target connection: read by the write function only. */
  readonly connectionSecret: secretsmanager.ISecret;
  /**
   * The stack's claim-check bucket: message bodies too large for SQS. Each function may touch
   * only its sync's prefix (`<sync>/`): the extract and verify functions store, the writer reads
   * and deletes.
   */
  readonly claimCheckBucket: s3.IBucket;
  /** Handler entry files. */
  readonly entries: HandlerEntries;
  /** Schedule group the sync's schedule belongs to. */
  readonly scheduleGroup: scheduler.IScheduleGroup;
  /** Run the extract function in the warehouse's VPC. @default - no VPC */
  readonly extractNetwork?: FunctionNetwork;
  /** Run the write function in a VPC (target database inside it). @default - no VPC */
  readonly writeNetwork?: FunctionNetwork;
  /**
   * The target is a database (its connector's `reach`, Postgres): the write function loads the RDS
   * certificate authorities to verify it (POSTGRES_CA_ENVIRONMENT). @default false
   */
  readonly targetIsDatabase?: boolean;
  /**
   * The connection may live on rotating OAuth tokens (its connector's `refreshesTokens`): the write
   * function writes refreshed tokens back to the connection secret and takes the connection's
   * refresh lease in the state table. @default false
   */
  readonly refreshesTokens?: boolean;
  /**
   * This sync's write function keeps its connection alive (a connection on rotating OAuth tokens;
   * the stack picks one sync per connection): a weekly schedule, see keepConnectionAlive. @default false
   */
  readonly keepsConnectionAlive?: boolean;
  /** Write function timeout; the queue's visibility timeout follows from it. @default 60 seconds */
  readonly writeTimeout?: Duration;
  /** Extract function timeout. @default 5 minutes */
  readonly extractTimeout?: Duration;
  /** Alarm when the oldest queued record has waited longer than this. @default 1 hour */
  readonly maxMessageAge?: Duration;
  /**
   * Run this sync right after another one (its parent with the same schedule) instead of on a
   * schedule of its own: parents before children in one tick. @default - its own schedule
   */
  readonly runAfter?: SyncPipeline;
  /** Retention of the functions' log groups. @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** What happens to the log groups when the stack is deleted. @default RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** What happens to the dead-letter queues (and the dead letters in them) when the stack is deleted. @default RETAIN */
  readonly dataRemovalPolicy?: RemovalPolicy;
}

/**
 * Everything one sync runs on: schedule → extract function → queue (+ DLQ) → write function,
 * least-privilege roles, log groups and alarms. One per sync in the config.
 */
export class SyncPipeline extends Construct {
  public readonly sync: SyncConfig;
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  /** Receives schedule invocations that Scheduler could not deliver to the extract function. */
  public readonly scheduleDeadLetterQueue: sqs.Queue;
  public readonly extractFunction: NodejsFunction;
  public readonly writeFunction: NodejsFunction;
  /** The schedule that starts this sync: its own, or its parent's when it runs after it. */
  public readonly schedule: scheduler.Schedule;
  private readonly childExtracts: string[] = [];
  /** Compares the source with the target's copy on `sync.verify.schedule`; only when `verify` is configured. */
  public readonly verifyFunction: NodejsFunction | undefined;
  /**
   * DLQ not empty, records failed (partial runs), oldest message age, extract errors (failed runs
   * too), schedule failures and, for an enabled sync, a missed schedule (createSyncAlarms).
   */
  public readonly alarms: cloudwatch.Alarm[];

  public constructor(scope: Construct, id: string, props: SyncPipelineProps) {
    super(scope, id);
    checkSyncPipelineProps(props);
    const { sync } = props;
    this.sync = sync;
    const writeTimeout = props.writeTimeout ?? WRITE_TIMEOUT;
    const batchSize = sync.batchSize ?? DEFAULT_BATCH_SIZE;
    // SQS event sources need a batching window for batches above 10.
    const batchingWindow = batchSize > 10 ? BATCHING_WINDOW : undefined;

    // Dead letters are data: kept on `cdk destroy` like the tables unless retainData is off.
    const dataRemovalPolicy = props.dataRemovalPolicy ?? RemovalPolicy.RETAIN;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...QUEUE_SECURITY,
      retentionPeriod: DLQ_RETENTION,
      maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
      removalPolicy: dataRemovalPolicy,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...QUEUE_SECURITY,
      // The claim-check objects' expiry (CLAIM_CHECK_EXPIRY) is derived from both retentions.
      retentionPeriod: QUEUE_RETENTION,
      maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
      visibilityTimeout: queueVisibilityTimeout(writeTimeout, batchingWindow),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: sync.maxReceiveCount },
    });
    this.scheduleDeadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetterQueue', {
      ...QUEUE_SECURITY,
      retentionPeriod: DLQ_RETENTION,
      removalPolicy: dataRemovalPolicy,
    });
    Validations.of(this.scheduleDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "This queue is a dead-letter queue itself: of the sync's Scheduler targets (Schedule Target.DeadLetterConfig) and the on-failure destination of its functions' asynchronous invocations, which cdk-nag does not recognise as DLQs.",
    });

    const common = {
      stateTable: props.stateTable,
      linksTable: props.linksTable,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      logRemovalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    };
    const tables = { state: props.stateTable, links: props.linksTable };

    this.extractFunction = this.createFunction('Extract', {
      ...common,
      entry: props.entries.extract,
      configFile: props.entries.config,
      description: `Writeback ${sync.name}: reads changed rows from the warehouse and enqueues them`,
      timeout: props.extractTimeout ?? EXTRACT_TIMEOUT,
      memorySize: EXTRACT_MEMORY_MB,
      network: props.extractNetwork,
      recursiveLoop: lambda.RecursiveLoop.ALLOW,
      environment: {
        [ENV.queueUrl]: this.queue.queueUrl,
        [ENV.claimCheckBucket]: props.claimCheckBucket.bucketName,
        [ENV.dwhSecretArn]: props.dwhSecret.secretArn,
        // From the config as written: a deploy that changes the mapping makes the next run re-read.
        [ENV.mappingFingerprint]: mappingFingerprint(sync),
        ...POSTGRES_CA_ENVIRONMENT,
      },
    });
    // A run that stops on its time budget with rows left invokes this function again at once
    // (shared/runtime: continueBacklog). Lambda's recursive loop detection counts Invoke API chains,
    // so it is allowed here; the handler only continues after a run that moved the bookmark, and
    // the lease keeps runs of one sync from overlapping. A resource-based permission for the
    // function's own role avoids the role → function → role dependency cycle of an identity grant.
    this.extractFunction.addPermission('ContinueBacklog', {
      principal: new iam.ArnPrincipal(this.extractFunction.role!.roleArn),
      action: 'lambda:InvokeFunction',
    });
    // Scheduler, a continuation and a parent all invoke it asynchronously: a chosen retry policy
    // and a failure destination instead of Lambda's defaults (two retries, six hours, nowhere).
    this.configureAsyncInvoke(this.extractFunction, EXTRACT_ASYNC_INVOKE);
    // Rows that `map` rejects travel through the queue too, marked invalid; the writer dead-letters them.
    grantSend(this.extractFunction, this.queue);
    this.grantClaimChecks(props.claimCheckBucket, this.extractFunction, 'store');
    grantItems(this.extractFunction.role!, tables, extractItemGrants(sync));
    grantSecretValue(this.extractFunction, props.dwhSecret);

    this.writeFunction = this.createFunction('Write', {
      ...common,
      entry: props.entries.write,
      configFile: props.entries.config,
      description: `Writeback ${sync.name}: upserts queued records into ${sync.target.connection} ${sync.target.object}`,
      timeout: writeTimeout,
      memorySize: WRITE_MEMORY_MB,
      network: props.writeNetwork,
      environment: {
        // The writer delays a retryable record with ChangeMessageVisibility on its own queue.
        [ENV.queueUrl]: this.queue.queueUrl,
        // Permanent failures go straight to the DLQ with the reason as message attributes.
        [ENV.dlqUrl]: this.deadLetterQueue.queueUrl,
        [ENV.connectionSecretArn]: props.connectionSecret.secretArn,
        // Reads (and, once settled, deletes) the bodies of claim-checked messages.
        [ENV.claimCheckBucket]: props.claimCheckBucket.bucketName,
        ...(props.targetIsDatabase ? POSTGRES_CA_ENVIRONMENT : {}),
      },
    });
    // The mapping SqsEventSource would create (same id), with only the calls it and the handler make
    // on the queue: receive, delete, read its attributes, and change visibility (the writer's
    // backoff). It never sends to it, and needs no GetQueueUrl.
    this.writeFunction.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(this.queue.node)}`, {
      eventSourceArn: this.queue.queueArn,
      batchSize,
      ...(batchingWindow ? { maxBatchingWindow: batchingWindow } : {}),
      reportBatchItemFailures: true,
      maxConcurrency: sync.concurrency,
    });
    this.writeFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:ChangeMessageVisibility',
        ],
        resources: [this.queue.queueArn],
      }),
    );
    grantSend(this.writeFunction, this.deadLetterQueue);
    this.grantClaimChecks(props.claimCheckBucket, this.writeFunction, 'read');
    // Its links (its parent's, read only), its health buckets and its connection's pacing item, all
    // in the links table; in the state table at most its connection's OAuth refresh lease.
    const refreshesTokens = props.refreshesTokens === true;
    grantItems(this.writeFunction.role!, tables, writeItemGrants(sync, { refreshesTokens }));
    grantSecretValue(this.writeFunction, props.connectionSecret);
    if (refreshesTokens) {
      // Rotated OAuth tokens are written back to the secret before use (SecretsManagerTokenStore: a
      // new version, then AWSCURRENT moved to it from the version read).
      this.writeFunction.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
          resources: [props.connectionSecret.secretFullArn ?? `${props.connectionSecret.secretArn}-??????`],
        }),
      );
    }

    // A child that runs after its parent and does not verify has no schedule of its own: no role
    // for Scheduler to assume (the rehearsal's IAM check listed it as a role nothing used).
    const schedulerRole =
      props.runAfter && !sync.verify
        ? undefined
        : this.schedulerRole(
            'ScheduleRole',
            `EventBridge Scheduler invokes the ${sync.name} extract function`,
          );
    this.schedule = props.runAfter
      ? props.runAfter.chain(this.extractFunction)
      : this.createSchedule(sync, schedulerRole!, props.scheduleGroup);
    this.verifyFunction = sync.verify ? this.createVerify(props, common, schedulerRole!) : undefined;

    // Of Writeback's functions, only the sync's extract (and verify, for a repair) may send to its
    // queue, only its writer to its DLQ, and only the failed invocations of its extract and verify
    // reach its schedule DLQ (Scheduler is no Writeback function), whatever their identity policies.
    const verifyRoles = this.verifyFunction ? [this.verifyFunction.role!] : [];
    restrictSenders(this.queue, [this.extractFunction.role!, ...verifyRoles]);
    restrictSenders(this.deadLetterQueue, [this.writeFunction.role!]);
    // A writer that keeps its connection alive reports a failed keep-alive there too.
    if (props.keepsConnectionAlive) this.keepConnectionAlive(props.scheduleGroup);
    const keepAliveRoles = props.keepsConnectionAlive ? [this.writeFunction.role!] : [];
    restrictSenders(this.scheduleDeadLetterQueue, [
      this.extractFunction.role!,
      ...verifyRoles,
      ...keepAliveRoles,
    ]);

    this.alarms = createSyncAlarms(
      this,
      {
        syncName: sync.name,
        // A disabled sync's schedule never fires: no missed-schedule alarm. A child that runs after
        // its parent shares the parent's schedule expression.
        ...(sync.enabled ? { schedule: sync.schedule } : {}),
        queue: this.queue,
        deadLetterQueue: this.deadLetterQueue,
        scheduleDeadLetterQueue: this.scheduleDeadLetterQueue,
        extractFunction: this.extractFunction,
      },
      { maxMessageAge: props.maxMessageAge ?? Duration.hours(1) },
    );
  }

  /** The sync's own schedule: EventBridge Scheduler invokes the extract function with `{"sync": name}`. */
  private createSchedule(
    sync: SyncConfig,
    schedulerRole: iam.Role,
    scheduleGroup: scheduler.IScheduleGroup,
  ): scheduler.Schedule {
    const schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `Writeback ${sync.name}: ${sync.schedule}`,
      schedule: scheduler.ScheduleExpression.expression(
        sync.schedule,
        sync.timezone ? TimeZone.of(sync.timezone) : undefined,
      ),
      ...(sync.flexibleWindow
        ? { timeWindow: scheduler.TimeWindow.flexible(Duration.seconds(sync.flexibleWindow)) }
        : {}),
      scheduleGroup,
      enabled: sync.enabled,
      target: new targets.LambdaInvoke(this.extractFunction, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject({ sync: sync.name }),
        deadLetterQueue: this.scheduleDeadLetterQueue,
        ...SCHEDULE_TARGET_RETRY,
      }),
    });
    Validations.of(schedulerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.logicalIdOf(this.extractFunction)}.Arn>:*]`,
      reason:
        'Added by aws-scheduler-targets LambdaInvoke: invoke permission on the extract function and its versions/aliases; no other function.',
    });
    return schedule;
  }

  /**
   * Keeps this sync's connection alive (a connector with `refreshesTokens`): EventBridge Scheduler
   * invokes the write function weekly with `{"keepAlive": {"sync", "connection"}}`, so that rotating
   * OAuth tokens are renewed while nothing is written (a Xero refresh token expires after 60 days
   * unused; shared/write/keepConnectionAlive.ts). Enabled even while the sync is disabled: the
   * connection outlives a pause. One schedule per connection: the stack asks its first sync. A
   * keep-alive that fails after its retries (the vendor's token endpoint down) lands in the
   * schedule DLQ, whose alarm fires; a refused one opens the sync's auth outage instead.
   */
  private keepConnectionAlive(scheduleGroup: scheduler.IScheduleGroup): void {
    const { sync } = this;
    const role = this.schedulerRole(
      'KeepAliveScheduleRole',
      `EventBridge Scheduler invokes the ${sync.name} write function to keep connection ${sync.target.connection} alive`,
    );
    new scheduler.Schedule(this, 'KeepAliveSchedule', {
      description: `Writeback connection ${sync.target.connection}: renew its tokens while nothing is written`,
      schedule: scheduler.ScheduleExpression.rate(KEEP_ALIVE_EVERY),
      scheduleGroup,
      target: new targets.LambdaInvoke(this.writeFunction, {
        role,
        input: scheduler.ScheduleTargetInput.fromObject({
          keepAlive: { sync: sync.name, connection: sync.target.connection },
        }),
        deadLetterQueue: this.scheduleDeadLetterQueue,
        ...SCHEDULE_TARGET_RETRY,
      }),
    });
    this.configureAsyncInvoke(this.writeFunction, KEEP_ALIVE_ASYNC_INVOKE);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.logicalIdOf(this.writeFunction)}.Arn>:*]`,
      reason:
        'Added by aws-scheduler-targets LambdaInvoke: invoke permission on the write function and its versions/aliases; no other function.',
    });
  }

  /**
   * Makes a child sync's extract run right after this one's (same schedule): this extract function
   * invokes it when done (WB_THEN_INVOKE), allowed by a resource-based permission for this role.
   */
  public chain(child: lambda.IFunction): scheduler.Schedule {
    child.addPermission(`RunAfter${this.node.id}`, {
      principal: new iam.ArnPrincipal(this.extractFunction.role!.roleArn),
      action: 'lambda:InvokeFunction',
    });
    if (this.childExtracts.length === 0) {
      this.extractFunction.addEnvironment(
        ENV.thenInvoke,
        Lazy.string({ produce: () => JSON.stringify(this.childExtracts) }),
      );
    }
    this.childExtracts.push(child.functionName);
    return this.schedule;
  }

  /**
   * The verify function: reads the warehouse (source and the target's copy), scans this sync's
   * links, and keeps its report in the state table; its metrics feed the stack's verify alarm
   * (createVerifyFindingsAlarm) and the dashboard. Asked
   * to repair, it sends the missing and drifted records to the sync's queue.
   */
  private createVerify(
    props: SyncPipelineProps,
    common: {
      stateTable: dynamodb.ITable;
      linksTable: dynamodb.ITable;
      logRetention: logs.RetentionDays;
      logRemovalPolicy: RemovalPolicy;
    },
    schedulerRole: iam.Role,
  ): NodejsFunction {
    const sync = props.sync;
    const verify = sync.verify!;
    const readsTarget = verifyReadsTarget(sync);
    const fn = this.createFunction('Verify', {
      ...common,
      entry: props.entries.verify,
      configFile: props.entries.config,
      description: `Writeback ${sync.name}: compares the source with the target's copy`,
      timeout: Duration.minutes(15),
      memorySize: EXTRACT_MEMORY_MB,
      network: props.extractNetwork,
      environment: {
        [ENV.dwhSecretArn]: props.dwhSecret.secretArn,
        // The exports into the `writeback` schema go through the user that owns it.
        ...(props.dwhWriterSecret ? { [ENV.dwhWriterSecretArn]: props.dwhWriterSecret.secretArn } : {}),
        // `{"repair": true}` (writeback verify --repair) re-enqueues missing and drifted records here.
        [ENV.queueUrl]: this.queue.queueUrl,
        [ENV.claimCheckBucket]: props.claimCheckBucket.bucketName,
        // Without a warehouse copy of the target (or of its associations), the target API is read.
        ...(readsTarget ? { [ENV.connectionSecretArn]: props.connectionSecret.secretArn } : {}),
        ...POSTGRES_CA_ENVIRONMENT,
      },
    });
    this.configureAsyncInvoke(fn, VERIFY_ASYNC_INVOKE);
    grantSecretValue(fn, props.dwhSecret);
    if (props.dwhWriterSecret) grantSecretValue(fn, props.dwhWriterSecret);
    grantSend(fn, this.queue);
    this.grantClaimChecks(props.claimCheckBucket, fn, 'store');
    if (readsTarget) grantSecretValue(fn, props.connectionSecret);
    // Its state item and history; a Scan of the links table (a verification reads every link of its
    // sync once, instead of an index written on every update), which no leading key can limit: the
    // verify function can read, not change, other syncs' links. A child's reads its parent's links.
    grantItems(fn.role!, { state: props.stateTable, links: props.linksTable }, verifyItemGrants(sync));
    new scheduler.Schedule(this, 'VerifySchedule', {
      description: `Writeback ${sync.name} verify: ${verify.schedule}`,
      schedule: scheduler.ScheduleExpression.expression(verify.schedule),
      scheduleGroup: props.scheduleGroup,
      enabled: sync.enabled,
      target: new targets.LambdaInvoke(fn, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject({ sync: sync.name }),
        deadLetterQueue: this.scheduleDeadLetterQueue,
        ...SCHEDULE_TARGET_RETRY,
      }),
    });
    Validations.of(schedulerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.logicalIdOf(fn)}.Arn>:*]`,
      reason:
        'Added by aws-scheduler-targets LambdaInvoke: invoke permission on the verify function and its versions/aliases.',
    });
    return fn;
  }

  private createFunction(
    id: 'Extract' | 'Write' | 'Verify',
    opts: {
      entry: string;
      /** The config file bundled with the handler. */
      configFile: string;
      description: string;
      timeout: Duration;
      memorySize: number;
      network: FunctionNetwork | undefined;
      environment: Record<string, string>;
      stateTable: dynamodb.ITable;
      linksTable: dynamodb.ITable;
      logRetention: logs.RetentionDays;
      logRemovalPolicy: RemovalPolicy;
      recursiveLoop?: lambda.RecursiveLoop;
    },
  ): NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${id}LogGroup`, {
      retention: opts.logRetention,
      removalPolicy: opts.logRemovalPolicy,
    });
    // Our own role instead of the default one: the default attaches AWSLambdaBasicExecutionRole
    // (logs:* on every log group) and, in a VPC, AWSLambdaVPCAccessExecutionRole.
    const role = new iam.Role(this, `${id}Role`, {
      description: `Writeback ${this.sync.name} ${id.toLowerCase()} function`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    // What the queue policies tell Writeback's functions apart by (restrictSenders).
    Tags.of(role).add(FUNCTION_ROLE_TAG, id.toLowerCase());
    logGroup.grantWrite(role);
    if (opts.network) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'VpcNetworkInterfaces',
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions' +
        (opts.network
          ? '; in a VPC, Lambda manages the function’s network interfaces and these EC2 actions support none either (same statement as AWSLambdaVPCAccessExecutionRole).'
          : '.'),
    });

    const fn = new NodejsFunction(this, `${id}Function`, {
      entry: opts.entry,
      handler: 'handler',
      description: opts.description,
      runtime: RUNTIME,
      architecture: ARCHITECTURE,
      memorySize: opts.memorySize,
      timeout: opts.timeout,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
      bundling: bundlingFor(opts.configFile),
      // Powertools Tracer records each invocation and its AWS calls in X-Ray.
      tracing: lambda.Tracing.ACTIVE,
      ...(opts.recursiveLoop ? { recursiveLoop: opts.recursiveLoop } : {}),
      environment: {
        [ENV.sync]: this.sync.name,
        [ENV.stateTable]: opts.stateTable.tableName,
        [ENV.linksTable]: opts.linksTable.tableName,
        // Its Postgres connections' statement and lock timeouts are set below it.
        [ENV.functionTimeoutMs]: String(opts.timeout.toMilliseconds()),
        ...opts.environment,
        // Read by Node and Powertools, not by our code: stack traces point into the TypeScript
        // sources, and every log line names the service.
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'writeback',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
      ...(opts.network
        ? {
            vpc: opts.network.vpc,
            vpcSubnets: opts.network.subnets,
            securityGroups: [opts.network.securityGroup],
          }
        : {}),
    });
    return fn;
  }

  /**
   * Claim checks under this sync's prefix only: `store` puts objects (extract, verify's repair),
   * `read` gets and deletes them (write). ListBucket, limited to the prefix, makes S3 answer a
   * missing object with 404 (NoSuchKey) instead of 403, so the writer can tell "gone" from "denied".
   */
  private grantClaimChecks(bucket: s3.IBucket, fn: lambda.IFunction, access: 'store' | 'read'): void {
    const prefix = `${this.sync.name}/`;
    const objects = bucket.arnForObjects(`${prefix}*`);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: access === 'store' ? ['s3:PutObject'] : ['s3:GetObject', 's3:DeleteObject'],
        resources: [objects],
      }),
    );
    if (access === 'read') {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': `${prefix}*` } },
        }),
      );
    }
    Validations.of(fn.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.logicalIdOf(bucket)}.Arn>/${prefix}*]`,
      reason: `Claim-check objects of the ${this.sync.name} sync only: their keys are random (one per message too large for SQS), under the sync's own prefix.`,
    });
  }

  /**
   * The retry policy and failure destination of a function's asynchronous invocations (Scheduler,
   * a continuation, a parent starting its child): what failed for good, or waited too long to be
   * worth running, lands in the sync's schedule DLQ with the request and the error, and
   * ScheduleFailuresAlarm goes off.
   */
  private configureAsyncInvoke(fn: lambda.Function, policy: AsyncInvokePolicy): void {
    fn.configureAsyncInvoke({
      retryAttempts: policy.retryAttempts,
      maxEventAge: policy.maxEventAge,
      onFailure: new QueueDestination(this.scheduleDeadLetterQueue),
    });
  }

  /** A role for EventBridge Scheduler to invoke a function with (its target grants the invoke). */
  private schedulerRole(id: string, description: string): iam.Role {
    return new iam.Role(this, id, {
      description,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        // Confused-deputy protection: only schedules in this account may assume the role.
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
  }

  /** Logical id of a construct's resource, as cdk-nag spells it in finding ids (`<LogicalId.Arn>`). */
  private logicalIdOf(construct: Construct): string {
    const resource = construct.node.defaultChild;
    if (!(resource instanceof CfnElement))
      throw new Error(`${construct.node.path} has no CloudFormation resource`);
    return Stack.of(this).getLogicalId(resource);
  }
}

/** SendMessage (SendMessageBatch too) on one queue: no GetQueueUrl or GetQueueAttributes, which nothing calls. */
function grantSend(fn: lambda.IFunction, queue: sqs.IQueue): void {
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
}

/**
 * GetSecretValue on one secret, the only Secrets Manager call the functions make (Secret.grantRead
 * adds DescribeSecret). A secret given by name or partial ARN is matched with Secrets Manager's six
 * random characters (`-??????`), as grantRead does.
 */
function grantSecretValue(fn: lambda.IFunction, secret: secretsmanager.ISecret): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [secret.secretFullArn ?? `${secret.secretArn}-??????`],
    }),
  );
}

/**
 * An SQS queue as the on-failure destination of asynchronous invocations, granting the function
 * only sqs:SendMessage on it (lambda-destinations' SqsDestination grants GetQueueUrl and
 * GetQueueAttributes too, which Lambda does not call).
 */
class QueueDestination implements lambda.IDestination {
  private readonly queue: sqs.IQueue;

  public constructor(queue: sqs.IQueue) {
    this.queue = queue;
  }

  public bind(_scope: Construct, fn: lambda.IFunction): lambda.DestinationConfig {
    grantSend(fn, this.queue);
    return { destination: this.queue.queueArn };
  }
}

/** Checks what the schema cannot know about AWS limits; names every problem at once. */
function checkSyncPipelineProps(props: SyncPipelineProps): void {
  const at = `syncs[${props.sync.name}]`;
  const errors: string[] = [];
  const writeTimeout = props.writeTimeout ?? WRITE_TIMEOUT;
  const extractTimeout = props.extractTimeout ?? EXTRACT_TIMEOUT;
  if (writeTimeout.toSeconds() > 900)
    errors.push(`${at}: write timeout ${writeTimeout.toSeconds()}s exceeds 900s`);
  if (extractTimeout.toSeconds() > 900) {
    errors.push(`${at}: extract timeout ${extractTimeout.toSeconds()}s exceeds 900s`);
  }
  const batchSize = props.sync.batchSize ?? DEFAULT_BATCH_SIZE;
  if (batchSize > 10_000) errors.push(`${at}.batchSize: SQS event sources take at most 10000 records`);
  if (errors.length > 0) throw new ConfigValidationError(errors);
}

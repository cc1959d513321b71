import { fileURLToPath } from 'node:url';
import {
  Annotations,
  CfnOutput,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { SyncConfig, WritebackConfig } from '../shared/config/schema.ts';
import { orderSyncs } from '../shared/config/syncGraph.ts';
import { connectorDefinition } from '../shared/connectors/registry.ts';
import { pascalCase, STACK_OUTPUTS, syncOutputNames } from '../shared/contracts/outputNames.ts';
import { ConfigValidationError } from '../shared/errors.ts';
import { LINKS_TABLE, STATE_TABLE } from '../shared/state/tableDefinitions.ts';
import { applyAlarmAction } from './alarmActions.ts';
import { createVerifyFindingsAlarm } from './createSyncAlarms.ts';
import { DwhNetwork, type DwhNetworkProps } from './DwhNetwork.ts';
import { CLAIM_CHECK_BUCKET, TABLE_DEFAULTS } from './defaults.ts';
import { importSecret } from './importSecret.ts';
import { type HandlerEntries, SyncPipeline } from './SyncPipeline.ts';
import { syncDashboardRow } from './syncDashboardRow.ts';
import { TrialDatabase } from './TrialDatabase.ts';

/** The handlers in functions/, resolved from this file so the app runs from any directory. */
/** The id of synth's warning that verification exports with the warehouse reader's credentials. */
export const VERIFY_WRITES_WITH_READER_WARNING = 'writeback:verifyWritesWithReader';

export const DEFAULT_ENTRIES: HandlerEntries = {
  extract: fileURLToPath(new URL('../functions/extract.ts', import.meta.url)),
  write: fileURLToPath(new URL('../functions/write.ts', import.meta.url)),
  verify: fileURLToPath(new URL('../functions/verify.ts', import.meta.url)),
  config: fileURLToPath(new URL('../writeback.config.ts', import.meta.url)),
};

export interface WritebackStackProps extends StackProps {
  /** The validated `writeback.config.ts`: one pipeline per sync. */
  readonly config: WritebackConfig;
  /** Existing SNS topic every alarm notifies. @default - see alarmEmail */
  readonly alarmTopicArn?: string;
  /**
   * Create an encrypted SNS topic with this e-mail subscription for the alarms.
   * @default - alarms without actions, and a warning at synth
   */
  readonly alarmEmail?: string;
  /** Run the extract functions in the warehouse's VPC. @default - no VPC: the warehouse must be reachable over the internet */
  readonly dwhNetwork?: DwhNetworkProps;
  /**
   * Create a small warehouse for a trial (TrialDatabase: a VPC, an RDS for PostgreSQL instance and
   * its secret) and use it instead of `warehouse.secret` and `dwhNetwork`. @default false
   */
  readonly trialDatabase?: boolean;
  /** Connections whose write functions also run in the warehouse's VPC (a target database inside it). @default none */
  readonly vpcConnections?: readonly string[];
  /**
   * Keep the tables (deletion protection, RETAIN), the dead-letter queues and the log groups when the
   * stack is deleted.
   * Turn off only for a throwaway trial stack.
   * @default true
   */
  readonly retainData?: boolean;
  /** Retention of the functions' log groups. @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** Handler entry files and the config they carry. @default functions/*.ts and writeback.config.ts */
  readonly entries?: HandlerEntries;
}

/**
 * Writeback on AWS: the state and links tables, one SyncPipeline per sync, alarms, one
 * dashboard, and the outputs the operator CLI reads (names in outputNames.ts).
 */
export class WritebackStack extends Stack {
  public readonly stateTable: dynamodb.Table;
  public readonly linksTable: dynamodb.Table;
  /** Message bodies too large for SQS (claim checks), one prefix per sync; objects expire. */
  public readonly claimCheckBucket: s3.Bucket;
  public readonly pipelines: SyncPipeline[] = [];
  public readonly alarmTopic: sns.ITopic | undefined;
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly network: DwhNetwork | undefined;
  public readonly trialDatabase: TrialDatabase | undefined;

  public constructor(scope: Construct, id: string, props: WritebackStackProps) {
    super(scope, id, props);
    checkWritebackStackProps(props);
    const { config } = props;
    const retain = props.retainData ?? true;
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.stateTable = new dynamodb.Table(this, 'StateTable', {
      ...TABLE_DEFAULTS,
      partitionKey: { name: STATE_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: STATE_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: STATE_TABLE.ttlAttribute,
      deletionProtection: retain,
      removalPolicy,
    });
    this.linksTable = new dynamodb.Table(this, 'LinksTable', {
      ...TABLE_DEFAULTS,
      partitionKey: { name: LINKS_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: LINKS_TABLE.ttlAttribute,
      deletionProtection: retain,
      removalPolicy,
    });
    this.linksTable.addGlobalSecondaryIndex({
      indexName: LINKS_TABLE.attentionIndex.name,
      partitionKey: { name: LINKS_TABLE.attentionIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      // ISO-8601 text: sorts chronologically.
      sortKey: { name: LINKS_TABLE.attentionIndex.sortKey, type: dynamodb.AttributeType.STRING },
      // Sparse (only links that are not `ok`), and ops want the whole item: status, lastError.
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.linksTable.addGlobalSecondaryIndex({
      indexName: LINKS_TABLE.targetIndex.name,
      partitionKey: { name: LINKS_TABLE.targetIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      // Only skey, as the local runtime (local/provisionLocal.ts) creates it: an update of a link
      // (claim, commit of new content) leaves the entry alone and writes no index unit.
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: [...LINKS_TABLE.targetIndex.projectedAttributes],
    });

    this.claimCheckBucket = new s3.Bucket(this, 'ClaimCheckBucket', {
      ...CLAIM_CHECK_BUCKET,
      // Objects expire by themselves; an empty bucket is what a stack deletion removes.
      removalPolicy,
    });
    Validations.of(this.claimCheckBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Transient claim checks only (a message body too large for SQS: written once by an extract, read once and deleted by its writer, expired by lifecycle); the queue and function logs record every message, server access logs would add a second bucket to audit nothing new.',
    });

    this.alarmTopic = this.createAlarmTopic(props);
    // Every alarm of the stack notifies the topic (or synth warns that none does).
    applyAlarmAction(this, this.alarmTopic ? new cloudwatchActions.SnsAction(this.alarmTopic) : undefined);

    if (props.trialDatabase) {
      this.trialDatabase = new TrialDatabase(this, 'TrialDatabase', {
        removalPolicy,
        ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      });
    }
    const dwhNetwork = this.trialDatabase?.networkProps ?? props.dwhNetwork;
    if (dwhNetwork) this.network = new DwhNetwork(this, 'DwhNetwork', dwhNetwork);
    const vpcConnections = new Set(props.vpcConnections ?? []);

    const scheduleGroup = new scheduler.ScheduleGroup(this, 'ScheduleGroup', {
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const dwhSecret = this.trialDatabase?.secret ?? importSecret(this, 'DwhSecret', config.warehouse.secret!);
    const dwhWriterSecret = this.dwhWriterSecret(config);
    const connectionSecrets = new Map<string, secretsmanager.ISecret>();

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${this.stackName}-${this.region}`,
      defaultInterval: Duration.hours(24),
    });

    const byName = new Map<string, SyncPipeline>();
    const order = orderSyncs(config.syncs).order;
    const keepsAlive = keepAliveSyncs(config, order);
    // Parents first: a child that runs after its parent needs the parent's pipeline to exist.
    for (const sync of order) {
      const connection = sync.target.connection;
      let connectionSecret = connectionSecrets.get(connection);
      if (!connectionSecret) {
        const secretName = config.connections[connection]!.secret!;
        connectionSecret = importSecret(this, `${pascalCase(connection)}ConnectionSecret`, secretName);
        connectionSecrets.set(connection, connectionSecret);
      }
      // A child sharing its enabled parent's schedule runs right after it, in the same tick.
      const parent = sync.parent ? byName.get(sync.parent.sync) : undefined;
      const runAfter =
        parent && parent.sync.schedule === sync.schedule && parent.sync.enabled && sync.enabled
          ? parent
          : undefined;
      const pipeline = new SyncPipeline(this, `Sync${pascalCase(sync.name)}`, {
        sync,
        ...(runAfter ? { runAfter } : {}),
        stateTable: this.stateTable,
        linksTable: this.linksTable,
        dwhSecret,
        ...(dwhWriterSecret ? { dwhWriterSecret } : {}),
        connectionSecret,
        // A database target (Postgres) is reached with TLS verified against the runtime's CA bundle.
        targetIsDatabase: connectorDefinition(config.connections[connection]!.type)?.reach === 'database',
        // OAuth 2.0 connections: refreshed tokens go back to the secret, under the connection's lease.
        refreshesTokens: connectorDefinition(config.connections[connection]!.type)?.refreshesTokens === true,
        keepsConnectionAlive: keepsAlive.has(sync.name),
        claimCheckBucket: this.claimCheckBucket,
        entries: props.entries ?? DEFAULT_ENTRIES,
        scheduleGroup,
        ...(this.network
          ? {
              extractNetwork: {
                vpc: this.network.vpc,
                subnets: this.network.subnets,
                securityGroup: this.network.extractSecurityGroup,
              },
            }
          : {}),
        ...(this.network && vpcConnections.has(connection)
          ? {
              writeNetwork: {
                vpc: this.network.vpc,
                subnets: this.network.subnets,
                securityGroup: this.network.writerSecurityGroupOrCreate(),
              },
            }
          : {}),
        ...(props.logRetention ? { logRetention: props.logRetention } : {}),
        logRemovalPolicy: removalPolicy,
        dataRemovalPolicy: removalPolicy,
      });
      this.pipelines.push(pipeline);
      byName.set(sync.name, pipeline);
      this.dashboard.addWidgets(...syncDashboardRow(pipeline));

      const names = syncOutputNames(sync.name);
      const output = (name: string, value: string, description: string): void => {
        new CfnOutput(this, name, { value, description: `${sync.name}: ${description}` });
      };
      output(names.queueUrl, pipeline.queue.queueUrl, 'URL of the queue');
      output(names.dlqUrl, pipeline.deadLetterQueue.queueUrl, 'URL of the dead-letter queue');
      output(names.extractFunctionName, pipeline.extractFunction.functionName, 'extract function');
      output(names.writeFunctionName, pipeline.writeFunction.functionName, 'write function');
      output(names.scheduleName, pipeline.schedule.scheduleName, 'EventBridge Scheduler schedule');
      if (pipeline.verifyFunction)
        output(names.verifyFunctionName, pipeline.verifyFunction.functionName, 'verify function');
    }

    if (config.syncs.some((s) => s.verify)) createVerifyFindingsAlarm(this);

    new CfnOutput(this, STACK_OUTPUTS.stateTableName, {
      value: this.stateTable.tableName,
      description: 'DynamoDB table: bookmarks, leases, run history',
    });
    new CfnOutput(this, STACK_OUTPUTS.linksTableName, {
      value: this.linksTable.tableName,
      description: 'DynamoDB table: one link per (sync, source key)',
    });
    new CfnOutput(this, STACK_OUTPUTS.claimCheckBucketName, {
      value: this.claimCheckBucket.bucketName,
      description: 'S3 bucket: claim checks of message bodies too large for SQS',
    });
    new CfnOutput(this, STACK_OUTPUTS.dashboardName, {
      value: this.dashboard.dashboardName,
      description: 'CloudWatch dashboard',
    });
    new CfnOutput(this, STACK_OUTPUTS.scheduleGroupName, {
      value: scheduleGroup.scheduleGroupName,
      description: 'EventBridge Scheduler group of the sync schedules',
    });
    if (this.alarmTopic) {
      new CfnOutput(this, STACK_OUTPUTS.alarmTopicArn, {
        value: this.alarmTopic.topicArn,
        description: 'SNS topic the alarms notify',
      });
    }
    if (this.trialDatabase) this.trialDatabaseOutputs(this.trialDatabase);
  }

  /**
   * The secret of the warehouse user that owns the `writeback` schema (`warehouse.writerSecret`),
   * which the verify functions export with. Without it, when any sync verifies, `cdk synth` warns
   * that verification writes with the extract's (meant to be read-only) user.
   */
  private dwhWriterSecret(config: WritebackConfig): secretsmanager.ISecret | undefined {
    if (config.warehouse.writerSecret)
      return importSecret(this, 'DwhWriterSecret', config.warehouse.writerSecret);
    if (config.syncs.some((s) => s.verify)) {
      Annotations.of(this).addWarningV2(
        VERIFY_WRITES_WITH_READER_WARNING,
        'No warehouse.writerSecret: verification exports to the writeback schema with the credentials of warehouse.secret, so that user cannot be read-only (and a read-only one fails the export with WB_VERIFY_EXPORT_DENIED). Set warehouse.writerSecret to a user that owns only the writeback schema; see docs/deploy.md, "Secrets".',
      );
    }
    return undefined;
  }

  /** Where the trial database is and how to get in to load data (docs/deploy.md, "Trial database"). */
  private trialDatabaseOutputs(trial: TrialDatabase): void {
    const outputs: [string, string, string][] = [
      [STACK_OUTPUTS.trialDatabaseEndpoint, trial.instance.dbInstanceEndpointAddress, 'Trial database host'],
      [
        STACK_OUTPUTS.trialDatabaseSecretArn,
        trial.secret.secretArn,
        'Trial database credentials (the warehouse secret)',
      ],
      [
        STACK_OUTPUTS.trialDatabaseClientSecurityGroupId,
        trial.clientSecurityGroup.securityGroupId,
        'Security group for a client that loads data (CloudShell VPC environment, bastion)',
      ],
      [
        STACK_OUTPUTS.trialDatabaseSubnetIds,
        Fn.join(
          ',',
          trial.vpc.isolatedSubnets.map((s) => s.subnetId),
        ),
        'Subnets of the trial VPC (isolated: no internet)',
      ],
    ];
    for (const [name, value, description] of outputs) new CfnOutput(this, name, { value, description });
  }

  /**
   * The topic alarms notify: an existing one by ARN, or a new one for an e-mail address. A new
   * topic is encrypted with its own KMS key, because CloudWatch cannot publish to a topic that
   * uses the AWS-managed aws/sns key (its key policy cannot be changed to admit CloudWatch).
   */
  private createAlarmTopic(props: WritebackStackProps): sns.ITopic | undefined {
    if (props.alarmTopicArn) return sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn);
    if (!props.alarmEmail) return undefined;
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Writeback alarm topic encryption',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    const topic = new sns.Topic(this, 'AlarmTopic', { masterKey: key, enforceSSL: true });
    topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    return topic;
  }
}

/**
 * What a deployed stack needs beyond a valid config: every secret it reads exists by name, and
 * sync names stay distinct as output names. All problems are reported at once.
 */
function checkWritebackStackProps(props: WritebackStackProps): void {
  const { config } = props;
  const errors: string[] = [];
  if (!config.warehouse.secret && !props.trialDatabase) {
    errors.push(
      'warehouse.secret: required to deploy (the Secrets Manager secret the extract functions read the DWH connection from), unless the stack creates a trial database (context trialDatabase=true)',
    );
  }
  const used = new Set(config.syncs.map((s) => s.target.connection));
  for (const name of used) {
    const connection = config.connections[name];
    if (connection && !connection.secret) {
      errors.push(`connections.${name}.secret: required to deploy (a Secrets Manager secret name or ARN)`);
    }
  }
  const byOutputName = new Map<string, string>();
  for (const sync of config.syncs) {
    const key = pascalCase(sync.name);
    const other = byOutputName.get(key);
    if (other) errors.push(`syncs[${sync.name}].name: same output names as '${other}' (${key}…); rename one`);
    byOutputName.set(key, sync.name);
  }
  for (const name of props.vpcConnections ?? []) {
    if (!(name in config.connections)) errors.push(`context vpcConnections: unknown connection '${name}'`);
  }
  if (props.vpcConnections?.length && !props.dwhNetwork && !props.trialDatabase) {
    errors.push(
      'context vpcConnections: needs dwhVpcId and the other dwh* parameters, or trialDatabase=true',
    );
  }
  if (props.trialDatabase && props.dwhNetwork) {
    errors.push(
      'context trialDatabase: creates its own VPC and database; give it or the dwh* parameters, not both',
    );
  }
  if (props.alarmTopicArn && props.alarmEmail) {
    errors.push('context: give alarmTopicArn or alarmEmail, not both');
  }
  if (errors.length > 0) throw new ConfigValidationError(errors);
}

/**
 * The syncs whose write function keeps their connection alive: the first (in `order`) of each
 * connection on rotating OAuth tokens (its connector's `refreshesTokens`).
 */
function keepAliveSyncs(config: WritebackConfig, order: readonly SyncConfig[]): Set<string> {
  const connections = new Set<string>();
  const syncs = new Set<string>();
  for (const sync of order) {
    const connection = sync.target.connection;
    if (connections.has(connection)) continue;
    if (connectorDefinition(config.connections[connection]!.type)?.refreshesTokens !== true) continue;
    connections.add(connection);
    syncs.add(sync.name);
  }
  return syncs;
}

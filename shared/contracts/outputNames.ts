/**
 * Names of the CloudFormation outputs of a Writeback stack. The operator CLI imports these
 * instead of spelling the names itself, so the stack and the CLI cannot drift apart.
 * This file has no CDK dependency on purpose.
 */
export const STACK_OUTPUTS = {
  /** Name of the DynamoDB table holding bookmarks, leases and run history. */
  stateTableName: 'StateTableName',
  /** Name of the DynamoDB table holding the links. */
  linksTableName: 'LinksTableName',
  /** Name of the S3 bucket holding claim checks (message bodies too large for SQS). */
  claimCheckBucketName: 'ClaimCheckBucketName',
  /** Name of the CloudWatch dashboard. */
  dashboardName: 'DashboardName',
  /** Name of the EventBridge Scheduler schedule group holding every sync's schedule. */
  scheduleGroupName: 'ScheduleGroupName',
  /** ARN of the SNS topic alarms notify; only present when a topic was configured. */
  alarmTopicArn: 'AlarmTopicArn',
  /** Host name of the trial database; only with `trialDatabase=true`. */
  trialDatabaseEndpoint: 'TrialDatabaseEndpoint',
  /** ARN of the trial database's secret (the warehouse secret); only with `trialDatabase=true`. */
  trialDatabaseSecretArn: 'TrialDatabaseSecretArn',
  /** Security group that may reach the trial database, for loading data; only with `trialDatabase=true`. */
  trialDatabaseClientSecurityGroupId: 'TrialDatabaseClientSecurityGroupId',
  /** The trial VPC's subnets, comma-separated; only with `trialDatabase=true`. */
  trialDatabaseSubnetIds: 'TrialDatabaseSubnetIds',
} as const;

/** Output names of one sync's resources. */
export interface SyncOutputNames {
  /** URL of the sync's SQS queue (the extractor sends, the writer consumes). */
  readonly queueUrl: string;
  /** URL of the sync's dead-letter queue (records that could not be written). */
  readonly dlqUrl: string;
  /** Name of the extract function (invoke it with `{"sync": "<name>"}` to run now). */
  readonly extractFunctionName: string;
  /** Name of the write function. */
  readonly writeFunctionName: string;
  /** Name of the EventBridge Scheduler schedule (in the stack's schedule group). */
  readonly scheduleName: string;
  /**
   * Name of the verify function (invoke it with `{"sync": "<name>", "repair": true|false}`); only
   * present for syncs that configure `verify`.
   */
  readonly verifyFunctionName: string;
}

/**
 * Output names for a sync: its name in PascalCase as a prefix, because output names must be
 * alphanumeric. `crm-customers` → `CrmCustomersQueueUrl`.
 */
export function syncOutputNames(syncName: string): SyncOutputNames {
  const prefix = pascalCase(syncName);
  return {
    queueUrl: `${prefix}QueueUrl`,
    dlqUrl: `${prefix}DlqUrl`,
    extractFunctionName: `${prefix}ExtractFunctionName`,
    writeFunctionName: `${prefix}WriteFunctionName`,
    scheduleName: `${prefix}ScheduleName`,
    verifyFunctionName: `${prefix}VerifyFunctionName`,
  };
}

/** `crm-customers` → `CrmCustomers`. */
export function pascalCase(name: string): string {
  return name
    .split('-')
    .filter((part) => part.length > 0)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

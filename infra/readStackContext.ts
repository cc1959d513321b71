import { ConfigValidationError } from '../shared/errors.ts';
import type { DwhNetworkProps } from './DwhNetwork.ts';

/**
 * The context parameters of the CDK app (`cdk deploy -c key=value` or `context` in cdk.json):
 *
 * | key                  | default               | meaning                                                    |
 * |----------------------|-----------------------|------------------------------------------------------------|
 * | `config`             | `writeback.config.ts` | config file to deploy                                      |
 * | `stackName`          | `Writeback`           | CloudFormation stack name (one stack per environment)      |
 * | `alarmTopicArn`      | –                     | existing SNS topic for the alarms                          |
 * | `alarmEmail`         | –                     | create an encrypted topic with this e-mail subscription    |
 * | `dwhVpcId`           | –                     | run the extract functions in this VPC                      |
 * | `dwhSubnetIds`       | –                     | their private subnets (list)                               |
 * | `dwhRouteTableIds`   | –                     | the subnets' route tables (list, for the DynamoDB endpoint)|
 * | `dwhSecurityGroupId` | –                     | the warehouse's security group                             |
 * | `dwhPort`            | `5432`                | the warehouse's port                                       |
 * | `dwhVpcEndpoints`    | `true`                | create the DynamoDB, SQS and Secrets Manager endpoints     |
 * | `trialDatabase`      | `false`               | create a VPC and a small RDS Postgres as the warehouse     |
 * | `vpcConnections`     | –                     | connections whose write functions run in that VPC (list)   |
 * | `retainData`         | `true`                | keep tables and logs on `cdk destroy`                      |
 * | `logRetentionDays`   | `30`                  | log group retention                                        |
 *
 * Lists are JSON arrays in cdk.json, or comma-separated on the command line.
 */
export interface StackContext {
  readonly configPath: string;
  readonly stackName: string;
  readonly alarmTopicArn?: string;
  readonly alarmEmail?: string;
  readonly dwhNetwork?: DwhNetworkProps;
  /** Create a trial warehouse (TrialDatabase) instead of using `warehouse.secret` and `dwh*`. */
  readonly trialDatabase: boolean;
  readonly vpcConnections?: readonly string[];
  readonly retainData: boolean;
  readonly logRetentionDays: number;
}

const ID_PATTERNS = {
  dwhVpcId: /^vpc-[0-9a-f]{8,17}$/,
  dwhSubnetIds: /^subnet-[0-9a-f]{8,17}$/,
  dwhRouteTableIds: /^rtb-[0-9a-f]{8,17}$/,
  dwhSecurityGroupId: /^sg-[0-9a-f]{8,17}$/,
} as const;

/** Retention periods CloudWatch Logs accepts, in days. */
const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Reads and checks the context; every problem is reported at once, as `context <key>: reason`. */
export function readStackContext(tryGetContext: (key: string) => unknown): StackContext {
  const errors: string[] = [];
  const str = (key: string): string | undefined => {
    const value = tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') {
      errors.push(`context ${key}: expected a string, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  };
  const list = (key: string): string[] | undefined => {
    const value = tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
    if (typeof value === 'string') {
      const text = value.trim();
      if (text.startsWith('[')) {
        try {
          const parsed: unknown = JSON.parse(text);
          if (Array.isArray(parsed) && parsed.every((v) => typeof v === 'string')) return parsed;
        } catch {
          // reported below
        }
      } else {
        return text
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
      }
    }
    errors.push(`context ${key}: expected a list of strings (JSON array or comma-separated)`);
    return undefined;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const value = tryGetContext(key);
    if (value === undefined || value === null || value === '') return fallback;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    errors.push(`context ${key}: expected true or false, got ${JSON.stringify(value)}`);
    return fallback;
  };
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const value = tryGetContext(key);
    if (value === undefined || value === null || value === '') return fallback;
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      errors.push(`context ${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return n;
  };
  const ids = (key: keyof typeof ID_PATTERNS, values: readonly string[] | undefined): void => {
    for (const v of values ?? []) {
      if (!ID_PATTERNS[key].test(v))
        errors.push(`context ${key}: '${v}' does not look like ${ID_PATTERNS[key]}`);
    }
  };

  const alarmTopicArn = str('alarmTopicArn');
  if (alarmTopicArn && !/^arn:[^:]+:sns:[^:]+:\d{12}:.+$/.test(alarmTopicArn)) {
    errors.push(`context alarmTopicArn: '${alarmTopicArn}' is not an SNS topic ARN`);
  }
  const alarmEmail = str('alarmEmail');
  if (alarmEmail && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    errors.push(`context alarmEmail: '${alarmEmail}' is not an e-mail address`);
  }

  const vpcId = str('dwhVpcId');
  const subnetIds = list('dwhSubnetIds');
  const routeTableIds = list('dwhRouteTableIds');
  const securityGroupId = str('dwhSecurityGroupId');
  const port = int('dwhPort', 5432, 1, 65535);
  const createEndpoints = bool('dwhVpcEndpoints', true);
  let dwhNetwork: DwhNetworkProps | undefined;
  if (vpcId || subnetIds || securityGroupId || routeTableIds) {
    ids('dwhVpcId', vpcId ? [vpcId] : []);
    ids('dwhSubnetIds', subnetIds);
    ids('dwhRouteTableIds', routeTableIds);
    ids('dwhSecurityGroupId', securityGroupId ? [securityGroupId] : []);
    if (!vpcId) errors.push('context dwhVpcId: required with the other dwh* parameters');
    if (!subnetIds?.length)
      errors.push('context dwhSubnetIds: required with dwhVpcId (private subnets, one per AZ)');
    if (!securityGroupId)
      errors.push("context dwhSecurityGroupId: required with dwhVpcId (the warehouse's group)");
    if (createEndpoints && subnetIds && routeTableIds?.length !== subnetIds.length) {
      errors.push(
        'context dwhRouteTableIds: give one route table per subnet in dwhSubnetIds (for the DynamoDB gateway endpoint), or set dwhVpcEndpoints=false',
      );
    }
    if (vpcId && subnetIds?.length && securityGroupId) {
      dwhNetwork = {
        vpcId,
        subnetIds,
        ...(routeTableIds ? { routeTableIds } : {}),
        securityGroupId,
        port,
        createEndpoints,
      };
    }
  }

  const trialDatabase = bool('trialDatabase', false);
  if (trialDatabase && dwhNetwork) {
    errors.push(
      'context trialDatabase: creates its own VPC and database; give it or the dwh* parameters, not both',
    );
  }
  const vpcConnections = list('vpcConnections');
  const logRetentionDays = int('logRetentionDays', 30, 1, 3653);
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    errors.push(`context logRetentionDays: CloudWatch Logs accepts ${LOG_RETENTION_DAYS.join(', ')}`);
  }
  const context: StackContext = {
    configPath: str('config') ?? 'writeback.config.ts',
    stackName: str('stackName') ?? 'Writeback',
    ...(alarmTopicArn ? { alarmTopicArn } : {}),
    ...(alarmEmail ? { alarmEmail } : {}),
    ...(dwhNetwork ? { dwhNetwork } : {}),
    trialDatabase,
    ...(vpcConnections ? { vpcConnections } : {}),
    retainData: bool('retainData', true),
    logRetentionDays,
  };
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(context.stackName)) {
    errors.push(`context stackName: '${context.stackName}' is not a valid CloudFormation stack name`);
  }
  if (errors.length > 0) throw new ConfigValidationError(errors);
  return context;
}

import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { DwhNetworkProps } from './DwhNetwork.ts';

export interface TrialDatabaseProps {
  /**
   * RETAIN keeps a final snapshot of the instance (RDS's SNAPSHOT policy) and the flow log group
   * when the stack is deleted; DESTROY removes both.
   * @default RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** Retention of the VPC flow log group. @default one month */
  readonly logRetention?: logs.RetentionDays;
}

/** The trial database's Postgres port. */
const PORT = 5432;

/**
 * A small warehouse for trying Writeback on AWS without one (`-c trialDatabase=true`): a VPC over
 * two AZs with isolated subnets only (no NAT, no internet gateway), an encrypted RDS for
 * PostgreSQL 17 instance (db.t4g.micro, single-AZ, 7 days of backups, deletion protection off)
 * and its generated credentials in Secrets Manager, which the stack uses as the warehouse secret.
 *
 * The stack reaches it through DwhNetwork like any warehouse in a VPC (`networkProps`): the
 * extract and verify functions run in its subnets and reach AWS through VPC endpoints. Nothing
 * else gets in but `clientSecurityGroup`, for whoever loads the trial data (a CloudShell VPC
 * environment or a bastion in these subnets).
 *
 * Not for production: one AZ, no deletion protection, the master user for everything. Point the
 * stack at a real warehouse with the `dwh*` context instead.
 */
export class TrialDatabase extends Construct {
  public readonly vpc: ec2.Vpc;
  public readonly instance: rds.DatabaseInstance;
  /** `{host, port, username, password, dbname, engine}`: the extract functions read it as the warehouse secret. */
  public readonly secret: secretsmanager.ISecret;
  /** The instance's security group: admits the extract functions (added by DwhNetwork) and clients. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** For whoever loads data (CloudShell VPC environment, bastion): may reach the database port only. */
  public readonly clientSecurityGroup: ec2.SecurityGroup;
  /** The VPC, its isolated subnets and the database's group, as DwhNetwork takes them. */
  public readonly networkProps: DwhNetworkProps;

  public constructor(scope: Construct, id: string, props: TrialDatabaseProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    // Flow logs of rejected traffic only: what a security review asks for, at a trial's price.
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      // Nothing uses the default group; restricting it would add a custom-resource Lambda.
      restrictDefaultSecurityGroup: false,
      flowLogs: {
        rejected: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
    });
    const subnets = this.vpc.isolatedSubnets;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: 'Writeback trial database: Postgres from Writeback functions and trial clients only',
      allowAllOutbound: false,
    });
    this.clientSecurityGroup = new ec2.SecurityGroup(this, 'ClientSecurityGroup', {
      vpc: this.vpc,
      description: 'Writeback trial database clients (CloudShell VPC environment, bastion): Postgres only',
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(this.clientSecurityGroup, ec2.Port.tcp(PORT), 'Trial database clients');
    this.clientSecurityGroup.addEgressRule(this.securityGroup, ec2.Port.tcp(PORT), 'The trial database');

    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
      vpc: this.vpc,
      vpcSubnets: { subnets },
      securityGroups: [this.securityGroup],
      port: PORT,
      // A generated password in a Secrets Manager secret attached to the instance: it holds the
      // host, port and database name too, which is what the extract functions read.
      credentials: rds.Credentials.fromGeneratedSecret('writeback'),
      databaseName: 'dwh',
      allocatedStorage: 20,
      storageType: rds.StorageType.GP3,
      storageEncrypted: true,
      multiAz: false,
      publiclyAccessible: false,
      // Free to turn on; the functions sign in with the password from the secret.
      iamAuthentication: true,
      backupRetention: Duration.days(7),
      autoMinorVersionUpgrade: true,
      // A trial is meant to be thrown away with `cdk destroy`: deletion protection is off. RETAIN
      // becomes a final snapshot (RDS's SNAPSHOT policy); DESTROY deletes without one.
      deletionProtection: false,
      removalPolicy: removalPolicy === RemovalPolicy.RETAIN ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
    });
    // PostgreSQL 15 and later on RDS default to rds.force_ssl = 1: connections are TLS-only.
    this.secret = this.instance.secret!;

    Validations.of(this.instance).acknowledge(
      {
        id: 'AwsSolutions-RDS3',
        reason:
          'Trial database (trialDatabase=true): single-AZ keeps a trial cheap; an outage only delays syncs, whose bookmarks keep their place. Production points the stack at an existing warehouse (dwh* context).',
      },
      {
        id: 'AwsSolutions-RDS10',
        reason:
          'Trial database: deletion protection is off so that cdk destroy removes it (with a final snapshot unless retainData=false), as documented in docs/deploy.md. Production uses an existing warehouse.',
      },
      {
        id: 'AwsSolutions-RDS11',
        reason:
          'The default port 5432: the instance sits in isolated subnets without a route to or from the internet and its security group admits only the Writeback functions and the trial client group; another port would hide nothing.',
      },
    );
    Validations.of(this.instance.node.findChild('Secret')).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The extract and verify functions read the warehouse secret once per container and keep their connections, so a rotated password would break running containers until they are recycled. Trial only; an existing warehouse secret is rotated by its owner.',
    });

    this.networkProps = {
      vpcId: this.vpc.vpcId,
      subnetIds: subnets.map((s) => s.subnetId),
      routeTableIds: subnets.map((s) => s.routeTable.routeTableId),
      securityGroupId: this.securityGroup.securityGroupId,
      port: PORT,
      createEndpoints: true,
    };
  }
}

import { Fn, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

/** Where the warehouse lives, as given by the `dwh*` context parameters. */
export interface DwhNetworkProps {
  /** The warehouse's VPC (`vpc-…`). */
  readonly vpcId: string;
  /** Private subnets for the functions and the interface endpoints, at most one per AZ (`subnet-…`). */
  readonly subnetIds: readonly string[];
  /**
   * Route tables of those subnets (`rtb-…`); the DynamoDB and S3 gateway endpoints add a route to each.
   * Required when `createEndpoints` is true.
   */
  readonly routeTableIds?: readonly string[];
  /** Security group of the warehouse (`sg-…`); it gets one ingress rule from the extract functions. */
  readonly securityGroupId: string;
  /** Port the warehouse listens on. @default 5432 */
  readonly port?: number;
  /**
   * Create the DynamoDB and S3 gateway endpoints and the SQS, Secrets Manager and Lambda interface
   * endpoints. Turn off when the VPC already has them (two interface endpoints with private DNS for
   * one service cannot coexist) or routes to the internet through a NAT gateway.
   * @default true
   */
  readonly createEndpoints?: boolean;
}

/**
 * The extract functions' way into the warehouse's VPC: an imported VPC and subnets (no lookups,
 * so `cdk synth` works offline), a security group per role, and VPC endpoints so the functions
 * reach DynamoDB, S3 (claim checks of large messages), SQS, Secrets Manager and Lambda without a
 * NAT gateway. Lambda's API is needed
 * because an extract run invokes its own function to continue a backlog and its children's to run
 * them after it; without a route those calls would wait for a TCP connect timeout and fail.
 *
 * The trial database (TrialDatabase) passes its own VPC here by the same IDs (tokens then).
 */
export class DwhNetwork extends Construct {
  public readonly vpc: ec2.IVpc;
  public readonly subnets: ec2.SubnetSelection;
  /** Attached to extract functions: may reach the warehouse and HTTPS endpoints only. */
  public readonly extractSecurityGroup: ec2.SecurityGroup;
  private readonly endpointSecurityGroup: ec2.SecurityGroup | undefined;
  private writerSecurityGroup: ec2.SecurityGroup | undefined;

  public constructor(scope: Construct, id: string, props: DwhNetworkProps) {
    super(scope, id);
    const port = props.port ?? 5432;
    // Fn.getAzs() only satisfies fromVpcAttributes; subnets are always selected explicitly below.
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: props.vpcId, availabilityZones: Fn.getAzs() });
    Validations.of(this.vpc).acknowledge({
      id: '@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones',
      reason:
        'Subnets are always passed explicitly (dwhSubnetIds); nothing selects subnets of this imported VPC by type or AZ.',
    });
    const subnets = props.subnetIds.map((subnetId, i) =>
      ec2.Subnet.fromSubnetAttributes(this, `Subnet${i}`, {
        subnetId,
        ...(props.routeTableIds?.[i] ? { routeTableId: props.routeTableIds[i] } : {}),
      }),
    );
    this.subnets = { subnets };

    this.extractSecurityGroup = new ec2.SecurityGroup(this, 'ExtractSecurityGroup', {
      vpc: this.vpc,
      description: 'Writeback extract functions: warehouse port and HTTPS to AWS endpoints only',
      allowAllOutbound: false,
    });
    const dwhSecurityGroup = ec2.SecurityGroup.fromSecurityGroupId(
      this,
      'DwhSecurityGroup',
      props.securityGroupId,
    );
    // Adds an ingress rule to the warehouse's group (removed again with the stack) and the
    // matching egress rule to ours.
    dwhSecurityGroup.connections.allowFrom(
      this.extractSecurityGroup,
      ec2.Port.tcp(port),
      'Writeback extract',
    );
    this.extractSecurityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS to the DynamoDB and S3 gateway endpoints (prefix lists) and the interface endpoints',
    );

    if (props.createEndpoints ?? true) {
      this.vpc.addGatewayEndpoint('DynamoDbEndpoint', {
        service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
        subnets: [this.subnets],
      });
      // Message bodies too large for SQS are stored in the stack's claim-check bucket.
      this.vpc.addGatewayEndpoint('S3Endpoint', {
        service: ec2.GatewayVpcEndpointAwsService.S3,
        subnets: [this.subnets],
      });
      this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'Writeback interface endpoints: HTTPS from Writeback functions only',
        allowAllOutbound: false,
      });
      this.endpointSecurityGroup.addIngressRule(
        this.extractSecurityGroup,
        ec2.Port.tcp(443),
        'HTTPS from Writeback extract functions',
      );
      for (const [name, service] of [
        ['SqsEndpoint', ec2.InterfaceVpcEndpointAwsService.SQS],
        ['SecretsManagerEndpoint', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
        ['LambdaEndpoint', ec2.InterfaceVpcEndpointAwsService.LAMBDA],
      ] as const) {
        new ec2.InterfaceVpcEndpoint(this, name, {
          vpc: this.vpc,
          service,
          subnets: this.subnets,
          securityGroups: [this.endpointSecurityGroup],
          privateDnsEnabled: true,
          // Ingress is limited to our functions' security groups above.
          open: false,
        });
      }
    }
  }

  /**
   * Security group for write functions whose target is a database inside this VPC. Outbound is
   * open within what the VPC routes: the target database's own security group decides.
   */
  public writerSecurityGroupOrCreate(): ec2.SecurityGroup {
    if (this.writerSecurityGroup) return this.writerSecurityGroup;
    this.writerSecurityGroup = new ec2.SecurityGroup(this, 'WriteSecurityGroup', {
      vpc: this.vpc,
      description: 'Writeback write functions whose target database is inside the VPC',
      allowAllOutbound: true,
    });
    this.endpointSecurityGroup?.addIngressRule(
      this.writerSecurityGroup,
      ec2.Port.tcp(443),
      'HTTPS from Writeback write functions',
    );
    return this.writerSecurityGroup;
  }
}

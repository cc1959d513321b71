import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { STACK_OUTPUTS } from '../../shared/contracts/outputNames.ts';
import { ENV } from '../../shared/contracts/RuntimeEnv.ts';
import { ConfigValidationError } from '../../shared/errors.ts';
import { buildStack, DWH_NETWORK, syncInput, testConfig } from './stackFixture.ts';
import { logicalId, resource, roleStatements } from './templateQueries.ts';

// Prepare (shared): a config without a warehouse secret, which the trial database replaces.
const config = testConfig(
  [
    syncInput('contacts', { verify: { table: 'hubspot.contacts', targetIdColumn: 'id' } }),
    syncInput('invoices', { target: { connection: 'billing-db', object: 'billing.invoices' } }),
  ],
  { warehouse: {} },
);
// Act (shared)
const { app, template } = buildStack(config, { trialDatabase: true });

const id = {
  vpc: logicalId(template, 'AWS::EC2::VPC', 'TrialDatabaseVpc'),
  instance: logicalId(template, 'AWS::RDS::DBInstance', 'TrialDatabaseInstance'),
  secret: logicalId(template, 'AWS::SecretsManager::SecretTargetAttachment', 'TrialDatabaseInstanceSecret'),
  dbGroup: logicalId(template, 'AWS::EC2::SecurityGroup', 'TrialDatabaseSecurityGroup'),
  clientGroup: logicalId(template, 'AWS::EC2::SecurityGroup', 'TrialDatabaseClientSecurityGroup'),
  extractGroup: logicalId(template, 'AWS::EC2::SecurityGroup', 'DwhNetworkExtractSecurityGroup'),
};
const subnets = Object.keys(template.findResources('AWS::EC2::Subnet')).sort();

describe('Construct: TrialDatabase (context trialDatabase=true)', () => {
  describe('Network', () => {
    it('creates a VPC over two AZs with isolated subnets only: no NAT, no internet gateway', () => {
      // Assess
      expect(subnets).toHaveLength(2);
      for (const subnet of subnets) {
        expect(template.findResources('AWS::EC2::Subnet')[subnet]!.Properties.MapPublicIpOnLaunch).toBe(
          false,
        );
      }
      template.resourceCountIs('AWS::EC2::NatGateway', 0);
      template.resourceCountIs('AWS::EC2::InternetGateway', 0);
      template.resourceCountIs('AWS::EC2::Route', 0);
    });

    it('logs rejected traffic of the VPC', () => {
      // Assess
      template.hasResourceProperties('AWS::EC2::FlowLog', {
        ResourceId: { Ref: id.vpc },
        ResourceType: 'VPC',
        TrafficType: 'REJECT',
        LogDestinationType: 'cloud-watch-logs',
      });
    });

    it('runs the extract and verify functions in its subnets, the write functions outside', () => {
      // Assess
      for (const prefix of [
        'SyncContactsExtractFunction',
        'SyncContactsVerifyFunction',
        'SyncInvoicesExtractFunction',
      ]) {
        expect(resource(template, 'AWS::Lambda::Function', prefix).Properties.VpcConfig).toEqual({
          SubnetIds: subnets.map((s) => ({ Ref: s })),
          SecurityGroupIds: [{ 'Fn::GetAtt': [id.extractGroup, 'GroupId'] }],
        });
      }
      expect(
        resource(template, 'AWS::Lambda::Function', 'SyncContactsWriteFunction').Properties.VpcConfig,
      ).toBeUndefined();
    });

    it('reaches DynamoDB, SQS, Secrets Manager and Lambda through the endpoints DwhNetwork creates', () => {
      // Assess
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        VpcId: { Ref: id.vpc },
        ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.dynamodb']] },
      });
      for (const service of ['sqs', 'secretsmanager', 'lambda']) {
        template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
          VpcEndpointType: 'Interface',
          VpcId: { Ref: id.vpc },
          ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, `.${service}`]] },
          SubnetIds: subnets.map((s) => ({ Ref: s })),
          PrivateDnsEnabled: true,
        });
      }
    });

    it('admits only the extract functions and the trial client group on the Postgres port', () => {
      // Assess
      const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))
        .map((r) => r.Properties)
        .filter(
          (p) => JSON.stringify(p.GroupId) === JSON.stringify({ 'Fn::GetAtt': [id.dbGroup, 'GroupId'] }),
        );
      expect(ingress.map((p) => p.SourceSecurityGroupId['Fn::GetAtt'][0]).sort()).toEqual(
        [id.clientGroup, id.extractGroup].sort(),
      );
      for (const rule of ingress)
        expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432 });
      expect(
        resource(template, 'AWS::EC2::SecurityGroup', 'TrialDatabaseSecurityGroup').Properties,
      ).not.toHaveProperty('SecurityGroupIngress');
    });
  });

  describe('Database', () => {
    it('creates a small encrypted PostgreSQL 17 instance with backups, in the isolated subnets', () => {
      // Assess
      expect(template.findResources('AWS::RDS::DBInstance')[id.instance]!.Properties).toMatchObject({
        Engine: 'postgres',
        EngineVersion: '17',
        DBInstanceClass: 'db.t4g.micro',
        AllocatedStorage: '20',
        StorageType: 'gp3',
        StorageEncrypted: true,
        MultiAZ: false,
        PubliclyAccessible: false,
        EnableIAMDatabaseAuthentication: true,
        BackupRetentionPeriod: 7,
        DeletionProtection: false,
        DBName: 'dwh',
        VPCSecurityGroups: [{ 'Fn::GetAtt': [id.dbGroup, 'GroupId'] }],
      });
      template.hasResourceProperties('AWS::RDS::DBSubnetGroup', {
        SubnetIds: subnets.map((s) => ({ Ref: s })),
      });
    });

    it('keeps a final snapshot on delete, or none with retainData=false', () => {
      // Act
      const trial = buildStack(config, { trialDatabase: true, retainData: false }).template;
      // Assess
      expect(template.findResources('AWS::RDS::DBInstance')[id.instance]!.DeletionPolicy).toBe('Snapshot');
      for (const instance of Object.values(trial.findResources('AWS::RDS::DBInstance'))) {
        expect(instance.DeletionPolicy).toBe('Delete');
      }
    });

    it('generates the credentials into a secret and gives it to the functions as the warehouse secret', () => {
      // Prepare
      const extract = resource(template, 'AWS::Lambda::Function', 'SyncContactsExtractFunction');
      // Assess
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"writeback"}' }),
      });
      template.hasResourceProperties('AWS::SecretsManager::SecretTargetAttachment', {
        TargetId: { Ref: id.instance },
        TargetType: 'AWS::RDS::DBInstance',
      });
      expect(extract.Properties.Environment).toMatchObject({
        Variables: { [ENV.dwhSecretArn]: { Ref: id.secret } },
      });
      expect(roleStatements(template, 'SyncContactsExtractRole')).toContainEqual(
        expect.objectContaining({
          Action: 'secretsmanager:GetSecretValue',
          Resource: { Ref: id.secret },
        }),
      );
      // The write function reads only its connection's secret.
      expect(JSON.stringify(roleStatements(template, 'SyncContactsWriteRole'))).not.toContain(id.secret);
    });

    it('tells where the database is and how to get in', () => {
      // Assess
      template.hasOutput(STACK_OUTPUTS.trialDatabaseEndpoint, {
        Value: { 'Fn::GetAtt': [id.instance, 'Endpoint.Address'] },
      });
      template.hasOutput(STACK_OUTPUTS.trialDatabaseSecretArn, { Value: { Ref: id.secret } });
      template.hasOutput(STACK_OUTPUTS.trialDatabaseClientSecurityGroupId, {
        Value: { 'Fn::GetAtt': [id.clientGroup, 'GroupId'] },
      });
      template.hasOutput(STACK_OUTPUTS.trialDatabaseSubnetIds, {
        Value: { 'Fn::Join': [',', subnets.map((s) => ({ Ref: s }))] },
      });
    });

    it('creates nothing of this without the flag', () => {
      // Act
      const plain = buildStack(testConfig([syncInput('contacts')])).template;
      // Assess
      plain.resourceCountIs('AWS::RDS::DBInstance', 0);
      plain.resourceCountIs('AWS::EC2::VPC', 0);
      expect(plain.findOutputs(STACK_OUTPUTS.trialDatabaseEndpoint)).toEqual({});
    });
  });

  describe('cdk-nag', () => {
    it('reports no unacknowledged finding', () => {
      // Act
      const report = new AwsSolutionsChecks().validateScope(app);
      // Assess
      expect(
        report.violations.flatMap((v) =>
          v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath}`),
        ),
      ).toEqual([]);
    });

    it('acknowledges only what a trial justifies, on the instance and its secret', () => {
      // Prepare
      const acks = app.node.findAll().flatMap((c) =>
        c.node.metadata
          .filter((m) => m.type === 'aws:cdk:acknowledged-rules')
          .flatMap((m) =>
            Object.entries(m.data as Record<string, string>).map(([rule, reason]) => ({
              what: `${rule.replace(/^annotation::/i, '')} @ ${c.node.path}`,
              reason,
            })),
          ),
      );
      const ours = acks.filter((a) => a.what.startsWith('AwsSolutions-') && a.what.includes('TrialDatabase'));
      // Assess
      for (const ack of ours) expect(ack.reason.length).toBeGreaterThan(60);
      expect(ours.map((a) => a.what).sort()).toEqual(
        [
          'AwsSolutions-RDS10 @ Writeback/TrialDatabase/Instance',
          'AwsSolutions-RDS11 @ Writeback/TrialDatabase/Instance',
          'AwsSolutions-RDS3 @ Writeback/TrialDatabase/Instance',
          'AwsSolutions-SMG4 @ Writeback/TrialDatabase/Instance/Secret',
        ].sort(),
      );
    });
  });

  describe('Validation', () => {
    it('refuses a trial database together with an existing warehouse network', () => {
      // Act
      const act = () => buildStack(config, { trialDatabase: true, dwhNetwork: DWH_NETWORK });
      // Assess
      expect(act).toThrowError(ConfigValidationError);
      expect(act).toThrowError(/context trialDatabase: creates its own VPC and database/);
    });

    it('still needs warehouse.secret without a trial database', () => {
      // Act & Assess
      expect(() => buildStack(config)).toThrowError(/warehouse\.secret: required to deploy/);
    });

    it('lets write functions of vpcConnections join the trial VPC', () => {
      // Act
      const built = buildStack(config, { trialDatabase: true, vpcConnections: ['billing-db'] }).template;
      // Assess
      expect(
        resource(built, 'AWS::Lambda::Function', 'SyncInvoicesWriteFunction').Properties.VpcConfig,
      ).toBeDefined();
    });
  });
});

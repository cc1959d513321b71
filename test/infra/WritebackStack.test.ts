import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { STACK_OUTPUTS, syncOutputNames } from '../../shared/contracts/outputNames.ts';
import { ConfigValidationError } from '../../shared/errors.ts';
import { LINKS_TABLE, STATE_TABLE } from '../../shared/state/tableDefinitions.ts';
import { buildStack, DWH_NETWORK, syncInput, testConfig } from './stackFixture.ts';
import { logicalId, resource, roleStatements } from './templateQueries.ts';

// Prepare (shared)
const config = testConfig([
  syncInput('contacts'),
  syncInput('invoices', { target: { connection: 'billing-db', object: 'billing.invoices' } }),
]);
// Act (shared)
const { stack, template } = buildStack(config);

describe('Class: WritebackStack', () => {
  describe('Tables', () => {
    it('creates the state table on demand with PITR, SSE, TTL and the shared key schema', () => {
      // Assess
      expect(resource(template, 'AWS::DynamoDB::Table', 'StateTable').Properties).toEqual({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: STATE_TABLE.ttlAttribute, Enabled: true },
        KeySchema: [
          { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: STATE_TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: STATE_TABLE.sortKey, AttributeType: 'S' },
        ],
        DeletionProtectionEnabled: true,
      });
    });

    it('creates the links table with the attention and byTarget indexes from tableDefinitions', () => {
      // Assess
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: LINKS_TABLE.ttlAttribute, Enabled: true },
        KeySchema: [{ AttributeName: LINKS_TABLE.partitionKey, KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          {
            IndexName: LINKS_TABLE.attentionIndex.name,
            KeySchema: [
              { AttributeName: LINKS_TABLE.attentionIndex.partitionKey, KeyType: 'HASH' },
              { AttributeName: LINKS_TABLE.attentionIndex.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            IndexName: LINKS_TABLE.targetIndex.name,
            KeySchema: [{ AttributeName: LINKS_TABLE.targetIndex.partitionKey, KeyType: 'HASH' }],
            // Only skey: a link update that changes hash, version or status writes no index entry.
            Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['skey'] },
          },
        ],
      });
    });

    it('retains both tables when the stack is deleted', () => {
      // Assess
      for (const table of Object.values(template.findResources('AWS::DynamoDB::Table'))) {
        expect(table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
        expect(table.Properties.DeletionProtectionEnabled).toBe(true);
      }
    });

    it('lets a trial stack delete its tables and logs when retainData is false', () => {
      // Act
      const trial = buildStack(config, { retainData: false }).template;
      // Assess
      for (const table of Object.values(trial.findResources('AWS::DynamoDB::Table'))) {
        expect(table.DeletionPolicy).toBe('Delete');
        expect(table.Properties.DeletionProtectionEnabled).toBe(false);
      }
      for (const logGroup of Object.values(trial.findResources('AWS::Logs::LogGroup'))) {
        expect(logGroup.DeletionPolicy).toBe('Delete');
      }
    });
  });

  describe('Claim-check bucket', () => {
    const bucketId = logicalId(template, 'AWS::S3::Bucket', 'ClaimCheckBucket');
    const bucket = resource(template, 'AWS::S3::Bucket', 'ClaimCheckBucket');

    it('is one bucket for the stack, encrypted with S3-managed keys, unversioned and owner-enforced', () => {
      // Assess
      template.resourceCountIs('AWS::S3::Bucket', 1);
      expect(bucket.Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      });
      expect(bucket.Properties.VersioningConfiguration).toBeUndefined();
      expect(bucket.Properties.OwnershipControls).toEqual({
        Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
      });
    });

    it('blocks every kind of public access', () => {
      // Assess
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    });

    it('denies every request that does not use TLS', () => {
      // Assess
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });

    it('expires objects after the longest a pointer can live: queue retention plus DLQ retention, plus margin', () => {
      // Prepare
      const queues = template.findResources('AWS::SQS::Queue');
      const retention = (prefix: string): number =>
        Object.entries(queues).find(([id]) => id.startsWith(prefix))![1].Properties.MessageRetentionPeriod;
      const longestPointerDays =
        (retention('SyncContactsQueue') + retention('SyncContactsDeadLetterQueue')) / 86_400;
      // Assess
      const rules = (bucket.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
      expect(rules).toEqual([
        expect.objectContaining({
          Status: 'Enabled',
          ExpirationInDays: 21,
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        }),
      ]);
      expect(longestPointerDays).toBe(18);
      expect(rules[0]!.ExpirationInDays as number).toBeGreaterThan(longestPointerDays);
    });

    it("hands every function the bucket's name", () => {
      // Assess
      for (const fn of [
        'SyncContactsExtractFunction',
        'SyncContactsWriteFunction',
        'SyncInvoicesWriteFunction',
      ]) {
        expect(resource(template, 'AWS::Lambda::Function', fn).Properties.Environment).toMatchObject({
          Variables: { WB_CLAIM_CHECK_BUCKET: { Ref: bucketId } },
        });
      }
    });
  });

  describe('Pipelines', () => {
    it('creates one pipeline per sync', () => {
      // Prepare
      const names = ['a', 'b', 'c', 'd'];
      // Act
      const built = buildStack(testConfig(names.map((n) => syncInput(n))));
      // Assess
      expect(built.stack.pipelines.map((p) => p.sync.name)).toEqual(names);
      built.template.resourceCountIs('AWS::Lambda::Function', 2 * names.length);
      built.template.resourceCountIs('AWS::Lambda::EventSourceMapping', names.length);
      built.template.resourceCountIs('AWS::Scheduler::Schedule', names.length);
      built.template.resourceCountIs('AWS::SQS::Queue', 3 * names.length);
      built.template.resourceCountIs('AWS::CloudWatch::Alarm', 7 * names.length);
      built.template.resourceCountIs('AWS::DynamoDB::Table', 2);
    });

    it('accepts sync names that spell the names of shared resources', () => {
      // Prepare
      const names = ['dashboard', 'state-table', 'links-table', 'schedule-group'];
      // Act
      const built = buildStack(testConfig(names.map((n) => syncInput(n))));
      // Assess
      expect(built.stack.pipelines).toHaveLength(names.length);
    });

    it('names the exact secret when the config gives a complete ARN', () => {
      // Prepare
      const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/dwh-AbC123';
      // Act
      const built = buildStack(testConfig([syncInput('contacts')], { warehouse: { secret: arn } }));
      // Assess
      const fn = resource(built.template, 'AWS::Lambda::Function', 'SyncContactsExtractFunction');
      expect(fn.Properties.Environment).toMatchObject({ Variables: { WB_DWH_SECRET_ARN: arn } });
      const statements = roleStatements(built.template, 'SyncContactsExtractRole');
      expect(statements).toContainEqual(
        expect.objectContaining({
          Action: 'secretsmanager:GetSecretValue',
          Resource: arn,
        }),
      );
    });
  });

  describe('Outputs', () => {
    it('exposes the names the operator CLI reads', () => {
      // Prepare
      const expected = [
        STACK_OUTPUTS.stateTableName,
        STACK_OUTPUTS.linksTableName,
        STACK_OUTPUTS.claimCheckBucketName,
        STACK_OUTPUTS.dashboardName,
        STACK_OUTPUTS.scheduleGroupName,
        // Only syncs that configure verify have a verify function.
        ...config.syncs.flatMap((s) => {
          const { verifyFunctionName, ...names } = syncOutputNames(s.name);
          return [...Object.values(names), ...(s.verify ? [verifyFunctionName] : [])];
        }),
      ];
      // Assess
      expect(Object.keys(template.findOutputs('*')).sort()).toEqual(expected.sort());
    });

    it('points each output at the right resource', () => {
      // Prepare
      const names = syncOutputNames('contacts');
      // Assess
      template.hasOutput(STACK_OUTPUTS.stateTableName, {
        Value: { Ref: logicalId(template, 'AWS::DynamoDB::Table', 'StateTable') },
      });
      template.hasOutput(STACK_OUTPUTS.linksTableName, {
        Value: { Ref: logicalId(template, 'AWS::DynamoDB::Table', 'LinksTable') },
      });
      template.hasOutput(STACK_OUTPUTS.claimCheckBucketName, {
        Value: { Ref: logicalId(template, 'AWS::S3::Bucket', 'ClaimCheckBucket') },
      });
      template.hasOutput(names.queueUrl, {
        Value: { Ref: logicalId(template, 'AWS::SQS::Queue', 'SyncContactsQueue') },
      });
      template.hasOutput(names.dlqUrl, {
        Value: { Ref: logicalId(template, 'AWS::SQS::Queue', 'SyncContactsDeadLetterQueue') },
      });
      template.hasOutput(names.extractFunctionName, {
        Value: { Ref: logicalId(template, 'AWS::Lambda::Function', 'SyncContactsExtractFunction') },
      });
      template.hasOutput(names.writeFunctionName, {
        Value: { Ref: logicalId(template, 'AWS::Lambda::Function', 'SyncContactsWriteFunction') },
      });
    });

    it('adds the alarm topic output only when there is a topic', () => {
      // Act
      const withTopic = buildStack(config, { alarmEmail: 'ops@example.com' }).template;
      // Assess
      expect(template.findOutputs(STACK_OUTPUTS.alarmTopicArn)).toEqual({});
      withTopic.hasOutput(STACK_OUTPUTS.alarmTopicArn, {
        Value: { Ref: logicalId(withTopic, 'AWS::SNS::Topic', 'AlarmTopic') },
      });
    });
  });

  describe('Dashboard', () => {
    it('has one row per sync', () => {
      // Prepare
      const body = JSON.stringify(resource(template, 'AWS::CloudWatch::Dashboard', 'Dashboard').Properties);
      // Assess
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
      for (const sync of config.syncs) expect(body).toContain(`${sync.name} · ${sync.schedule}`);
      expect(stack.dashboard).toBeDefined();
    });

    it("shows each sync's run metrics: outcomes, rows, records and the failed and dead links", () => {
      // Prepare: the body is a Fn::Join of JSON text around references (region, queue names…).
      const body = resource(template, 'AWS::CloudWatch::Dashboard', 'Dashboard').Properties.DashboardBody as {
        'Fn::Join': [string, unknown[]];
      };
      const text = (body['Fn::Join'][1] as unknown[])
        .map((p) => (typeof p === 'string' ? p : 'REF'))
        .join('');
      const widgets = JSON.parse(text).widgets as { properties: { metrics?: unknown[][] } }[];
      const ours = widgets
        .flatMap((w) => w.properties.metrics ?? [])
        .filter((m) => m[0] === 'Writeback')
        .map((m) => ({ dims: m.slice(2, 6), name: m[1], stat: (m[6] as { stat: string }).stat }));
      // Assess
      for (const sync of config.syncs) {
        const shown = ours.filter(
          (m) => JSON.stringify(m.dims) === JSON.stringify(['service', 'writeback', 'sync', sync.name]),
        );
        expect(shown.map((m) => `${m.name}:${m.stat}`).sort()).toEqual(
          [
            'RunsStarted:Sum',
            'RunsFailed:Sum',
            'RunsPartial:Sum',
            'RunsSkipped:Sum',
            'RowsRead:Sum',
            'RowsEnqueued:Sum',
            'Redriven:Sum',
            'Written:Sum',
            'Retrying:Sum',
            'WaitingForParent:Sum',
            'Failed:Sum',
            'Dead:Sum',
            // Gauges: what is failed or dead now.
            'LinksFailed:Maximum',
            'LinksDead:Maximum',
          ].sort(),
        );
      }
    });
  });

  describe('Alarm topic', () => {
    it('creates a KMS-encrypted, TLS-only topic for alarmEmail and lets CloudWatch use its key', () => {
      // Act
      const built = buildStack(config, { alarmEmail: 'ops@example.com' }).template;
      // Assess
      const keyId = logicalId(built, 'AWS::KMS::Key', 'AlarmTopicKey');
      built.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
      built.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            }),
          ]),
        },
      });
      built.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
      built.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'ops@example.com',
      });
    });

    it('creates alarms without actions when no topic is configured', () => {
      // Assess
      for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
        expect(alarm.Properties.AlarmActions).toBeUndefined();
      }
      template.resourceCountIs('AWS::SNS::Topic', 0);
    });
  });

  describe('Warehouse network', () => {
    it('runs no function in a VPC without the dwh context', () => {
      // Assess
      for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
        expect(fn.Properties.VpcConfig).toBeUndefined();
      }
      template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    });

    it('puts the extract functions in the warehouse subnets, reaching the warehouse port and AWS through endpoints', () => {
      // Act
      const built = buildStack(config, { dwhNetwork: DWH_NETWORK }).template;
      // Assess
      const sg = logicalId(built, 'AWS::EC2::SecurityGroup', 'DwhNetworkExtractSecurityGroup');
      for (const prefix of ['SyncContactsExtractFunction', 'SyncInvoicesExtractFunction']) {
        expect(resource(built, 'AWS::Lambda::Function', prefix).Properties.VpcConfig).toEqual({
          SubnetIds: DWH_NETWORK.subnetIds,
          SecurityGroupIds: [{ 'Fn::GetAtt': [sg, 'GroupId'] }],
        });
      }
      built.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        GroupId: DWH_NETWORK.securityGroupId,
        SourceSecurityGroupId: { 'Fn::GetAtt': [sg, 'GroupId'] },
        FromPort: 5432,
        ToPort: 5432,
      });
      built.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.dynamodb']] },
        RouteTableIds: DWH_NETWORK.routeTableIds,
      });
      // Claim checks of large messages: S3 through its gateway endpoint, no NAT.
      built.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
        RouteTableIds: DWH_NETWORK.routeTableIds,
      });
      // Lambda: a run continues its backlog and starts its children by invoking functions.
      for (const service of ['sqs', 'secretsmanager', 'lambda']) {
        built.hasResourceProperties('AWS::EC2::VPCEndpoint', {
          VpcEndpointType: 'Interface',
          ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, `.${service}`]] },
          SubnetIds: DWH_NETWORK.subnetIds,
          PrivateDnsEnabled: true,
        });
      }
      expect(
        resource(built, 'AWS::EC2::SecurityGroup', 'DwhNetworkExtractSecurityGroup').Properties
          .SecurityGroupEgress,
      ).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })]);
      // The write functions call SaaS APIs on the internet: no VPC unless asked for.
      expect(
        resource(built, 'AWS::Lambda::Function', 'SyncContactsWriteFunction').Properties.VpcConfig,
      ).toBeUndefined();
    });

    it('puts write functions in the VPC only for the connections in vpcConnections', () => {
      // Act
      const built = buildStack(config, { dwhNetwork: DWH_NETWORK, vpcConnections: ['billing-db'] }).template;
      // Assess
      expect(
        resource(built, 'AWS::Lambda::Function', 'SyncInvoicesWriteFunction').Properties.VpcConfig,
      ).toBeDefined();
      expect(
        resource(built, 'AWS::Lambda::Function', 'SyncContactsWriteFunction').Properties.VpcConfig,
      ).toBeUndefined();
    });

    it('creates no endpoints when the VPC already has them', () => {
      // Act
      const { routeTableIds: _, ...withoutRouteTables } = DWH_NETWORK;
      const built = buildStack(config, {
        dwhNetwork: { ...withoutRouteTables, createEndpoints: false },
      }).template;
      // Assess
      built.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
      expect(
        resource(built, 'AWS::Lambda::Function', 'SyncContactsExtractFunction').Properties.VpcConfig,
      ).toBeDefined();
    });
  });

  describe('Validation', () => {
    it('names every missing secret, colliding sync name and bad option at once', () => {
      // Prepare
      const bad = testConfig(
        [syncInput('a-b'), syncInput('a--b', { target: { connection: 'billing-db', object: 'x' } })],
        {
          warehouse: {},
          connections: {
            hubspot: { type: 'hubspot' },
            'billing-db': { type: 'postgres', url: 'postgres://localhost/x' },
          },
        },
      );
      // Act
      let error: unknown;
      try {
        buildStack(bad, {
          vpcConnections: ['nope'],
          alarmEmail: 'a@b.co',
          alarmTopicArn: 'arn:aws:sns:x:1:y',
        });
      } catch (err) {
        error = err;
      }
      // Assess
      expect(error).toBeInstanceOf(ConfigValidationError);
      expect((error as ConfigValidationError).errors).toEqual([
        expect.stringMatching(/^warehouse\.secret: required to deploy/),
        expect.stringMatching(/^connections\.hubspot\.secret: required to deploy/),
        expect.stringMatching(/^connections\.billing-db\.secret: required to deploy/),
        "syncs[a--b].name: same output names as 'a-b' (AB…); rename one",
        "context vpcConnections: unknown connection 'nope'",
        'context vpcConnections: needs dwhVpcId and the other dwh* parameters, or trialDatabase=true',
        'context: give alarmTopicArn or alarmEmail, not both',
      ]);
    });
  });
});

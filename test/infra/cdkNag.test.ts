import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildStack, DWH_NETWORK, syncInput, testConfig } from './stackFixture.ts';

const config = testConfig([
  syncInput('contacts', { batchSize: 250 }),
  syncInput('invoices', { target: { connection: 'billing-db', object: 'billing.invoices' }, enabled: false }),
]);

/** Findings cdk-nag still reports after every acknowledgement, as `rule @ construct path`. */
function unacknowledgedFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath}`),
  );
}

/** Every acknowledgement in the tree: rule id and reason. */
function acknowledgements(scope: IConstruct): { id: string; reason: string; path: string }[] {
  return scope.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          id: id.replace(/^annotation::/i, ''),
          reason,
          path: c.node.path,
        })),
      ),
  );
}

describe('cdk-nag AwsSolutions checks', () => {
  it('reports no unacknowledged finding for the default stack', () => {
    // Act
    const { app } = buildStack(config);
    // Assess
    expect(unacknowledgedFindings(app)).toEqual([]);
  });

  it('reports no unacknowledged finding for a stack in the warehouse VPC with an alarm topic', () => {
    // Act
    const { app } = buildStack(config, {
      dwhNetwork: DWH_NETWORK,
      vpcConnections: ['billing-db'],
      alarmEmail: 'ops@example.com',
    });
    // Assess
    expect(unacknowledgedFindings(app)).toEqual([]);
  });

  it('acknowledges only specific findings, never a whole wildcard rule, each with a reason', () => {
    // Prepare
    const { app } = buildStack(config, { dwhNetwork: DWH_NETWORK, vpcConnections: ['billing-db'] });
    // Act
    const acks = acknowledgements(app);
    // Assess
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      if (ack.id.startsWith('AwsSolutions-IAM'))
        expect(ack.id).toMatch(/^AwsSolutions-IAM5\[Resource::.+\]$/);
      expect(ack.reason.length).toBeGreaterThan(60);
    }
    expect(new Set(acks.map((a) => a.id.replace(/\[.*$/, '')))).toEqual(
      new Set([
        'AwsSolutions-SQS3',
        'AwsSolutions-IAM5',
        // The claim-check bucket holds transient message bodies only (reason in WritebackStack).
        'AwsSolutions-S1',
        // A CDK warning, not a cdk-nag rule: the imported VPC's AZs are a token (no lookups offline).
        '@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones',
      ]),
    );
  });

  it('still catches what it should: an unacknowledged wildcard fails the check', async () => {
    // Prepare
    const { app, stack } = buildStack(config);
    const { PolicyStatement } = await import('aws-cdk-lib/aws-iam');
    // Act
    stack.pipelines[0]!.writeFunction.addToRolePolicy(
      new PolicyStatement({ actions: ['sqs:*'], resources: ['*'] }),
    );
    // Assess
    expect(unacknowledgedFindings(app).some((f) => f.startsWith('AwsSolutions-IAM5[Action::sqs:*]'))).toBe(
      true,
    );
  });
});

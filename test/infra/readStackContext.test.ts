import { describe, expect, it } from 'vitest';
import { readStackContext } from '../../infra/readStackContext.ts';
import { ConfigValidationError } from '../../shared/errors.ts';

const from = (context: Record<string, unknown>) => (key: string) => context[key];

describe('Function: readStackContext', () => {
  it('applies the defaults when no context is given', () => {
    // Act
    const context = readStackContext(from({}));
    // Assess
    expect(context).toEqual({
      configPath: 'writeback.config.ts',
      stackName: 'Writeback',
      trialDatabase: false,
      retainData: true,
      logRetentionDays: 30,
    });
  });

  it('reads the trial database flag, which excludes the dwh* parameters', () => {
    // Act
    const trial = readStackContext(from({ trialDatabase: 'true', retainData: 'false' }));
    const both = () =>
      readStackContext(
        from({
          trialDatabase: true,
          dwhVpcId: 'vpc-0a1b2c3d4e5f60718',
          dwhSubnetIds: 'subnet-0a1b2c3d4e5f60711',
          dwhSecurityGroupId: 'sg-0a1b2c3d4e5f60799',
          dwhVpcEndpoints: 'false',
        }),
      );
    // Assess
    expect(trial).toMatchObject({ trialDatabase: true, retainData: false });
    expect(trial.dwhNetwork).toBeUndefined();
    expect(both).toThrowError(ConfigValidationError);
    expect(captureErrors(both)).toEqual([
      'context trialDatabase: creates its own VPC and database; give it or the dwh* parameters, not both',
    ]);
  });

  it('reads the warehouse network from command-line strings', () => {
    // Act
    const context = readStackContext(
      from({
        dwhVpcId: 'vpc-0a1b2c3d4e5f60718',
        dwhSubnetIds: 'subnet-0a1b2c3d4e5f60711, subnet-0a1b2c3d4e5f60722',
        dwhRouteTableIds: '["rtb-0a1b2c3d4e5f60711","rtb-0a1b2c3d4e5f60722"]',
        dwhSecurityGroupId: 'sg-0a1b2c3d4e5f60799',
        dwhPort: '6432',
        vpcConnections: 'billing-db',
        retainData: 'false',
      }),
    );
    // Assess
    expect(context.dwhNetwork).toEqual({
      vpcId: 'vpc-0a1b2c3d4e5f60718',
      subnetIds: ['subnet-0a1b2c3d4e5f60711', 'subnet-0a1b2c3d4e5f60722'],
      routeTableIds: ['rtb-0a1b2c3d4e5f60711', 'rtb-0a1b2c3d4e5f60722'],
      securityGroupId: 'sg-0a1b2c3d4e5f60799',
      port: 6432,
      createEndpoints: true,
    });
    expect(context.vpcConnections).toEqual(['billing-db']);
    expect(context.retainData).toBe(false);
  });

  it('accepts JSON values from cdk.json as they are', () => {
    // Act
    const context = readStackContext(
      from({
        dwhVpcId: 'vpc-0a1b2c3d4e5f60718',
        dwhSubnetIds: ['subnet-0a1b2c3d4e5f60711'],
        dwhSecurityGroupId: 'sg-0a1b2c3d4e5f60799',
        dwhVpcEndpoints: false,
        logRetentionDays: 90,
      }),
    );
    // Assess
    expect(context.dwhNetwork?.createEndpoints).toBe(false);
    expect(context.logRetentionDays).toBe(90);
  });

  it('names every problem at once', () => {
    // Act
    let error: unknown;
    try {
      readStackContext(
        from({
          dwhVpcId: 'my-vpc',
          dwhSubnetIds: 'subnet-0a1b2c3d4e5f60711',
          dwhPort: 'x',
          alarmEmail: 'nobody',
          logRetentionDays: 31,
          retainData: 'maybe',
        }),
      );
    } catch (err) {
      error = err;
    }
    // Assess
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect((error as ConfigValidationError).errors).toEqual([
      "context alarmEmail: 'nobody' is not an e-mail address",
      'context dwhPort: expected an integer from 1 to 65535, got "x"',
      "context dwhVpcId: 'my-vpc' does not look like /^vpc-[0-9a-f]{8,17}$/",
      "context dwhSecurityGroupId: required with dwhVpcId (the warehouse's group)",
      'context dwhRouteTableIds: give one route table per subnet in dwhSubnetIds (for the DynamoDB gateway endpoint), or set dwhVpcEndpoints=false',
      expect.stringMatching(/^context logRetentionDays: CloudWatch Logs accepts 1, 3, 5/),
      'context retainData: expected true or false, got "maybe"',
    ]);
  });
});

function captureErrors(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    return (err as ConfigValidationError).errors;
  }
  throw new Error('expected an error');
}

import { randomUUID } from 'node:crypto';
import { AwsServiceError } from './awsErrors.ts';
import { el, handleQuery, list, type QueryService } from './awsQuery.ts';
import { LocalHttpServer } from './httpServer.ts';

/** One stack output, named as DescribeStacks names it. */
export interface StackOutput {
  readonly OutputKey: string;
  readonly OutputValue: string;
  readonly Description?: string;
  readonly ExportName?: string;
}

export interface StackParameter {
  readonly ParameterKey: string;
  readonly ParameterValue: string;
}

export interface LocalStackDescription {
  readonly stackName: string;
  readonly outputs?: readonly StackOutput[];
  readonly parameters?: readonly StackParameter[];
  readonly description?: string;
  readonly tags?: readonly { readonly Key: string; readonly Value: string }[];
  /** When the stack was created; now by default. */
  readonly creationTime?: Date;
}

export interface LocalCloudFormationOptions {
  readonly stacks: readonly LocalStackDescription[];
  readonly region?: string;
  readonly accountId?: string;
}

interface DeployedStack extends LocalStackDescription {
  readonly stackId: string;
  readonly creationTime: Date;
}

/**
 * CloudFormation's DescribeStacks on a loopback port, for deployed (CREATE_COMPLETE) stacks,
 * reached by the real SDK client through `AWS_ENDPOINT_URL_CLOUDFORMATION`. The installed client
 * (@aws-sdk/client-cloudformation 3.1169) speaks the Query protocol: form-encoded in, XML out.
 * A stack is found by name or by stack id (its ARN); any other is `ValidationError`, as AWS
 * answers for a stack that does not exist.
 */
export class LocalCloudFormation {
  readonly #stacks: readonly DeployedStack[];
  readonly #server: LocalHttpServer;

  public constructor(opts: LocalCloudFormationOptions) {
    const region = opts.region ?? 'us-east-1';
    const accountId = opts.accountId ?? '123456789012';
    this.#stacks = opts.stacks.map((stack) => ({
      ...stack,
      stackId: `arn:aws:cloudformation:${region}:${accountId}:stack/${stack.stackName}/${randomUUID()}`,
      creationTime: stack.creationTime ?? new Date(),
    }));
    const service: QueryService = {
      xmlns: 'http://cloudformation.amazonaws.com/doc/2010-05-15/',
      version: '2010-05-15',
      actions: { DescribeStacks: (params) => this.#describeStacks(params.get('StackName') ?? undefined) },
    };
    this.#server = new LocalHttpServer((req) => handleQuery(service, req));
  }

  /** Resolves to the endpoint URL, `http://127.0.0.1:<port>`. */
  public start(): Promise<string> {
    return this.#server.start();
  }

  public stop(): Promise<void> {
    return this.#server.stop();
  }

  /** A stack's id, `arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>`. */
  public stackIdOf(stackName: string): string {
    const stack = this.#stacks.find((s) => s.stackName === stackName);
    if (!stack) throw new Error(`no stack ${stackName}`);
    return stack.stackId;
  }

  /** Without a name, every stack, as DescribeStacks answers. */
  #describeStacks(stackName: string | undefined): string {
    const found = this.#stacks.filter(
      (s) => stackName === undefined || s.stackName === stackName || s.stackId === stackName,
    );
    if (stackName !== undefined && found.length === 0) {
      throw new AwsServiceError('ValidationError', `Stack with id ${stackName} does not exist`);
    }
    return list('Stacks', found, stackXml) || '<Stacks/>';
  }
}

function stackXml(o: DeployedStack): string {
  return (
    el('StackId', o.stackId) +
    el('StackName', o.stackName) +
    el('Description', o.description) +
    list(
      'Parameters',
      o.parameters,
      (p) => el('ParameterKey', p.ParameterKey) + el('ParameterValue', p.ParameterValue),
    ) +
    el('CreationTime', o.creationTime.toISOString()) +
    el('StackStatus', 'CREATE_COMPLETE') +
    el('DisableRollback', false) +
    list(
      'Outputs',
      o.outputs,
      (out) =>
        el('OutputKey', out.OutputKey) +
        el('OutputValue', out.OutputValue) +
        el('Description', out.Description) +
        el('ExportName', out.ExportName),
    ) +
    list('Tags', o.tags, (t) => el('Key', t.Key) + el('Value', t.Value)) +
    el('EnableTerminationProtection', false) +
    `<DriftInformation>${el('StackDriftStatus', 'NOT_CHECKED')}</DriftInformation>`
  );
}

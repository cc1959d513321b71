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

export interface LocalCloudFormationOptions {
  readonly stackName: string;
  readonly outputs?: readonly StackOutput[];
  readonly parameters?: readonly StackParameter[];
  readonly description?: string;
  readonly tags?: readonly { readonly Key: string; readonly Value: string }[];
  readonly region?: string;
  readonly accountId?: string;
  /** When the stack was created; now by default. */
  readonly creationTime?: Date;
}

/**
 * CloudFormation's DescribeStacks on a loopback port, for one deployed (CREATE_COMPLETE) stack,
 * reached by the real SDK client through `AWS_ENDPOINT_URL_CLOUDFORMATION`. The installed client
 * (@aws-sdk/client-cloudformation 3.1169) speaks the Query protocol: form-encoded in, XML out.
 * The stack is found by name or by stack id (its ARN); any other is `ValidationError`, as AWS
 * answers for a stack that does not exist.
 */
export class LocalCloudFormation {
  /** The stack's id, `arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>`. */
  public readonly stackId: string;
  readonly #opts: LocalCloudFormationOptions;
  readonly #creationTime: Date;
  readonly #server: LocalHttpServer;

  public constructor(opts: LocalCloudFormationOptions) {
    this.#opts = opts;
    this.#creationTime = opts.creationTime ?? new Date();
    this.stackId = `arn:aws:cloudformation:${opts.region ?? 'us-east-1'}:${opts.accountId ?? '123456789012'}:stack/${opts.stackName}/${randomUUID()}`;
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

  #describeStacks(stackName: string | undefined): string {
    const o = this.#opts;
    if (stackName !== undefined && stackName !== o.stackName && stackName !== this.stackId) {
      throw new AwsServiceError('ValidationError', `Stack with id ${stackName} does not exist`);
    }
    const stack =
      el('StackId', this.stackId) +
      el('StackName', o.stackName) +
      el('Description', o.description) +
      list(
        'Parameters',
        o.parameters,
        (p) => el('ParameterKey', p.ParameterKey) + el('ParameterValue', p.ParameterValue),
      ) +
      el('CreationTime', this.#creationTime.toISOString()) +
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
      `<DriftInformation>${el('StackDriftStatus', 'NOT_CHECKED')}</DriftInformation>`;
    return `<Stacks><member>${stack}</member></Stacks>`;
  }
}

import { createHash } from 'node:crypto';
import NodeEvaluator from 'cfn-resolver-lib';
import { WritebackError } from '../../shared/errors.ts';

/**
 * A synthesized CloudFormation template made concrete, as CloudFormation would on a create: each
 * resource gets a physical name and its attributes, and every intrinsic (Ref, Fn::GetAtt, Fn::Join,
 * Fn::Sub, conditions) is evaluated by cfn-resolver-lib with those values. The rehearsal then reads
 * the functions' environment, the roles' policies and the outputs from the result, exactly as the
 * deployed stack would have them.
 */

/** The fake account and region of a rehearsal: any fixed pair works, the template is environment-agnostic. */
export const REHEARSAL_ACCOUNT = '123456789012';
export const REHEARSAL_REGION = 'eu-west-1';

/**
 * The six characters Secrets Manager appends to a secret's name in its ARN, for the secrets of a
 * rehearsal (the stack's own, and the imported ones named by a partial ARN).
 */
export const SECRET_ARN_SUFFIX = '-Rh3rSl';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly Condition?: string;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown; Description?: string; Export?: { Name: unknown } }>;
  readonly Parameters?: Record<string, unknown>;
  readonly Conditions?: Record<string, unknown>;
  readonly Rules?: Record<string, unknown>;
}

export interface PhysicalResource {
  readonly type: string;
  /** What `Ref` returns for this type. */
  readonly ref: string;
  /** What `Fn::GetAtt` returns, by attribute name. */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface ResolvedStack {
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
  /** Resources and outputs with every intrinsic evaluated. */
  readonly resources: Readonly<Record<string, CfnResource>>;
  readonly outputs: Readonly<Record<string, { value: string; description?: string }>>;
  readonly physical: ReadonlyMap<string, PhysicalResource>;
}

export interface ResolveOptions {
  readonly stackName: string;
  readonly account?: string;
  readonly region?: string;
  /**
   * The base of the queue URLs `Ref` returns (`https://sqs.<region>.amazonaws.com` on AWS). The SDK
   * sends an SQS request to its queue URL's host, so the rehearsal puts its own endpoint here.
   */
  readonly sqsBaseUrl?: string;
}

/** A template that still holds an intrinsic after resolution: the rehearsal would run on a guess. */
export class UnresolvedTemplateError extends WritebackError {
  public readonly places: readonly string[];
  public constructor(places: readonly string[]) {
    super(
      'WB_REHEARSAL_UNRESOLVED',
      `the template could not be fully resolved (${places.length} place(s)): ${places.slice(0, 5).join('; ')}`,
    );
    this.name = 'UnresolvedTemplateError';
    this.places = places;
  }
}

/** CloudFormation's generated names: `<stack>-<logical id, cut>-<12 or 13 upper-case characters>`. */
function generatedName(stackName: string, logicalId: string, maxLength: number, lower = false): string {
  const suffix = createHash('sha256').update(`${stackName}/${logicalId}`).digest('hex').slice(0, 12);
  const head = `${stackName}-${logicalId}`.slice(0, maxLength - suffix.length - 1);
  const name = `${head}-${suffix.toUpperCase()}`;
  return lower ? name.toLowerCase() : name;
}

function stringProp(resource: CfnResource, key: string): string | undefined {
  const value = resource.Properties?.[key];
  return typeof value === 'string' ? value : undefined;
}

/** Ref and attributes of one resource, per type, as the AWS docs give them for CloudFormation. */
function physicalOf(
  logicalId: string,
  resource: CfnResource,
  ctx: Required<Omit<ResolveOptions, 'sqsBaseUrl'>> & { sqsBaseUrl: string },
): PhysicalResource {
  const { stackName, account: a, region: r } = ctx;
  const named = (key: string, max: number, lower = false) =>
    stringProp(resource, key) ?? generatedName(stackName, logicalId, max, lower);
  const type = resource.Type;
  const plain = (ref: string, attributes: Record<string, string> = {}): PhysicalResource => ({
    type,
    ref,
    attributes,
  });
  switch (type) {
    case 'AWS::DynamoDB::Table': {
      const name = named('TableName', 255);
      const arn = `arn:aws:dynamodb:${r}:${a}:table/${name}`;
      return plain(name, { Arn: arn, StreamArn: `${arn}/stream/1970-01-01T00:00:00.000` });
    }
    case 'AWS::SQS::Queue': {
      const fifo = resource.Properties?.FifoQueue === true;
      const name = stringProp(resource, 'QueueName') ?? generatedName(stackName, logicalId, fifo ? 75 : 80);
      const queueName = fifo && !name.endsWith('.fifo') ? `${name}.fifo` : name;
      const url = `${ctx.sqsBaseUrl}/${a}/${queueName}`;
      return plain(url, { Arn: `arn:aws:sqs:${r}:${a}:${queueName}`, QueueName: queueName, QueueUrl: url });
    }
    case 'AWS::S3::Bucket': {
      const name = named('BucketName', 63, true);
      return plain(name, {
        Arn: `arn:aws:s3:::${name}`,
        DomainName: `${name}.s3.amazonaws.com`,
        RegionalDomainName: `${name}.s3.${r}.amazonaws.com`,
      });
    }
    case 'AWS::Lambda::Function': {
      const name = named('FunctionName', 64);
      return plain(name, { Arn: `arn:aws:lambda:${r}:${a}:function:${name}` });
    }
    case 'AWS::IAM::Role': {
      const name = named('RoleName', 64);
      return plain(name, { Arn: `arn:aws:iam::${a}:role/${name}`, RoleId: `AROA${name.slice(-12)}` });
    }
    case 'AWS::IAM::Policy':
      return plain(generatedName(stackName, logicalId, 128));
    case 'AWS::Logs::LogGroup': {
      const name = named('LogGroupName', 512);
      return plain(name, { Arn: `arn:aws:logs:${r}:${a}:log-group:${name}:*` });
    }
    case 'AWS::Scheduler::ScheduleGroup': {
      const name = named('Name', 64);
      return plain(name, { Arn: `arn:aws:scheduler:${r}:${a}:schedule-group/${name}` });
    }
    case 'AWS::Scheduler::Schedule': {
      const name = named('Name', 64);
      const group = stringProp(resource, 'GroupName') ?? 'default';
      return plain(name, { Arn: `arn:aws:scheduler:${r}:${a}:schedule/${group}/${name}` });
    }
    case 'AWS::CloudWatch::Alarm': {
      const name = named('AlarmName', 255);
      return plain(name, { Arn: `arn:aws:cloudwatch:${r}:${a}:alarm:${name}` });
    }
    case 'AWS::SNS::Topic': {
      const name = named('TopicName', 256);
      const arn = `arn:aws:sns:${r}:${a}:${name}`;
      return plain(arn, { TopicArn: arn, TopicName: name });
    }
    case 'AWS::SecretsManager::Secret': {
      const name = named('Name', 256);
      return plain(`arn:aws:secretsmanager:${r}:${a}:secret:${name}${SECRET_ARN_SUFFIX}`, { Id: name });
    }
    case 'AWS::KMS::Key': {
      const id = `${createHash('sha256').update(logicalId).digest('hex').slice(0, 8)}-0000-4000-8000-000000000000`;
      return plain(id, { Arn: `arn:aws:kms:${r}:${a}:key/${id}`, KeyId: id });
    }
    case 'AWS::EC2::VPC':
      return plain(`vpc-${hex(logicalId, 17)}`, {
        CidrBlock: '10.0.0.0/16',
        DefaultSecurityGroup: `sg-${hex(`${logicalId}/sg`, 17)}`,
      });
    case 'AWS::EC2::Subnet':
      return plain(`subnet-${hex(logicalId, 17)}`, { SubnetId: `subnet-${hex(logicalId, 17)}` });
    case 'AWS::EC2::SecurityGroup':
      return plain(`sg-${hex(logicalId, 17)}`, { GroupId: `sg-${hex(logicalId, 17)}` });
    case 'AWS::EC2::RouteTable':
      return plain(`rtb-${hex(logicalId, 17)}`, { RouteTableId: `rtb-${hex(logicalId, 17)}` });
    case 'AWS::RDS::DBInstance': {
      const id = named('DBInstanceIdentifier', 63, true);
      return plain(id, {
        'Endpoint.Address': `${id}.${hex(logicalId, 12)}.${r}.rds.amazonaws.com`,
        'Endpoint.Port': '5432',
        DBInstanceArn: `arn:aws:rds:${r}:${a}:db:${id}`,
      });
    }
    default:
      // Anything else gets a name and no attributes: an attribute the template reads is then
      // reported as unresolved rather than guessed.
      return plain(generatedName(stackName, logicalId, 64));
  }
}

/**
 * cfn-resolver-lib reads every `Condition` key as a CloudFormation condition name, including an IAM
 * statement's `Condition` block, whose intrinsics it then leaves unevaluated. Inside properties the
 * key is renamed for the evaluation and renamed back after it.
 */
const IAM_CONDITION = '__IamCondition';

/**
 * cfn-resolver-lib also replaces an object whose only key holds an array with the array itself
 * (`{"dynamodb:LeadingKeys": [...]}` → `[...]`, `Principal: {AWS: [...]}` → `[...]`), which turns
 * IAM conditions and principals into something else. Such objects get a second key for the
 * evaluation, removed after it.
 */
const KEEP_SHAPE = '__KeepShape';

function keepShapes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(keepShapes);
  if (!value || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const mapped = Object.fromEntries(entries.map(([k, v]) => [k, keepShapes(v)]));
  const [only] = entries;
  const intrinsic = only && (only[0] === 'Ref' || only[0].startsWith('Fn::'));
  return entries.length === 1 && Array.isArray(only?.[1]) && !intrinsic
    ? { ...mapped, [KEEP_SHAPE]: true }
    : mapped;
}

function dropShapeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropShapeKeys);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => k !== KEEP_SHAPE)
      .map(([k, v]) => [k, dropShapeKeys(v)]),
  );
}

function renameKey(value: unknown, from: string, to: string): unknown {
  if (Array.isArray(value)) return value.map((v) => renameKey(v, from, to));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k === from ? to : k, renameKey(v, from, to)]),
    );
  }
  return value;
}

function mapProperties(
  resources: Record<string, CfnResource>,
  fn: (props: Record<string, unknown>) => unknown,
): Record<string, CfnResource> {
  return Object.fromEntries(
    Object.entries(resources).map(([id, r]) => [
      id,
      // cfn-resolver-lib cannot walk an empty Properties object; a resource without any is the same.
      r.Properties && Object.keys(r.Properties).length > 0
        ? { ...r, Properties: fn(r.Properties) as Record<string, unknown> }
        : withoutProperties(r),
    ]),
  );
}

/**
 * Every Ref and Fn::GetAtt the template makes, checked against what the rehearsal can answer:
 * cfn-resolver-lib leaves an unknown one in place as plain data, which would run on a guess.
 */
function unanswerable(
  value: unknown,
  path: string,
  refs: Record<string, string>,
  getAtts: Record<string, Record<string, string>>,
  out: string[],
): void {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) unanswerable(v, `${path}[${i}]`, refs, getAtts, out);
    return;
  }
  if (!value || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    if (k === 'Ref' && typeof v === 'string' && !(v in refs)) out.push(`${path}: Ref ${v}`);
    else if (k === 'Fn::GetAtt') {
      const [id, attr] = Array.isArray(v) ? v : String(v).split('.');
      if (typeof id === 'string' && typeof attr === 'string' && getAtts[id]?.[attr] === undefined)
        out.push(`${path}: Fn::GetAtt ${id}.${attr}`);
    }
    unanswerable(v, `${path}.${k}`, refs, getAtts, out);
  }
}

function withoutProperties(r: CfnResource): CfnResource {
  const { Properties: _, ...rest } = r;
  return rest;
}

function hex(seed: string, length: number): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, length);
}

/** Paths of the intrinsics still present under `value` (`Resources.X.Properties…`). */
function unresolvedIn(value: unknown, path: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) unresolvedIn(v, `${path}[${i}]`, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' || k.startsWith('Fn::')) out.push(`${path}: ${k} ${JSON.stringify(v)}`);
      else unresolvedIn(v, `${path}.${k}`, out);
    }
  } else if (typeof value === 'string' && /\$\{[A-Za-z:]+\}/.test(value) && !path.endsWith('.Input')) {
    // An Fn::Sub the resolver could not fill leaves its `${…}` behind.
    out.push(`${path}: ${value}`);
  }
}

export function resolveTemplate(template: CfnTemplate, opts: ResolveOptions): ResolvedStack {
  const account = opts.account ?? REHEARSAL_ACCOUNT;
  const region = opts.region ?? REHEARSAL_REGION;
  const ctx = {
    stackName: opts.stackName,
    account,
    region,
    sqsBaseUrl: opts.sqsBaseUrl ?? `https://sqs.${region}.amazonaws.com`,
  };
  const physical = new Map<string, PhysicalResource>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    physical.set(id, physicalOf(id, resource, ctx));
  }
  // Ref of a secret's target attachment is the secret's ARN (what RDS's generated secret is read by).
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::SecretsManager::SecretTargetAttachment') continue;
    const secretId = (resource.Properties?.SecretId as { Ref?: string } | undefined)?.Ref;
    const secret = secretId ? physical.get(secretId) : undefined;
    if (secret) physical.set(id, { type: resource.Type, ref: secret.ref, attributes: {} });
  }
  const refs: Record<string, string> = {
    'AWS::AccountId': account,
    'AWS::Region': region,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': opts.stackName,
    'AWS::StackId': `arn:aws:cloudformation:${region}:${account}:stack/${opts.stackName}/00000000-0000-4000-8000-000000000000`,
    'AWS::NoValue': '',
  };
  const getAtts: Record<string, Record<string, string>> = {};
  for (const [id, p] of physical) {
    refs[id] = p.ref;
    getAtts[id] = { ...p.attributes };
  }
  // Only what a deployed stack is made of: the bootstrap-version rule and its parameter are the
  // CLI's business, and CDK metadata is not a resource anything reads.
  const resources = Object.fromEntries(
    Object.entries(template.Resources).filter(([, r]) => r.Type !== 'AWS::CDK::Metadata'),
  );
  const input = {
    Resources: mapProperties(resources, (p) => keepShapes(renameKey(p, 'Condition', IAM_CONDITION))),
    Outputs: template.Outputs ?? {},
    Conditions: template.Conditions ?? {},
    Parameters: {},
  };
  const missing: string[] = [];
  unanswerable(resources, 'Resources', refs, getAtts, missing);
  unanswerable(template.Outputs ?? {}, 'Outputs', refs, getAtts, missing);
  if (missing.length > 0) throw new UnresolvedTemplateError(missing);
  const quiet = console.warn;
  let evaluated: {
    Resources: Record<string, CfnResource>;
    Outputs: Record<string, { Value: unknown; Description?: string }>;
  };
  try {
    // cfn-resolver-lib warns for every GetAtt it takes from our map instead of the template.
    console.warn = () => {};
    evaluated = new NodeEvaluator(input, {
      RefResolvers: refs,
      'Fn::GetAttResolvers': getAtts,
    }).evaluateNodes();
  } finally {
    console.warn = quiet;
  }
  const resolved = mapProperties(evaluated.Resources, (p) =>
    dropShapeKeys(renameKey(p, IAM_CONDITION, 'Condition')),
  );
  const problems: string[] = [];
  unresolvedIn(resolved, 'Resources', problems);
  unresolvedIn(evaluated.Outputs, 'Outputs', problems);
  if (problems.length > 0) throw new UnresolvedTemplateError(problems);
  const outputs = Object.fromEntries(
    Object.entries(evaluated.Outputs).map(([k, o]) => [
      k,
      { value: String(o.Value), ...(o.Description ? { description: o.Description } : {}) },
    ]),
  );
  return { stackName: opts.stackName, account, region, resources: resolved, outputs, physical };
}

import {
  type AwsCall,
  type AwsRequest,
  type ConditionValue,
  type DescribeContext,
  jsonBody,
  partitionOf,
  queryParams,
  targetOperation,
  UndescribableRequestError,
} from './awsCall.ts';

/**
 * Secrets Manager (awsJson1_1, `X-Amz-Target: secretsmanager.<Op>`): the action is the operation,
 * on the secret's full ARN (IAM matches the ARN with its random six-character suffix, which is why
 * CDK grants `name-??????`), resolved by the rehearsal from the SecretId (a name or an ARN).
 */
export function describeSecretsManager(request: AwsRequest, ctx: DescribeContext): AwsCall[] {
  const op = targetOperation(request);
  if (!op) throw new UndescribableRequestError('a Secrets Manager request without X-Amz-Target');
  const body = jsonBody(request);
  const secretId =
    typeof body.SecretId === 'string' ? body.SecretId : typeof body.Name === 'string' ? body.Name : undefined;
  const conditions: Record<string, ConditionValue> = { 'aws:RequestedRegion': ctx.region };
  if (secretId) conditions['secretsmanager:SecretId'] = ctx.secretArn(secretId);
  if (typeof body.VersionId === 'string') conditions['secretsmanager:VersionId'] = body.VersionId;
  if (typeof body.VersionStage === 'string') conditions['secretsmanager:VersionStage'] = body.VersionStage;
  if (op === 'CreateSecret' && typeof body.Name === 'string') conditions['secretsmanager:Name'] = body.Name;
  return [
    {
      service: 'secretsmanager',
      operation: op,
      action: `secretsmanager:${op}`,
      resource: secretId ? ctx.secretArn(secretId) : '*',
      conditions,
    },
  ];
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;

/**
 * Lambda (restJson1). Invoke, `POST /2015-03-31/functions/<FunctionName>/invocations`, is
 * lambda:InvokeFunction on the function's ARN, with `:<qualifier>` when Qualifier is given. The
 * FunctionName may be a name, a partial ARN (`<account>:function:<name>`) or a full ARN.
 */
export function describeLambda(request: AwsRequest, ctx: DescribeContext): AwsCall[] {
  const m = INVOKE_PATH.exec(request.path);
  if (!m || request.method.toUpperCase() !== 'POST') {
    throw new UndescribableRequestError(`Lambda ${request.method} ${request.path} is not an Invoke`);
  }
  const name = decodeURIComponent(m[1]!);
  const qualifier = request.query.get('Qualifier');
  const prefix = `arn:${partitionOf(ctx)}:lambda:${ctx.region}:`;
  let arn: string;
  if (name.startsWith('arn:')) arn = name;
  else if (/^\d{12}:function:/.test(name)) arn = `${prefix}${name}`;
  else arn = `${prefix}${ctx.account}:function:${name}`;
  // A qualifier in the name (`name:alias`) and the Qualifier parameter are the same thing.
  const hasQualifier = arn.split(':').length > 7;
  if (qualifier && !hasQualifier) arn = `${arn}:${qualifier}`;
  return [
    {
      service: 'lambda',
      operation: 'Invoke',
      action: 'lambda:InvokeFunction',
      resource: arn,
      conditions: { 'aws:RequestedRegion': ctx.region },
    },
  ];
}

/**
 * CloudFormation (awsQuery: form body `Action=DescribeStacks&StackName=…`). A stack's ARN carries
 * its id (`stack/<name>/<uuid>`), which a name does not give: the rehearsal's stack has the fixed
 * id below. DescribeStacks without a StackName is on `*`.
 */
export const REHEARSAL_STACK_ID = '00000000-0000-4000-8000-000000000000';

export function describeCloudFormation(request: AwsRequest, ctx: DescribeContext): AwsCall[] {
  const { op, params } = queryOrJson(request);
  const stack = params.get('StackName');
  let resource = '*';
  if (stack?.startsWith('arn:')) resource = stack;
  else if (stack)
    resource = `arn:${partitionOf(ctx)}:cloudformation:${ctx.region}:${ctx.account}:stack/${stack}/${REHEARSAL_STACK_ID}`;
  return [
    {
      service: 'cloudformation',
      operation: op,
      action: `cloudformation:${op}`,
      resource,
      conditions: { 'aws:RequestedRegion': ctx.region },
    },
  ];
}

/** STS (awsQuery). GetCallerIdentity needs no permission; the gateway does not evaluate STS calls. */
export function describeSts(request: AwsRequest, ctx: DescribeContext): AwsCall[] {
  const { op } = queryOrJson(request);
  return [
    {
      service: 'sts',
      operation: op,
      action: `sts:${op}`,
      resource: '*',
      conditions: { 'aws:RequestedRegion': ctx.region },
    },
  ];
}

function queryOrJson(request: AwsRequest): { op: string; params: URLSearchParams } {
  const target = targetOperation(request);
  if (target) {
    const body = jsonBody(request);
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(body)) if (typeof v === 'string') params.set(k, v);
    return { op: target, params };
  }
  const params = queryParams(request);
  const op = params.get('Action');
  if (!op) throw new UndescribableRequestError('a query-protocol request without Action');
  return { op, params };
}

import {
  type AwsCall,
  type AwsRequest,
  type DescribeContext,
  jsonBody,
  partitionOf,
  queryParams,
  targetOperation,
  UndescribableRequestError,
} from './awsCall.ts';

/** Operations whose IAM action is another operation's (the batch forms). */
const ACTION_OF: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

/**
 * The IAM call of an SQS request. The SDK (v3.1175) speaks awsJson1_0 (`X-Amz-Target:
 * AmazonSQS.<Op>`); the older query protocol (form body with Action=) is read too. The queue ARN is
 * `arn:aws:sqs:<region>:<account>:<name>`: the name is the last segment of QueueUrl and the account
 * the one before it (or the request's QueueName and the rehearsal's account). Message move tasks
 * name their source queue by ARN (SourceArn), a task handle otherwise (CancelMessageMoveTask: the
 * handle encodes the source ARN, base64). ListQueues has no resource type: `*`.
 */
export function describeSqs(request: AwsRequest, ctx: DescribeContext): AwsCall[] {
  let op = targetOperation(request);
  let params: Record<string, unknown>;
  if (op) {
    params = jsonBody(request);
  } else {
    const form = queryParams(request);
    op = form.get('Action') ?? undefined;
    params = Object.fromEntries(form);
  }
  if (!op) throw new UndescribableRequestError('an SQS request without X-Amz-Target or Action');
  return [
    {
      service: 'sqs',
      operation: op,
      action: `sqs:${ACTION_OF[op] ?? op}`,
      resource: queueResource(op, params, ctx),
      conditions: { 'aws:RequestedRegion': ctx.region },
    },
  ];
}

function queueResource(op: string, params: Record<string, unknown>, ctx: DescribeContext): string {
  const queueUrl = typeof params.QueueUrl === 'string' ? params.QueueUrl : undefined;
  if (queueUrl) return queueArnFromUrl(queueUrl, ctx);
  if (typeof params.QueueName === 'string') {
    const owner =
      typeof params.QueueOwnerAWSAccountId === 'string' ? params.QueueOwnerAWSAccountId : ctx.account;
    return `arn:${partitionOf(ctx)}:sqs:${ctx.region}:${owner}:${params.QueueName}`;
  }
  if (typeof params.SourceArn === 'string') return params.SourceArn;
  if (op === 'CancelMessageMoveTask' && typeof params.TaskHandle === 'string') {
    const decoded = taskHandleSource(params.TaskHandle);
    if (decoded) return decoded;
  }
  return '*';
}

/** `https://sqs.<region>.amazonaws.com/<account>/<name>` (or any host) → the queue's ARN. */
export function queueArnFromUrl(queueUrl: string, ctx: DescribeContext): string {
  let path: string;
  try {
    path = new URL(queueUrl).pathname;
  } catch {
    throw new UndescribableRequestError(`QueueUrl is not a URL: ${queueUrl}`);
  }
  const segments = path.split('/').filter(Boolean);
  const name = segments.at(-1);
  let account = segments.at(-2);
  if (!name || !account) throw new UndescribableRequestError(`QueueUrl has no account and name: ${queueUrl}`);
  if (ctx.emulatorAccounts?.includes(account)) account = ctx.account;
  return `arn:${partitionOf(ctx)}:sqs:${ctx.region}:${account}:${decodeURIComponent(name)}`;
}

/** A message move task handle is base64 JSON with the source queue's ARN (as AWS issues them). */
function taskHandleSource(handle: string): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(handle, 'base64').toString('utf8')) as { sourceArn?: unknown };
    return typeof parsed.sourceArn === 'string' ? parsed.sourceArn : undefined;
  } catch {
    return undefined;
  }
}

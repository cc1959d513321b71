/**
 * What one AWS API request asks IAM for: the action(s), the resource ARN(s) and the request's
 * condition keys, as AWS's authorization would see them. One request can be several calls (a
 * BatchGetItem on two tables, a TransactWriteItems, a DeleteObjects of many keys): IAM checks
 * each, and the request fails if any is denied.
 */

/** The services the rehearsal's gateway routes; the SigV4 credential scope's service name. */
export type AwsService = 'dynamodb' | 'sqs' | 's3' | 'secretsmanager' | 'lambda' | 'cloudformation' | 'sts';

export const AWS_SERVICES: readonly AwsService[] = [
  'dynamodb',
  'sqs',
  's3',
  'secretsmanager',
  'lambda',
  'cloudformation',
  'sts',
];

/** A raw HTTP request as it reached the gateway (body unparsed, exactly as sent). */
export interface AwsRequest {
  readonly method: string;
  /** The path without the query string, still percent-encoded. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
}

export type ConditionValue = string | string[];

export interface AwsCall {
  readonly service: AwsService;
  /** The API operation (PutItem, SendMessageBatch…), for the report. */
  readonly operation: string;
  /** The IAM action, `service:Action` as written in policies. */
  readonly action: string;
  /** The resource ARN, or `*` for actions without a resource type (ListQueues). */
  readonly resource: string;
  /** Request condition keys (service keys, aws:SecureTransport, aws:RequestedRegion). */
  readonly conditions: Readonly<Record<string, ConditionValue>>;
}

/** A DynamoDB table's partition keys, to read `dynamodb:LeadingKeys` from a request. */
export interface TableKeys {
  readonly partitionKey: string;
  /** Index name → the index's partition key attribute. */
  readonly indexes?: Readonly<Record<string, string>>;
}

export interface DescribeContext {
  /** The account of every resource (the rehearsal's fixed fake account). */
  readonly account: string;
  /** The request's region (from the SigV4 credential scope). */
  readonly region: string;
  readonly partition?: string;
  /** Table name → key schema; a table missing here yields no LeadingKeys (and is reported). */
  readonly tables: Readonly<Record<string, TableKeys>>;
  /** The secret's full ARN (with its six-character suffix) for a SecretId (name or ARN). */
  readonly secretArn: (secretId: string) => string;
  /**
   * Accounts the emulators put in queue URLs (fauxqs answers 000000000000 whatever the account);
   * a queue URL with one of them stands for `account`.
   */
  readonly emulatorAccounts?: readonly string[];
}

/** Thrown for a request the describer cannot read (malformed body): the gateway denies it. */
export class UndescribableRequestError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'UndescribableRequestError';
  }
}

export function partitionOf(ctx: DescribeContext): string {
  return ctx.partition ?? 'aws';
}

/** Parses a JSON protocol body; an empty body is `{}` (the SDK sends `{}` at least). */
export function jsonBody(request: AwsRequest): Record<string, unknown> {
  if (request.body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(request.body.toString('utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  throw new UndescribableRequestError('the request body is not a JSON object');
}

/** The operation of an awsJson request: `X-Amz-Target: <prefix>.<Operation>`. */
export function targetOperation(request: AwsRequest): string | undefined {
  const target = request.headers['x-amz-target'];
  if (!target) return undefined;
  const dot = target.lastIndexOf('.');
  return dot >= 0 ? target.slice(dot + 1) : target;
}

/** The parameters of an awsQuery request (form-encoded body, or the query string for GET). */
export function queryParams(request: AwsRequest): URLSearchParams {
  const params = new URLSearchParams(request.query);
  const type = request.headers['content-type'] ?? '';
  if (type.includes('x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(request.body.toString('utf8'))) params.append(k, v);
  }
  return params;
}

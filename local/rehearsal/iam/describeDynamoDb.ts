import {
  type AwsCall,
  type AwsRequest,
  type ConditionValue,
  type DescribeContext,
  jsonBody,
  partitionOf,
  type TableKeys,
  targetOperation,
  UndescribableRequestError,
} from './awsCall.ts';

/**
 * The IAM calls of a DynamoDB request (awsJson1_0, `X-Amz-Target: DynamoDB_20120810.<Op>`).
 *
 * `dynamodb:LeadingKeys` is the set of partition key values the request touches, on the table or,
 * for a Query with IndexName, on the index's partition key. It is absent where AWS does not set it:
 * a Scan touches no particular partition, and the service authorization reference lists no
 * LeadingKeys for Scan. IAM's rule for a key absent from the request: `ForAllValues:*` holds (an
 * empty set is a subset of anything), `ForAnyValue:*` fails, and `Null: {key: "false"}` fails.
 * So a statement that only says `ForAllValues:StringLike` on LeadingKeys also grants a whole-table
 * Scan if it lists dynamodb:Scan; infra/tableAccess.ts adds the `Null` test for that reason.
 * BatchWriteItem does carry LeadingKeys (all put and delete keys of the table), checked as one
 * dynamodb:BatchWriteItem call per table, as are BatchGetItem's per table.
 *
 * dynamodb:Attributes is set only where it is cheap and complete: PutItem's item attributes and
 * the ProjectionExpression/AttributesToGet of reads. Elsewhere it is absent, which a
 * `ForAllValues` condition on it would pass: no policy of ours conditions on it.
 */
export function describeDynamoDb(request: AwsRequest, ctx: DescribeContext): AwsCall[] {
  const op = targetOperation(request);
  if (!op) throw new UndescribableRequestError('a DynamoDB request without X-Amz-Target');
  const body = jsonBody(request);
  const tableArn = (table: string): string =>
    `arn:${partitionOf(ctx)}:dynamodb:${ctx.region}:${ctx.account}:table/${table}`;
  const call = (
    action: string,
    resource: string,
    conditions: Record<string, ConditionValue | undefined>,
  ): AwsCall => ({
    service: 'dynamodb',
    operation: op,
    action: `dynamodb:${action}`,
    resource,
    conditions: withoutEmpty(conditions),
  });
  const common = (req: Record<string, unknown>): Record<string, ConditionValue | undefined> => ({
    'dynamodb:ReturnValues': str(req.ReturnValues),
    'dynamodb:ReturnConsumedCapacity': str(body.ReturnConsumedCapacity),
  });

  switch (op) {
    case 'GetItem':
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem': {
      const table = tableName(body);
      const item = (op === 'PutItem' ? body.Item : body.Key) as Record<string, unknown> | undefined;
      return [
        call(op, tableArn(table), {
          ...common(body),
          'dynamodb:LeadingKeys': leadingKeys(ctx, table, [item]),
          'dynamodb:Attributes': op === 'PutItem' ? Object.keys(item ?? {}) : projected(body),
          'dynamodb:Select': undefined,
        }),
      ];
    }
    case 'Query': {
      const table = tableName(body);
      const index = str(body.IndexName);
      const resource = index ? `${tableArn(table)}/index/${index}` : tableArn(table);
      const key = partitionKeyAttribute(ctx, table, index);
      const value = key === undefined ? undefined : queryPartitionValue(body, key);
      return [
        call(op, resource, {
          ...common(body),
          'dynamodb:LeadingKeys': value === undefined ? undefined : [value],
          'dynamodb:Attributes': projected(body),
          'dynamodb:Select': str(body.Select),
        }),
      ];
    }
    case 'Scan': {
      const table = tableName(body);
      const index = str(body.IndexName);
      const resource = index ? `${tableArn(table)}/index/${index}` : tableArn(table);
      return [
        call(op, resource, {
          ...common(body),
          'dynamodb:Attributes': projected(body),
          'dynamodb:Select': str(body.Select),
        }),
      ];
    }
    case 'BatchGetItem': {
      const requests = (body.RequestItems ?? {}) as Record<
        string,
        { Keys?: Record<string, unknown>[] } & Record<string, unknown>
      >;
      return Object.entries(requests).map(([table, r]) =>
        call(op, tableArn(table), {
          'dynamodb:ReturnConsumedCapacity': str(body.ReturnConsumedCapacity),
          'dynamodb:LeadingKeys': leadingKeys(ctx, table, r.Keys ?? []),
          'dynamodb:Attributes': projected(r),
        }),
      );
    }
    case 'BatchWriteItem': {
      const requests = (body.RequestItems ?? {}) as Record<
        string,
        {
          PutRequest?: { Item?: Record<string, unknown> };
          DeleteRequest?: { Key?: Record<string, unknown> };
        }[]
      >;
      return Object.entries(requests).map(([table, writes]) =>
        call(op, tableArn(table), {
          'dynamodb:ReturnConsumedCapacity': str(body.ReturnConsumedCapacity),
          'dynamodb:LeadingKeys': leadingKeys(
            ctx,
            table,
            writes.map((w) => w.PutRequest?.Item ?? w.DeleteRequest?.Key),
          ),
        }),
      );
    }
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const items = (body.TransactItems ?? []) as Record<string, Record<string, unknown>>[];
      return items.flatMap((entry) =>
        Object.entries(entry).map(([kind, req]) => {
          const action = TRANSACT_ACTIONS[kind];
          if (!action) throw new UndescribableRequestError(`unknown ${op} entry ${kind}`);
          const table = tableName(req);
          const item = (kind === 'Put' ? req.Item : req.Key) as Record<string, unknown> | undefined;
          return call(action, tableArn(table), {
            'dynamodb:LeadingKeys': leadingKeys(ctx, table, [item]),
            'dynamodb:EnclosingOperation': op,
            'dynamodb:ReturnValues': str(req.ReturnValuesOnConditionCheckFailure),
            'dynamodb:Attributes': kind === 'Put' ? Object.keys(item ?? {}) : undefined,
          });
        }),
      );
    }
    default: {
      // DescribeTable, CreateTable, UpdateTimeToLive…: the action is the operation, on the table.
      const table = str(body.TableName);
      return [call(op, table ? tableArn(table) : '*', {})];
    }
  }
}

const TRANSACT_ACTIONS: Record<string, string> = {
  ConditionCheck: 'ConditionCheckItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  Get: 'GetItem',
};

function tableName(req: Record<string, unknown>): string {
  const name = str(req.TableName);
  if (!name) throw new UndescribableRequestError('a DynamoDB request without TableName');
  // A table ARN is accepted in TableName too; the name is its last segment.
  return name.startsWith('arn:') ? name.slice(name.indexOf(':table/') + ':table/'.length) : name;
}

function partitionKeyAttribute(ctx: DescribeContext, table: string, index?: string): string | undefined {
  const keys: TableKeys | undefined = ctx.tables[table];
  if (!keys) return undefined;
  return index ? keys.indexes?.[index] : keys.partitionKey;
}

/** The partition key values of the items or keys given, in order and without repeats. */
function leadingKeys(
  ctx: DescribeContext,
  table: string,
  items: readonly (Record<string, unknown> | undefined)[],
): string[] | undefined {
  const key = partitionKeyAttribute(ctx, table);
  if (key === undefined) return undefined;
  const values = items
    .map((item) => attributeString(item?.[key]))
    .filter((v): v is string => v !== undefined);
  return [...new Set(values)];
}

/**
 * The value a Query binds to the partition key: `<key> = :v` (or `:v = <key>`) in
 * KeyConditionExpression, with #names resolved, or the legacy KeyConditions EQ.
 */
function queryPartitionValue(body: Record<string, unknown>, key: string): string | undefined {
  const expression = str(body.KeyConditionExpression);
  if (expression) {
    const names = (body.ExpressionAttributeNames ?? {}) as Record<string, string>;
    const values = (body.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
    const resolve = (token: string): string => (token.startsWith('#') ? (names[token] ?? token) : token);
    for (const m of expression.matchAll(/([#:]?[\w.-]+)\s*=\s*([#:]?[\w.-]+)/g)) {
      const [left, right] = [m[1]!, m[2]!];
      if (right.startsWith(':') && resolve(left) === key) return attributeString(values[right]);
      if (left.startsWith(':') && resolve(right) === key) return attributeString(values[left]);
    }
    return undefined;
  }
  const conditions = body.KeyConditions as
    | Record<string, { ComparisonOperator?: string; AttributeValueList?: unknown[] }>
    | undefined;
  const eq = conditions?.[key];
  return eq?.ComparisonOperator === 'EQ' ? attributeString(eq.AttributeValueList?.[0]) : undefined;
}

/** The top-level attribute names a read asks for, when it names them. */
function projected(req: Record<string, unknown>): string[] | undefined {
  if (Array.isArray(req.AttributesToGet)) return req.AttributesToGet as string[];
  const expression = str(req.ProjectionExpression);
  if (!expression) return undefined;
  const names = (req.ExpressionAttributeNames ?? {}) as Record<string, string>;
  return [
    ...new Set(
      expression.split(',').map((path) => {
        const top = path.trim().split(/[.[]/)[0]!;
        return top.startsWith('#') ? (names[top] ?? top) : top;
      }),
    ),
  ];
}

/** A key attribute's value as IAM compares it: the string of an S, N or B (base64) value. */
function attributeString(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as { S?: string; N?: string; B?: string };
  return v.S ?? v.N ?? v.B;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function withoutEmpty(
  conditions: Record<string, ConditionValue | undefined>,
): Record<string, ConditionValue> {
  const out: Record<string, ConditionValue> = {};
  for (const [k, v] of Object.entries(conditions)) if (v !== undefined) out[k] = v;
  return out;
}

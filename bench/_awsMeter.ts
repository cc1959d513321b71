import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Counts what AWS would bill for the calls made through a set of SDK clients: DynamoDB read and
 * write request units as DynamoDB itself reports them (every call asks ReturnConsumedCapacity
 * INDEXES, so index writes are counted apart from the table's), SQS requests in 64 KB chunks, S3
 * requests. DynamoDB Local reports consumed capacity as AWS does (index writes included); dynalite
 * reports no index writes and wrong batch reads, so the cost bench runs on DynamoDB Local.
 */
export interface MeterCounts {
  /** DynamoDB requests by operation (GetItem, UpdateItem, …). */
  ddbRequests: Record<string, number>;
  /** Read request units (table and indexes). */
  rru: number;
  /** Write request units of the tables. */
  tableWru: number;
  /** Write request units of the global secondary indexes, by index. */
  indexWru: Record<string, number>;
  /**
   * Conditional writes whose condition failed: DynamoDB bills them (at least 1 WRU each) but
   * reports no consumed capacity with the error; counted at 1 WRU (our items are under 1 KB).
   */
  failedConditionalWrites: number;
  /**
   * Request units (read and write, indexes included) by `<operation> <table> <item kind>`: where
   * the units go. The kind comes from the keys' `pk` (`link`, `health`, `rate`, `pair`, …; `mixed`
   * for a batch of several kinds), so that the link protocol's units show apart from the
   * bookkeeping around it.
   */
  unitsByCall: Record<string, number>;
  /** Requests by the same `<operation> <table> <item kind>` (failed conditional writes included). */
  requestsByCall: Record<string, number>;
  sqsRequests: Record<string, number>;
  /** SQS requests as billed: every 64 KB of a request's payload is one request. Empty receives apart. */
  sqsBilled: number;
  /**
   * ReceiveMessage calls that returned nothing: the local poller's idle polling, which is not how
   * Lambda's event source mapping polls (priced apart, from prices.json's awsBehaviour).
   */
  sqsEmptyReceives: number;
  s3Requests: Record<string, number>;
}

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const CAPACITY = new Set([
  ...READS,
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);

export function emptyCounts(): MeterCounts {
  return {
    ddbRequests: {},
    rru: 0,
    tableWru: 0,
    indexWru: {},
    failedConditionalWrites: 0,
    unitsByCall: {},
    requestsByCall: {},
    sqsRequests: {},
    sqsBilled: 0,
    sqsEmptyReceives: 0,
    s3Requests: {},
  };
}

/** Sum of the write units a snapshot counts: tables, indexes and failed conditions. */
export function totalWru(c: MeterCounts): number {
  return c.tableWru + Object.values(c.indexWru).reduce((a, b) => a + b, 0) + c.failedConditionalWrites;
}

export function ddbRequestCount(c: MeterCounts): number {
  return Object.values(c.ddbRequests).reduce((a, b) => a + b, 0);
}

/** b − a, field by field. */
export function diffCounts(b: MeterCounts, a: MeterCounts): MeterCounts {
  const sub = (x: Record<string, number>, y: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(x)
        .map(([k, v]) => [k, v - (y[k] ?? 0)] as const)
        .filter(([, v]) => v !== 0),
    );
  return {
    ddbRequests: sub(b.ddbRequests, a.ddbRequests),
    rru: b.rru - a.rru,
    tableWru: b.tableWru - a.tableWru,
    indexWru: sub(b.indexWru, a.indexWru),
    failedConditionalWrites: b.failedConditionalWrites - a.failedConditionalWrites,
    unitsByCall: sub(b.unitsByCall, a.unitsByCall),
    requestsByCall: sub(b.requestsByCall, a.requestsByCall),
    sqsRequests: sub(b.sqsRequests, a.sqsRequests),
    sqsBilled: b.sqsBilled - a.sqsBilled,
    sqsEmptyReceives: b.sqsEmptyReceives - a.sqsEmptyReceives,
    s3Requests: sub(b.s3Requests, a.s3Requests),
  };
}

interface Capacity {
  TableName?: string;
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
  CapacityUnits?: number;
}

const bump = (m: Record<string, number>, k: string, n = 1) => {
  m[k] = (m[k] ?? 0) + n;
};

const op = (commandName: unknown) => String(commandName).replace(/Command$/, '');

/**
 * What an item is, from its key: `~<kind>#…` for the link table's bookkeeping items (the health
 * item's `auth` and `redrive` apart from its buckets), a link otherwise; the state table's sort key.
 */
function itemKind(key: { pk?: { S?: string }; sk?: { S?: string } } | undefined): string {
  const pk = key?.pk?.S;
  if (pk === undefined) return '?';
  if (key?.sk?.S !== undefined) return key.sk.S.split('#')[0]!;
  if (!pk.startsWith('~')) return 'link';
  const parts = pk.slice(1).split('#');
  const last = parts.at(-1)!;
  return last === 'auth' || last === 'redrive' ? `${parts[0]} ${last}` : parts[0]!;
}

/** The kinds of items a request's keys name (one for a single-item call). */
type KeyAttrs = { pk?: { S?: string }; sk?: { S?: string } };

function keysKind(input: {
  Key?: KeyAttrs;
  Item?: KeyAttrs;
  RequestItems?: Record<string, { Keys?: KeyAttrs[] } | unknown[]>;
}): string {
  if (input.Key || input.Item) return itemKind(input.Key ?? input.Item);
  const kinds = new Set<string>();
  for (const req of Object.values(input.RequestItems ?? {})) {
    if (Array.isArray(req)) {
      for (const w of req as { PutRequest?: { Item?: KeyAttrs }; DeleteRequest?: { Key?: KeyAttrs } }[])
        kinds.add(itemKind(w.PutRequest?.Item ?? w.DeleteRequest?.Key));
    } else for (const k of req.Keys ?? []) kinds.add(itemKind(k));
  }
  return kinds.size === 1 ? [...kinds][0]! : kinds.size === 0 ? '?' : 'mixed';
}

/** UTF-8 bytes of an SQS payload: bodies and message attributes. */
function sqsPayloadBytes(
  messages: readonly { MessageBody?: string; Body?: string; MessageAttributes?: object }[],
): number {
  let n = 0;
  for (const m of messages) {
    n += Buffer.byteLength(m.MessageBody ?? m.Body ?? '', 'utf8');
    if (m.MessageAttributes) n += Buffer.byteLength(JSON.stringify(m.MessageAttributes), 'utf8');
  }
  return n;
}

export class AwsMeter {
  public readonly counts: MeterCounts = emptyCounts();

  public snapshot(): MeterCounts {
    return structuredClone(this.counts);
  }

  /**
   * @param opts.ignoreSqs SQS operations not to count: calls only the local harness makes on
   *   these clients (LocalStack.drain's GetQueueAttributes), which no handler does on AWS.
   */
  public attach(
    clients: { ddb: DynamoDBClient; sqs: SQSClient; s3?: S3Client },
    opts: { ignoreSqs?: readonly string[] } = {},
  ): void {
    const c = this.counts;
    const ignoredSqs = new Set(opts.ignoreSqs ?? []);
    clients.ddb.middlewareStack.add(
      (next, context) => async (args) => {
        const name = op(context.commandName);
        const input = args.input as { ReturnConsumedCapacity?: string } & Parameters<typeof keysKind>[0];
        const kind = keysKind(input);
        if (CAPACITY.has(name)) input.ReturnConsumedCapacity = 'INDEXES';
        bump(c.ddbRequests, name);
        bump(
          c.requestsByCall,
          `${name} ${String((input as { TableName?: string }).TableName ?? Object.keys(input.RequestItems ?? {})[0] ?? '?')} ${kind}`,
        );
        try {
          const out = await next(args);
          const consumed = (out.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
          for (const cap of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
            const table = cap.Table?.CapacityUnits ?? cap.CapacityUnits ?? 0;
            bump(c.unitsByCall, `${name} ${cap.TableName ?? '?'} ${kind}`, cap.CapacityUnits ?? table);
            if (READS.has(name)) {
              c.rru += cap.CapacityUnits ?? table;
              continue;
            }
            c.tableWru += table;
            for (const [index, v] of Object.entries(cap.GlobalSecondaryIndexes ?? {})) {
              bump(c.indexWru, index, v.CapacityUnits ?? 0);
            }
          }
          return out;
        } catch (err) {
          if ((err as Error).name === 'ConditionalCheckFailedException') c.failedConditionalWrites++;
          throw err;
        }
      },
      { step: 'initialize', name: 'wbCostMeter' },
    );
    clients.sqs.middlewareStack.add(
      (next, context) => async (args) => {
        const name = op(context.commandName);
        if (ignoredSqs.has(name)) return next(args);
        const input = args.input as { Entries?: { MessageBody?: string }[]; MessageBody?: string };
        const sent = input.Entries ? sqsPayloadBytes(input.Entries) : sqsPayloadBytes([input]);
        const out = await next(args);
        const messages = (out.output as { Messages?: { Body?: string }[] }).Messages ?? [];
        if (name === 'ReceiveMessage' && messages.length === 0) {
          c.sqsEmptyReceives++;
          return out;
        }
        bump(c.sqsRequests, name);
        const received = sqsPayloadBytes(messages);
        c.sqsBilled += Math.max(1, Math.ceil(Math.max(sent, received) / 65_536));
        return out;
      },
      { step: 'initialize', name: 'wbCostMeter' },
    );
    clients.s3?.middlewareStack.add(
      (next, context) => async (args) => {
        bump(c.s3Requests, op(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'wbCostMeter' },
    );
  }
}

import { z } from 'zod';
import { parseDuration } from './duration.ts';
import { isScheduleExpression } from './schedule.ts';

/** A source row as read from Postgres: column name → value. */
export type Row = Record<string, unknown>;
/** A target record as produced by `map`: field name → value (null clears the field). */
export type Payload = Record<string, unknown>;

/** What `map` receives besides the row. */
export interface MapContext {
  readonly sync: string;
}
export type MapFn = (row: Row, ctx: MapContext) => Payload;

const Duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const seconds = parseDuration(v);
  if (seconds === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration like 30s, 5m, 2h or 1d, got ${JSON.stringify(v)}`,
    });
    return z.NEVER;
  }
  return seconds;
});

const Identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'expected a plain column name (letters, digits, _)');
const QualifiedName = z
  .string()
  .regex(/^([A-Za-z_][A-Za-z0-9_$]*\.)?[A-Za-z_][A-Za-z0-9_$]*$/, 'expected schema.table');

export const SourceSchema = z
  .object({
    /** Table or view to read, `schema.name`. Exactly one of table/query. */
    table: QualifiedName.optional(),
    /** SQL query to read (a join, a filtered view); wrapped as a subquery. */
    query: z.string().min(1).optional(),
    /** Unique key column(s) of the source. */
    key: z.union([Identifier, z.array(Identifier).min(1)]).transform((k) => (Array.isArray(k) ? k : [k])),
    /** Monotonic column that changes whenever the row changes (ELT load time, updated_at, a sequence). */
    cursor: Identifier,
    /** Re-read this window behind the bookmark to catch late-committing transactions. @default 0 */
    lookback: Duration.default(0),
    /** Only read rows whose cursor is older than now() - settle. @default 0 */
    settle: Duration.default(0),
    /** Extra SQL filter, ANDed into every read. */
    where: z.string().min(1).optional(),
    /** Rows per keyset page. @default 1000 */
    pageSize: z.number().int().min(1).max(10_000).default(1000),
  })
  .strict()
  .superRefine((s, ctx) => {
    if ((s.table === undefined) === (s.query === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of table or query', path: ['table'] });
    }
  });

export const TargetSchema = z
  .object({
    /** Name of an entry in `connections`. */
    connection: z.string().min(1),
    /** Target object: a HubSpot object type (contacts), a Postgres table (schema.table)… */
    object: z.string().min(1),
    /** Target field that holds our external id (HubSpot idProperty, Postgres conflict column). */
    externalId: z.string().min(1).optional(),
  })
  .strict();

export const VerifySchema = z
  .object({
    /** Warehouse table holding the target's copy, loaded back by ELT (`hubspot.contacts`). Without it, the target API is listed. */
    table: QualifiedName.optional(),
    /** Column of that table holding our external id. @default the target's externalId */
    externalIdColumn: Identifier.optional(),
    /** Column holding the target's own id (for "link to nothing" findings). */
    targetIdColumn: Identifier.optional(),
    /** Load time of each copied record: a record loaded before we last wrote it is not drift. */
    loadedAtColumn: Identifier.optional(),
    /** Mapped fields to compare and the copy's column for each. @default every mapped field, same name */
    fields: z.record(z.string(), Identifier).optional(),
    /** Schedule of the verify function. @default rate(1 day) */
    schedule: z
      .string()
      .refine(isScheduleExpression, 'expected rate(N minutes|hours|days), cron(6 fields) or at(...)')
      .default('rate(1 day)'),
  })
  .strict();

export const SyncSchema = z
  .object({
    /** Unique name; used in resource names, so lowercase letters, digits and dashes. */
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,39}$/, 'lowercase letters, digits and -, at most 40 characters'),
    /** EventBridge Scheduler expression. @default rate(15 minutes) */
    schedule: z
      .string()
      .refine(isScheduleExpression, 'expected rate(N minutes|hours|days), cron(6 fields) or at(...)')
      .default('rate(15 minutes)'),
    /** A disabled sync keeps its state but does not run. @default true */
    enabled: z.boolean().default(true),
    source: SourceSchema,
    target: TargetSchema,
    map: z.custom<MapFn>((v) => typeof v === 'function', 'expected a function (row) => record'),
    /** Records per target call; capped by the connector's own limit. */
    batchSize: z.number().int().min(1).max(10_000).optional(),
    /** Max concurrent writer invocations for this sync (SQS event source maximum concurrency). @default 2 */
    concurrency: z.number().int().min(2).max(1000).default(2),
    /** Deliveries before SQS moves a record to the DLQ. @default 10 */
    maxReceiveCount: z.number().int().min(1).max(1000).default(10),
    /** Process at most this many rows per run (for a first supervised run). */
    testLimit: z.number().int().min(1).optional(),
    /** How `writeback verify` compares the source with the target's copy. */
    verify: VerifySchema.optional(),
  })
  .strict();

const PostgresConnection = z
  .object({
    type: z.literal('postgres'),
    /** Secrets Manager secret (name or ARN) with the connection URL or {host,port,username,password,dbname}. */
    secret: z.string().min(1).optional(),
    /** Connection URL for local use; never put a password here for a deployed stack. */
    url: z.string().min(1).optional(),
  })
  .strict();

const HubSpotConnection = z
  .object({
    type: z.literal('hubspot'),
    /** Secrets Manager secret (name or ARN) holding the private app token. */
    secret: z.string().min(1).optional(),
    /** API base URL. @default https://api.hubapi.com */
    baseUrl: z.url().optional(),
  })
  .strict();

export const ConnectionSchema = z.discriminatedUnion('type', [PostgresConnection, HubSpotConnection]);

export const WarehouseSchema = z
  .object({
    /** Secrets Manager secret (name or ARN) with the DWH connection for the deployed stack. */
    secret: z.string().min(1).optional(),
    /** Connection URL for local use. */
    url: z.string().min(1).optional(),
  })
  .strict();

export const ConfigSchema = z
  .object({
    warehouse: WarehouseSchema.default({}),
    connections: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), ConnectionSchema),
    syncs: z.array(SyncSchema).min(1),
  })
  .strict();

export type SourceConfig = z.output<typeof SourceSchema>;
export type TargetConfig = z.output<typeof TargetSchema>;
export type SyncConfig = z.output<typeof SyncSchema>;
export type VerifyConfig = z.output<typeof VerifySchema>;
export type SyncInput = z.input<typeof SyncSchema>;
export type ConnectionConfig = z.output<typeof ConnectionSchema>;
export type WritebackConfig = z.output<typeof ConfigSchema>;
export type WritebackConfigInput = z.input<typeof ConfigSchema>;

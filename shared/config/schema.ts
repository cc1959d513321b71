import { z } from 'zod';
import type { ConnectorDefinition } from '../connectors/ConnectorDefinition.ts';
import { connectorDefinition, connectorTypes } from '../connectors/registry.ts';
import { PairSchema } from '../pair/pairSchema.ts';
import { parseDuration } from './duration.ts';
import { isScheduleExpression } from './schedule.ts';
import { Identifier, QualifiedName, SqlFragment } from './sqlNames.ts';

/** A source row as read from Postgres: column name → value. */
export type Row = Record<string, unknown>;
/** A target record as produced by `map`: field name → value (null clears the field). */
export type Payload = Record<string, unknown>;

/** What `map` receives besides the row. */
export interface MapContext {
  readonly sync: string;
  /**
   * The parent record, for a sync with `parent`: its source key and its id in the target. The
   * target id is resolved when the record is written (the parent may be written in the same run);
   * use it as a value, do not compute with it.
   */
  readonly parent?: { readonly key: string; readonly targetId: string };
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

/** A relation is read from a table or from a query, never both. */
function tableOrQuery(
  s: { table?: string | undefined; query?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if ((s.table === undefined) === (s.query === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'give exactly one of table or query', path: ['table'] });
  }
}

export const SourceSchema = z
  .object({
    /** Table or view to read, `schema.name`. Exactly one of table/query. */
    table: QualifiedName.optional(),
    /** SQL query to read (a join, a filtered view); wrapped as a subquery. */
    query: SqlFragment.optional(),
    /** Unique key column(s) of the source. */
    key: z.union([Identifier, z.array(Identifier).min(1)]).transform((k) => (Array.isArray(k) ? k : [k])),
    /** Monotonic column that changes whenever the row changes (ELT load time, updated_at, a sequence). */
    cursor: Identifier,
    /** Re-read this window behind the bookmark to catch late-committing transactions. @default 0 */
    lookback: Duration.default(0),
    /** Only read rows whose cursor is older than now() - settle. @default 0 */
    settle: Duration.default(0),
    /**
     * The time zone a `timestamp` (without time zone) or `date` cursor is stamped in, an IANA name.
     * It places the lookback window and the clock's upper bound. @default 'UTC'
     */
    timeZone: z
      .string()
      .refine(isTimeZone, 'expected an IANA time zone such as UTC or Europe/Amsterdam')
      .default('UTC'),
    /** Extra SQL filter, ANDed into every read. */
    where: SqlFragment.optional(),
    /** Rows per keyset page. @default 1000 */
    pageSize: z.number().int().min(1).max(10_000).default(1000),
  })
  .strict()
  .superRefine(tableOrQuery);

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const NullSemantics = z.enum(['clear', 'keep']);

export const TargetSchema = z
  .object({
    /** Name of an entry in `connections`. */
    connection: z.string().min(1),
    /** Target object: a HubSpot object type (contacts), a Postgres table (schema.table)… */
    object: z.string().min(1),
    /** Target field that holds our external id (HubSpot idProperty, Postgres conflict column). */
    externalId: z.string().min(1).optional(),
    /**
     * Associated children (HubSpot line items ↔ deals): after the upsert, associate each record
     * with its parent (`parent` of the sync) in the target; `with` is the parent's object type.
     * Idempotent; the associated parent id is kept in the link.
     */
    associate: z
      .object({
        with: z.string().min(1),
        types: z
          .array(
            z
              .object({
                category: z.enum(['HUBSPOT_DEFINED', 'USER_DEFINED', 'INTEGRATOR_DEFINED']),
                typeId: z.number().int(),
              })
              .strict(),
          )
          .optional(),
      })
      .strict()
      .optional(),
    /**
     * What a mapped `null` does: `clear` empties the target field, `keep` leaves the target's value
     * untouched; one rule, or a default plus per-field rules. A field map() leaves out is never
     * touched. @default 'clear'
     */
    nulls: z
      .union([
        NullSemantics,
        z.object({ default: NullSemantics, fields: z.record(z.string(), NullSemantics).optional() }).strict(),
      ])
      .default('clear'),
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
    /**
     * Mapped fields to compare and the copy's column for each; a dotted path reaches into a nested
     * payload (`Contact.ContactID`). @default every top-level mapped field, same name
     */
    fields: z.record(z.string(), Identifier).optional(),
    /**
     * Associated children (`target.associate`): the column of `table` holding the target id of the
     * parent record each child is associated with, as ELT tools load associations (one id, or a JSON
     * array of ids). Verify then compares associations in SQL; without it, it reads them from the
     * target API in batches.
     */
    parentColumn: Identifier.optional(),
    /** Schedule of the verify function. @default rate(1 day) */
    schedule: z
      .string()
      .refine(isScheduleExpression, 'expected rate(N minutes|hours|days), cron(6 fields) or at(...)')
      .default('rate(1 day)'),
  })
  .strict();

export const ParentSchema = z
  .object({
    /** The parent sync; its records are written first and their target ids handed to this sync's map(). */
    sync: z.string().min(1),
    /** Column of this sync's source holding the parent's source key. */
    key: Identifier,
  })
  .strict();

export const ChildrenSchema = z
  .object({
    /** Property of the row that map() receives the child rows in (`row.lines`). */
    as: Identifier,
    /** Child table, `schema.table`. */
    table: QualifiedName,
    /** Column of the child table holding the parent's key. */
    foreignKey: Identifier,
    /** Child rows arrive in this order (a stable order keeps the parent's hash stable). */
    orderBy: z.union([Identifier, z.array(Identifier).min(1)]).transform((k) => (Array.isArray(k) ? k : [k])),
    /** Cursor of the child table: a changed child re-sends its whole parent. */
    cursor: Identifier.optional(),
    /**
     * SQL filter on the child rows embedded, e.g. `not _deleted`. ELT tools mark deleted rows and
     * move their cursor, which re-sends the parent without them; a hard delete shows when the
     * parent or another of its children next changes.
     */
    where: SqlFragment.optional(),
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
    /** IANA time zone of a cron/at schedule (`Europe/London`). @default UTC */
    timezone: z
      .string()
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'expected an IANA time zone such as Europe/London')
      .optional(),
    /** Let EventBridge Scheduler start the run anywhere in this window after the tick (spreads load). @default off */
    flexibleWindow: Duration.refine((s) => s >= 60 && s <= 86400, 'expected between 1m and 24h').optional(),
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
    /** This sync's records reference records of another sync (invoice → contact). */
    parent: ParentSchema.optional(),
    /** Child rows embedded in each record (invoice lines in the invoice), read by the parent's key. */
    children: z.array(ChildrenSchema).optional(),
    /**
     * Deletes, off by default: a row whose soft-delete column is set (not null, not false) is
     * deleted or archived in the target, only if this integration wrote it (found through the links).
     */
    deletes: z
      .object({
        /** The soft-delete column (`deleted_at`, `_fivetran_deleted`, `is_deleted`). Exactly one of column/keys. */
        column: Identifier.optional(),
        /**
         * Or a log of deleted keys (rows removed outright): a table or query with the source's key
         * column(s) and a cursor, read incrementally after its own bookmark. A key deleted there and
         * absent from the source deletes its record.
         */
        keys: z
          .object({
            table: QualifiedName.optional(),
            query: SqlFragment.optional(),
            /** When the key was deleted (or its row loaded): the log is read in its order. */
            cursor: Identifier,
          })
          .strict()
          .superRefine(tableOrQuery)
          .optional(),
        /** Most deletes one run may act on (rows marked, or keys logged, since the bookmark); more stop the run before anything is deleted. @default 100 */
        maxPerRun: z.number().int().min(1).default(100),
      })
      .strict()
      .superRefine((d, ctx) => {
        if ((d.column === undefined) === (d.keys === undefined)) {
          ctx.addIssue({
            code: 'custom',
            message: 'give exactly one of column (a soft-delete column) or keys (a log of deleted keys)',
            path: ['column'],
          });
        }
      })
      .optional(),
    /** One direction of a two-way pair (made by defineTwoWay, not written by hand). */
    pair: PairSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.verify?.parentColumn === undefined) return;
    // The column is read from the warehouse copy, and holds the parent a child is associated with.
    if (!s.verify.table) {
      ctx.addIssue({
        code: 'custom',
        message: 'needs verify.table: it names a column of the warehouse copy of the target',
        path: ['verify', 'parentColumn'],
      });
    }
    if (!s.target.associate) {
      ctx.addIssue({
        code: 'custom',
        message:
          'only for a sync with target.associate (its records are associated with their parent in the target)',
        path: ['verify', 'parentColumn'],
      });
    }
  });

/**
 * A connection: `type` names its connector, whose definition (shared/connectors/<type>/, or the
 * user's own in `connectors`) holds the schema of the rest; its problems are reported under the
 * connection's path like any other.
 */
export const ConnectionSchema = z
  .looseObject({
    /** The connector: postgres, hubspot, xero, salesforce, stripe, or the type of one in `connectors`. */
    type: z.string().min(1),
    /** Secrets Manager secret (name or ARN) with the connection's credentials. */
    secret: z.string().min(1).optional(),
  })
  .transform((connection, ctx): ConnectionConfig => {
    const definition = connectorDefinition(connection.type);
    if (!definition) {
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message: `unknown connector '${connection.type}' (known: ${connectorTypes().join(', ')}); a connector of your own goes in \`connectors\` (defineConnector)`,
      });
      return z.NEVER;
    }
    const parsed = definition.connection.safeParse(connection);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue });
      return z.NEVER;
    }
    return parsed.data as ConnectionConfig;
  });

/** A connector of the user's own (defineConnector), for connections to name by its type. */
const ConnectorDefinitionSchema = z.custom<ConnectorDefinition>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as ConnectorDefinition).type === 'string' &&
    typeof (v as ConnectorDefinition).create === 'function',
  'expected a connector made with defineConnector({...})',
);

export const WarehouseSchema = z
  .object({
    /** Secrets Manager secret (name or ARN) with the DWH connection for the deployed stack. */
    secret: z.string().min(1).optional(),
    /**
     * Secrets Manager secret (name or ARN) of a second warehouse user that owns only the `writeback`
     * schema: the verify function writes its exports (links, runs, findings, operator actions) with
     * it, so `secret` can stay read-only. Without it, verification writes with `secret`'s user and
     * `cdk synth` warns.
     */
    writerSecret: z.string().min(1).optional(),
    /** Connection URL for local use. */
    url: z.string().min(1).optional(),
  })
  .strict();

export const ConfigSchema = z
  .object({
    warehouse: WarehouseSchema.default({}),
    /** Connectors of your own (defineConnector), for connections to name by their type. */
    connectors: z.array(ConnectorDefinitionSchema).optional(),
    connections: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), ConnectionSchema),
    syncs: z.array(SyncSchema).min(1),
  })
  .strict();

export type SourceConfig = z.output<typeof SourceSchema>;
export type TargetConfig = z.output<typeof TargetSchema>;
export type SyncConfig = z.output<typeof SyncSchema>;
export type VerifyConfig = z.output<typeof VerifySchema>;
export type ChildrenConfig = z.output<typeof ChildrenSchema>;
export type SyncInput = z.input<typeof SyncSchema>;
/**
 * A connection as its connector's schema parsed it: `type`, `secret`, and the connector's own
 * fields (each definition types them for its factory).
 */
export interface ConnectionConfig {
  readonly type: string;
  readonly secret?: string | undefined;
  readonly [field: string]: unknown;
}
export type WritebackConfig = z.output<typeof ConfigSchema>;
export type WritebackConfigInput = z.input<typeof ConfigSchema>;

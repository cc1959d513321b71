import { z } from 'zod';

const Method = z.enum(['GET', 'POST', 'PUT', 'PATCH']);
/** A dotted path into a JSON answer (`data.id`); '' is the answer itself. */
const JsonPath = z
  .string()
  .regex(/^([A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*)?$/, 'expected a dotted path like data.id');
/** A path and query appended to baseUrl, with {object}, {externalId} and {targetId} filled in (URL-encoded). */
const UrlTemplate = z
  .string()
  .regex(/^\/[^\s]*$/, 'expected a path starting with /, e.g. /v1/{object}/{externalId}')
  .refine(
    (t) => [...t.matchAll(/\{([^}]*)\}/g)].every((m) => ['object', 'externalId', 'targetId'].includes(m[1]!)),
    'placeholders are {object}, {externalId} and {targetId}',
  );

const Auth = z.discriminatedUnion('kind', [
  /** `Authorization: Bearer <token>` from the secret's `token`. */
  z.object({ kind: z.literal('bearer') }).strict(),
  /** HTTP Basic from the secret's `username` and `password`. */
  z.object({ kind: z.literal('basic') }).strict(),
  /** The secret's `apiKey` (or `token`) in a header of the API's naming. */
  z.object({ kind: z.literal('apiKey'), header: z.string().min(1).default('X-Api-Key') }).strict(),
  /** OAuth 2.0 client credentials (RFC 6749 §4.4): the secret's `clientId`/`clientSecret` at `tokenUrl`. */
  z
    .object({
      kind: z.literal('oauthClientCredentials'),
      tokenUrl: z.url(),
      scope: z.string().min(1).optional(),
      /** How the client authenticates at the token endpoint. @default 'basic' */
      clientAuth: z.enum(['basic', 'body']).default('basic'),
    })
    .strict(),
  z.object({ kind: z.literal('none') }).strict(),
]);

/** How one record is sent: our external id in a field, the mapped fields beside it or under a key. */
const RecordShape = z
  .object({
    /** Field of each record holding our external id. @default 'externalId' */
    externalIdField: z.string().min(1).default('externalId'),
    /** Key the mapped fields go under; absent: beside the external id, at the top of the record. */
    fieldsField: z.string().min(1).optional(),
    /** Key the records of a batch go under (`{ "records": [...] }`); absent: a bare JSON array. Only for batchSize > 1. */
    wrap: z.string().min(1).optional(),
  })
  .strict();

const Upsert = z
  .object({
    /** @default 'PUT' */
    method: Method.default('PUT'),
    /** Where a record (batchSize 1) or a batch is sent: `/v1/{object}/{externalId}` or `/v1/{object}/batch`. */
    path: UrlTemplate,
    /** Records per call; 1 sends one record per call (the path may name {externalId}). @default 1 */
    batchSize: z.number().int().min(1).max(1000).default(1),
    body: RecordShape.default({ externalIdField: 'externalId' }),
    /** Where the per-record results are in a batch's answer (`results`); '' the answer itself. @default 'results' */
    resultsPath: JsonPath.default('results'),
    /** Field of each result naming the record's external id; absent: results come in the order sent. */
    resultExternalIdPath: JsonPath.optional(),
    /** Where the target's id is in an answer (batchSize 1) or a result (batch). @default 'id' */
    idPath: JsonPath.default('id'),
    /** Where a result says it failed (its message): a refused record, permanent. @default 'error' */
    errorPath: JsonPath.default('error'),
    /** Where an answer or result says it created the record (true/false); absent: a 201 means created. */
    createdPath: JsonPath.optional(),
  })
  .strict()
  .superRefine((u, ctx) => {
    if (u.batchSize > 1 && u.path.includes('{externalId}')) {
      ctx.addIssue({
        code: 'custom',
        path: ['path'],
        message: 'a batch (batchSize > 1) cannot name one {externalId}',
      });
    }
  });

const Lookup = z
  .object({
    /** @default 'GET' */
    method: Method.default('GET'),
    /** `/v1/{object}/by-external-id/{externalId}`, or a search `/v1/{object}?external_id={externalId}`. */
    path: UrlTemplate,
    /** Where the record is in the answer; an array (a search) gives its first element or nothing. @default '' */
    recordPath: JsonPath.default(''),
    /** @default 'id' */
    idPath: JsonPath.default('id'),
    /** @default the upsert's body.externalIdField */
    externalIdPath: JsonPath.optional(),
    /** Where the fields are in the record; absent: the record itself. */
    fieldsPath: JsonPath.optional(),
  })
  .strict();

const List = z
  .object({
    /** `/v1/{object}`; the cursor is added as a query parameter. */
    path: UrlTemplate,
    /** Where the page's records are. @default 'items' */
    itemsPath: JsonPath.default('items'),
    /** Where the next page's cursor is; absent or null ends the listing. @default 'next' */
    nextPath: JsonPath.default('next'),
    /** Query parameter carrying the cursor. @default 'cursor' */
    cursorParam: z.string().min(1).default('cursor'),
  })
  .strict();

/** A generic REST API, configured as data: no code to write for a typical internal service. */
export const HttpApiConnection = z
  .object({
    type: z.literal('http'),
    /** Secrets Manager secret: `token`, `username`/`password`, `apiKey` or `clientId`/`clientSecret`, per `auth`. */
    secret: z.string().min(1).optional(),
    /** The API's base URL (`https://internal.example.com/api`). */
    baseUrl: z.url(),
    auth: Auth.default({ kind: 'bearer' }),
    upsert: Upsert,
    lookup: Lookup,
    /** How to list an object's records (verification and the contract kit); absent: list() is refused. */
    list: List.optional(),
    /** Statuses worth another try besides 429 (which always is). @default [408, 425, 500, 502, 503, 504] */
    retryableStatuses: z.array(z.number().int().min(400).max(599)).default([408, 425, 500, 502, 503, 504]),
    /** Header carrying our idempotency key on writes (`Idempotency-Key`), when the API honours one. */
    idempotencyHeader: z.string().min(1).optional(),
    /** The API's limits, kept by our limiter. @default 10 a second, 4 at once */
    rateLimit: z
      .object({
        perSecond: z.number().int().min(1).optional(),
        perMinute: z.number().int().min(1).optional(),
        concurrency: z.number().int().min(1).max(64).optional(),
      })
      .strict()
      .default({ perSecond: 10, concurrency: 4 }),
    /** What a null does: 'clear' sends null, 'keep' leaves it out. @default 'clear' */
    nulls: z.enum(['clear', 'keep']).default('clear'),
    /** Per-call timeout. @default 30000 */
    timeoutMs: z.number().int().min(100).max(300_000).default(30_000),
  })
  .strict();

export type HttpApiConnectionConfig = z.output<typeof HttpApiConnection>;

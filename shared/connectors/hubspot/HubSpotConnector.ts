import { createHash } from 'node:crypto';
import type { Payload } from '../../config/schema.ts';
import { TargetError } from '../../errors.ts';
import type { BearerSource } from '../../oauth/StableRefreshAuth.ts';
import { waves } from '../batching.ts';
import type {
  AssociatedRecord,
  AssociateOptions,
  AssociationPair,
  AssociationResult,
  Connector,
  ConnectorCapabilities,
  ConnectorMetrics,
  TargetRecord,
  UpsertRecord,
  UpsertResult,
} from '../Connector.ts';
import { HttpClient, type RetryPolicy } from '../http/HttpClient.ts';
import { RateLimiter, type RateLimitSpec } from '../http/RateLimiter.ts';
import { Secret } from '../http/Secret.ts';
import { errorForStatus } from '../http/statusError.ts';
import { HubSpotAssociations, type HubSpotExchange, parseAnswer } from './HubSpotAssociations.ts';
import {
  describeBody,
  type HubSpotErrorBody,
  HubSpotErrorCode,
  parseErrorBody,
  stringList,
} from './hubspotErrors.ts';

export { HUBSPOT_ASSOCIATION_READ_BATCH_SIZE } from './HubSpotAssociations.ts';
export { HubSpotErrorCode } from './hubspotErrors.ts';

export interface HubSpotConnectorOptions {
  /** API base URL; a local fake's URL in tests. @default https://api.hubapi.com */
  readonly baseUrl?: string;
  /** Private app access token (sent as `Authorization: Bearer`). Never appears in errors. */
  readonly token?: string;
  /** Instead of `token`: an OAuth app's access tokens, renewed with its refresh token. */
  readonly auth?: BearerSource;
  /**
   * The unique property (hasUniqueValue) that holds our external id: one name for every object
   * type, or one per object type (`{ contacts: 'dwh_customer_id', companies: 'dwh_company_id' }`).
   * This is the sync's `target.externalId`.
   */
  readonly idProperty?: string | Readonly<Record<string, string>>;
  /**
   * Properties to read in lookup() and list() (HubSpot returns only a default set otherwise), per
   * object type or for all. The idProperty is always read.
   */
  readonly readProperties?: readonly string[] | Readonly<Record<string, readonly string[]>>;
  /** fetch implementation. @default globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
  /** Per-call timeout, body included. @default 30_000 */
  readonly timeoutMs?: number;
  /** Limits to pace by (a Professional account: 190 per 10 s), or false to pace nothing. @default HUBSPOT_RATE_LIMITS */
  readonly rateLimit?: RateLimitSpec | false;
  /** Connectors sharing a key share one limiter in this process. @default 'hubspot:' + a hash of the token */
  readonly limiterKey?: string;
  /** Longest wait for a rate-limit slot before handing records back to the queue. @default 10_000 */
  readonly maxLimiterWaitMs?: number;
  /** In-connector retries of blips (see RetryPolicy), or false. @default DEFAULT_RETRY */
  readonly retry?: Partial<RetryPolicy> | false;
}

/**
 * Private apps on Free/Starter: 100 calls per rolling 10 s and 250,000 a day (Professional and
 * Enterprise: 190 / 10 s, 625,000 and 1,000,000 a day; pass `rateLimit` to raise them).
 */
export const HUBSPOT_RATE_LIMITS: RateLimitSpec = {
  windows: [
    { name: 'ten-secondly', limit: 100, intervalMs: 10_000 },
    { name: 'daily', limit: 250_000, intervalMs: 86_400_000 },
  ],
};

const API = '/crm/v3/objects';
const MAX_BATCH = 100;
const PAGE_SIZE = 100;
/** Extra calls one upsertBatch may spend isolating the records of a refused batch. */
const SPLIT_BUDGET = 16;

interface ApiObject {
  id: string;
  properties?: Record<string, string | null>;
  new?: boolean;
  objectWriteTraceId?: string;
}

interface BatchAnswer {
  results?: ApiObject[];
  errors?: HubSpotErrorBody[];
}

/** What one HTTP exchange produced: an answer with a status, or a failure before any answer. */
type Exchange = HubSpotExchange;

/**
 * HubSpot CRM objects (contacts, companies, deals, line_items, custom objects) written with
 * `POST /crm/v3/objects/{objectType}/batch/upsert`, keyed by a unique property (`idProperty`).
 *
 * The idProperty: a connection can serve several syncs (contacts and companies, each with its own
 * `target.externalId`), so the connector takes `idProperty` in its constructor either as one name
 * for every object or as a map object type → name, and `upsertBatch(object, records)` takes the
 * plain HubSpot object type. The same name is read back in lookup() and list().
 *
 * Each record becomes `{ idProperty, id: externalId, objectWriteTraceId, properties }` where
 * properties are the payload (null → '' which clears the field in HubSpot; numbers and booleans
 * as strings, Dates as ISO 8601, arrays joined with ';' as multi-checkbox values) plus the
 * idProperty itself. `objectWriteTraceId` asks HubSpot for multi-status answers (207 with per-input
 * errors), and is how results and errors are matched back to records (falling back to the
 * idProperty value / `context.ids`).
 *
 * Calls go through the shared HTTP layer (docs/connectors.md): the account's limiter paces them
 * within the ten-secondly and daily windows, and only blips are retried here (a 5xx or reset
 * answered within a few seconds; the upsert is replay-safe); the write protocol retries the rest
 * through SQS. 429 → retryable with retryAfterSeconds (Retry-After, else by policy: ten-secondly 10 s,
 * secondly 1 s, daily 1 h); 5xx, timeouts, resets → retryable; 401/403/4xx and per-record
 * VALIDATION_ERROR/CONFLICT → permanent. A whole-call failure yields one failed result per record.
 * The one exception: when HubSpot refuses a whole batch with a 400/409 that names no record
 * (all-or-nothing validation), the batch is split in halves and re-sent so only the bad records
 * fail — nothing was written by the refused call, and the upsert is idempotent.
 *
 * Children are associated (`capabilities.children: 'associated'`): a child is upserted like any
 * record, then linked to its parent with associate() (associations v4, HubSpotAssociations.ts).
 */
export class HubSpotConnector implements Connector {
  public readonly type = 'hubspot';
  public readonly capabilities: ConnectorCapabilities;
  /** With the default options; an instance reports its own rate limits. */
  public static readonly CAPABILITIES: ConnectorCapabilities = {
    nativeUpsert: true,
    idempotencyKey: false,
    maxBatchSize: MAX_BATCH,
    partialSuccess: 'per-record',
    rateLimits: HUBSPOT_RATE_LIMITS,
    children: 'associated',
    versionToken: undefined,
    nulls: 'clear',
  };
  private readonly idProperty: HubSpotConnectorOptions['idProperty'];
  private readonly readProperties: HubSpotConnectorOptions['readProperties'];
  private readonly http: HttpClient;
  private readonly assoc: HubSpotAssociations;
  private readonly auth: BearerSource | undefined;

  public constructor(opts: HubSpotConnectorOptions) {
    if (!opts.token && !opts.auth) throw new Error('HubSpotConnector: give token or auth');
    const token = new Secret(opts.token ?? '');
    const auth = opts.auth;
    this.auth = auth;
    this.idProperty = opts.idProperty;
    this.readProperties = opts.readProperties;
    const spec = opts.rateLimit === undefined ? HUBSPOT_RATE_LIMITS : opts.rateLimit;
    const tokenHash = createHash('sha256')
      .update(opts.token ?? '')
      .digest('hex')
      .slice(0, 12);
    this.http = new HttpClient({
      vendor: 'HubSpot',
      codePrefix: 'HUBSPOT',
      baseUrl: opts.baseUrl ?? 'https://api.hubapi.com',
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      timeoutMs: opts.timeoutMs ?? 30_000,
      authHeaders: async () => ({
        Authorization: auth ? await auth.authorization() : `Bearer ${token.reveal()}`,
      }),
      secrets: () => (auth ? auth.secrets() : [token.reveal()]),
      // Limits are per account (per token): connectors built with one token share one limiter.
      ...(spec ? { limiter: RateLimiter.shared(opts.limiterKey ?? `hubspot:${tokenHash}`, spec) } : {}),
      maxLimiterWaitMs: opts.maxLimiterWaitMs ?? 10_000,
      ...(opts.retry === undefined ? {} : { retry: opts.retry }),
      retryAfterMs: (res, now) =>
        res.status === 429
          ? retryAfterSeconds(res.headers, parseErrorBody(res.text)?.policyName, now) * 1000
          : undefined,
    });
    this.capabilities = { ...HubSpotConnector.CAPABILITIES, rateLimits: spec || HUBSPOT_RATE_LIMITS };
    this.assoc = new HubSpotAssociations({
      exchange: (method, path, body) => this.exchange(method, path, body),
      classifyResponse: (ex, route) => this.classifyResponse(ex, route),
      classifyItemError: (e, status) => this.classifyItemError(e, status),
      redact: (text) => this.redact(text),
    });
  }

  public metrics(): ConnectorMetrics {
    return { http: this.http.stats(), limiter: this.http.limiter?.stats() };
  }

  /** The idProperty configured for `object`, if any. */
  public idPropertyFor(object: string): string | undefined {
    const p = this.idProperty;
    return typeof p === 'string' ? p : p?.[object];
  }

  /**
   * Archives records by HubSpot id (`POST /crm/v3/objects/{type}/batch/archive`, 100 per call):
   * HubSpot answers 204 and ignores ids that are already archived or unknown, so it is idempotent.
   */
  public async archive(object: string, targetIds: readonly string[]): Promise<UpsertResult[]> {
    const results: UpsertResult[] = [];
    for (let i = 0; i < targetIds.length; i += MAX_BATCH) {
      const ids = targetIds.slice(i, i + MAX_BATCH);
      const route = `POST ${API}/${object}/batch/archive`;
      const ex = await this.exchange('POST', `${API}/${encodeURIComponent(object)}/batch/archive`, {
        inputs: ids.map((id) => ({ id })),
      });
      const error = !ex.ok
        ? ex.error
        : ex.status !== 204 && ex.status !== 200
          ? this.classifyResponse(ex, route)
          : undefined;
      for (const id of ids) {
        results.push(
          error ? { key: id, ok: false, error } : { key: id, ok: true, targetId: id, created: false },
        );
      }
    }
    return results;
  }

  public async upsertBatch(object: string, records: readonly UpsertRecord[]): Promise<UpsertResult[]> {
    if (records.length === 0) return [];
    const idProperty = this.idPropertyFor(object);
    if (idProperty === undefined) {
      const error = new TargetError(
        HubSpotErrorCode.noIdProperty,
        `no idProperty configured for HubSpot object ${object} (set target.externalId)`,
        { disposition: 'permanent' },
      );
      return records.map((r) => ({ key: r.key, ok: false, error }));
    }
    const results: UpsertResult[] = [];
    const pending: UpsertRecord[] = [];
    for (const r of records) {
      if (r.externalId === '') {
        const error = new TargetError(HubSpotErrorCode.validation, `record has an empty ${idProperty}`, {
          disposition: 'permanent',
        });
        results.push({ key: r.key, ok: false, error });
      } else pending.push(r);
    }
    // HubSpot refuses a batch naming one id twice: later occurrences go in later calls, in order.
    const budget = { splits: SPLIT_BUDGET };
    // Records to update by HubSpot's id (a two-way pair's records the other app created carry no
    // external id of ours) go to batch/update, the rest to batch/upsert.
    const byId = pending.filter((r) => r.byId && r.targetId);
    const byExternalId = pending.filter((r) => !(r.byId && r.targetId));
    for (const [mode, list] of [
      ['update', byId],
      ['upsert', byExternalId],
    ] as const) {
      for (const wave of waves(list)) {
        for (let i = 0; i < wave.length; i += MAX_BATCH) {
          const chunk = wave.slice(i, i + MAX_BATCH);
          results.push(...(await this.upsertChunk(object, idProperty, chunk, budget, mode)));
        }
      }
    }
    return results;
  }

  private async upsertChunk(
    object: string,
    idProperty: string,
    records: readonly UpsertRecord[],
    budget: { splits: number },
    mode: 'upsert' | 'update' = 'upsert',
  ): Promise<UpsertResult[]> {
    // An update also stamps our external id on the record: later writes find it either way.
    const inputs = records.map((r, i) => ({
      ...(mode === 'upsert' ? { idProperty, id: r.externalId } : { id: r.targetId }),
      objectWriteTraceId: String(i),
      properties: { ...toHubSpotProperties(r.payload), [idProperty]: r.externalId },
    }));
    const path = `${API}/${encodeURIComponent(object)}/batch/${mode}`;
    const ex = await this.exchange('POST', path, { inputs });
    if (!ex.ok) return records.map((r) => ({ key: r.key, ok: false, error: ex.error }));
    if (ex.status !== 200 && ex.status !== 207) {
      const error = this.classifyResponse(ex, `POST ${API}/${object}/batch/${mode}`);
      if (records.length > 1 && refusesSomeRecords(ex.status, ex.text)) {
        if (budget.splits >= 2) {
          budget.splits -= 2;
          const half = Math.ceil(records.length / 2);
          const first = await this.upsertChunk(object, idProperty, records.slice(0, half), budget, mode);
          return [
            ...first,
            ...(await this.upsertChunk(object, idProperty, records.slice(half), budget, mode)),
          ];
        }
        // Not isolated: these records may be fine, so they are retried (in another batch) rather than dead-lettered.
        const notIsolated = new TargetError(
          error.code,
          `${error.message} (batch refused as a whole; record not isolated)`,
          {
            disposition: 'retryable',
            httpStatus: ex.status,
          },
        );
        return records.map((r) => ({ key: r.key, ok: false, error: notIsolated }));
      }
      return records.map((r) => ({ key: r.key, ok: false, error }));
    }
    let answer: BatchAnswer;
    try {
      answer = JSON.parse(ex.text) as BatchAnswer;
    } catch {
      const error = new TargetError(
        HubSpotErrorCode.badResponse,
        `HubSpot answered ${ex.status} to batch upsert with a body that is not JSON; the write may have happened`,
        { disposition: 'retryable', httpStatus: ex.status },
      );
      return records.map((r) => ({ key: r.key, ok: false, error }));
    }
    return this.mapBatchAnswer(records, idProperty, answer, ex.status, mode);
  }

  /** Matches results and per-input errors back to records; records mentioned by neither are retryable. */
  private mapBatchAnswer(
    records: readonly UpsertRecord[],
    idProperty: string,
    answer: BatchAnswer,
    status: number,
    mode: 'upsert' | 'update' = 'upsert',
  ): UpsertResult[] {
    const byTrace = new Map(records.map((r, i) => [String(i), r]));
    const byExternalId = new Map(records.map((r) => [r.externalId, r]));
    // The ids an error names: our external ids in an upsert, HubSpot's own in an update.
    const byErrorId = mode === 'update' ? new Map(records.map((r) => [r.targetId ?? '', r])) : byExternalId;
    const out = new Map<string, UpsertResult>();
    for (const res of answer.results ?? []) {
      const r =
        (res.objectWriteTraceId !== undefined ? byTrace.get(res.objectWriteTraceId) : undefined) ??
        byExternalId.get(res.properties?.[idProperty] ?? '');
      if (r && typeof res.id === 'string')
        out.set(r.key, { key: r.key, ok: true, targetId: res.id, created: res.new === true });
    }
    const unmatched: TargetError[] = [];
    for (const e of answer.errors ?? []) {
      const error = this.classifyItemError(e, status);
      const traces = stringList(e.context?.objectWriteTraceId);
      const ids = stringList(e.context?.ids);
      const targets =
        traces.length > 0 ? traces.map((t) => byTrace.get(t)) : ids.map((id) => byErrorId.get(id));
      let matched = false;
      for (const r of targets) {
        if (r && !out.has(r.key)) {
          out.set(r.key, { key: r.key, ok: false, error });
          matched = true;
        }
      }
      if (!matched) unmatched.push(error);
    }
    return records.map((r) => {
      const found = out.get(r.key);
      if (found) return found;
      const hint = unmatched[0] ? `; unattributed error: ${unmatched[0].message}` : '';
      return {
        key: r.key,
        ok: false,
        error: new TargetError(
          HubSpotErrorCode.badResponse,
          this.redact(`HubSpot's batch upsert answer (${status}) did not mention this record${hint}`),
          { disposition: 'retryable', httpStatus: status },
        ),
      };
    });
  }

  public async lookup(object: string, externalId: string): Promise<TargetRecord | undefined> {
    const idProperty = this.requireIdProperty(object);
    const q = new URLSearchParams({ idProperty });
    const props = this.propertiesToRead(object, idProperty);
    if (props.length > 0) q.set('properties', props.join(','));
    const ex = await this.exchange(
      'GET',
      `${API}/${encodeURIComponent(object)}/${encodeURIComponent(externalId)}?${q}`,
    );
    if (!ex.ok) throw ex.error;
    if (ex.status === 404) return undefined;
    if (ex.status !== 200)
      throw this.classifyResponse(ex, `GET ${API}/${object}/{id}?idProperty=${idProperty}`);
    return this.toTargetRecord(parseAnswer<ApiObject>(ex), idProperty);
  }

  public async *list(object: string): AsyncIterable<TargetRecord> {
    const idProperty = this.idPropertyFor(object);
    const props = this.propertiesToRead(object, idProperty);
    let after: string | undefined;
    do {
      const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (props.length > 0) q.set('properties', props.join(','));
      if (after !== undefined) q.set('after', after);
      const ex = await this.exchange('GET', `${API}/${encodeURIComponent(object)}?${q}`);
      if (!ex.ok) throw ex.error;
      if (ex.status !== 200) throw this.classifyResponse(ex, `GET ${API}/${object}`);
      const page = parseAnswer<{ results?: ApiObject[]; paging?: { next?: { after?: string } } }>(ex);
      for (const o of page.results ?? []) yield this.toTargetRecord(o, idProperty);
      after = page.paging?.next?.after;
    } while (after !== undefined && after !== '');
  }

  /**
   * Associates each pair `fromId` (a record of `fromObject`) → `toId` (of `toObject`) with HubSpot's
   * default association (`POST /crm/v4/associations/{from}/{to}/batch/associate/default`), or with
   * `opts.types` (`…/batch/create`), in calls of at most 100 pairs. Idempotent: an existing
   * association stays one. One result per pair, in order: an unknown or archived record fails its
   * pairs only (HUBSPOT_NOT_FOUND, permanent); 429 and 5xx fail the call's pairs as retryable.
   */
  public associate(
    fromObject: string,
    toObject: string,
    pairs: readonly AssociationPair[],
    opts?: AssociateOptions,
  ): Promise<AssociationResult[]> {
    return this.assoc.associate(fromObject, toObject, pairs, opts);
  }

  /** Removes every association between each pair (`…/batch/archive`); idempotent. One result per pair. */
  public dissociate(
    fromObject: string,
    toObject: string,
    pairs: readonly AssociationPair[],
  ): Promise<AssociationResult[]> {
    return this.assoc.dissociate(fromObject, toObject, pairs);
  }

  /** The `toObject` records associated with one record (`GET /crm/v4/objects/…/associations/…`, paged). */
  public listAssociations(fromObject: string, fromId: string, toObject: string): Promise<AssociatedRecord[]> {
    return this.assoc.list(fromObject, fromId, toObject);
  }

  /**
   * The `toObject` records associated with each record of `fromIds`
   * (`POST /crm/v4/associations/{from}/{to}/batch/read`), 1000 records per call; a record with more
   * associations than HubSpot puts in one answer is asked again from its `after` cursor in a later
   * call. HubSpot answers a record without associations with a per-input error (207,
   * `NO_ASSOCIATIONS_FOUND`), which is [] here. Any other per-input error, a failed call, or an id
   * the answer does not mention throws: verify must not take an unread association for a missing one.
   */
  public readAssociations(
    fromObject: string,
    fromIds: readonly string[],
    toObject: string,
  ): Promise<Map<string, AssociatedRecord[]>> {
    return this.assoc.read(fromObject, fromIds, toObject);
  }

  public async close(): Promise<void> {
    // Global fetch pools its own sockets; nothing is held per connector.
  }

  // ---------------------------------------------------------------- helpers

  private requireIdProperty(object: string): string {
    const p = this.idPropertyFor(object);
    if (p === undefined) {
      throw new TargetError(
        HubSpotErrorCode.noIdProperty,
        `no idProperty configured for HubSpot object ${object}`,
        {
          disposition: 'permanent',
        },
      );
    }
    return p;
  }

  private propertiesToRead(object: string, idProperty: string | undefined): string[] {
    const rp = this.readProperties;
    const list =
      rp === undefined
        ? []
        : Array.isArray(rp)
          ? rp
          : ((rp as Record<string, readonly string[]>)[object] ?? []);
    return [...new Set([...(idProperty ? [idProperty] : []), ...list])];
  }

  private toTargetRecord(o: ApiObject, idProperty: string | undefined): TargetRecord {
    const fields: Payload = { ...(o.properties ?? {}) };
    const ext = idProperty === undefined ? undefined : o.properties?.[idProperty];
    return { targetId: o.id, externalId: ext ?? undefined, fields };
  }

  /** One HTTP call through the shared layer (timeout, rate limiter, blip retries, redaction). */
  private async exchange(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Exchange> {
    const send = () =>
      this.http.request({
        method,
        path,
        ...(body === undefined ? {} : { body }),
        // Batch upsert by idProperty: sending it twice has the effect of sending it once.
        replaySafe: true,
      });
    const res = await (this.auth ? this.auth.renewingOn401(send) : send());
    return res.ok ? { ok: true, status: res.status, headers: res.headers, text: res.text } : res;
  }

  /** Classifies a whole-call answer that is neither 200 nor 207. */
  private classifyResponse(ex: Extract<Exchange, { ok: true }>, route: string): TargetError {
    const { status } = ex;
    const body = parseErrorBody(ex.text);
    const what = describeBody(body, ex.text, status);
    const message = this.redact(`HubSpot ${status} on ${route}: ${what}`);
    if (status === 429) {
      return new TargetError(HubSpotErrorCode.rateLimited, message, {
        disposition: 'retryable',
        httpStatus: status,
        retryAfterSeconds: retryAfterSeconds(ex.headers, body?.policyName),
      });
    }
    // Conflicts and validation errors are told apart by HubSpot's category as well as the status.
    const refused =
      status === 409 || body?.category === 'CONFLICT'
        ? HubSpotErrorCode.conflict
        : status === 400 || body?.category === 'VALIDATION_ERROR'
          ? HubSpotErrorCode.validation
          : HubSpotErrorCode.rejected;
    return errorForStatus(status, message, {
      server: HubSpotErrorCode.server,
      unauthorized: HubSpotErrorCode.unauthorized,
      forbidden: HubSpotErrorCode.forbidden,
      notFound: HubSpotErrorCode.notFound,
      refused,
    });
  }

  /** Classifies one entry of a batch answer's `errors`. */
  private classifyItemError(e: HubSpotErrorBody, status: number): TargetError {
    const category = e.category ?? 'UNKNOWN';
    const message = this.redact(`HubSpot ${category}: ${describeBody(e, '', status)}`);
    switch (category) {
      case 'VALIDATION_ERROR':
        return new TargetError(HubSpotErrorCode.validation, message, {
          disposition: 'permanent',
          httpStatus: 400,
        });
      case 'CONFLICT':
        return new TargetError(HubSpotErrorCode.conflict, message, {
          disposition: 'permanent',
          httpStatus: 409,
        });
      case 'OBJECT_NOT_FOUND':
        return new TargetError(HubSpotErrorCode.notFound, message, {
          disposition: 'permanent',
          httpStatus: 404,
        });
      case 'MISSING_SCOPES':
        return new TargetError(HubSpotErrorCode.forbidden, message, {
          disposition: 'permanent',
          httpStatus: 403,
        });
      case 'RATE_LIMIT':
      case 'RATE_LIMITS':
        return new TargetError(HubSpotErrorCode.rateLimited, message, {
          disposition: 'retryable',
          httpStatus: 429,
          retryAfterSeconds: retryAfterSeconds(new Headers(), e.policyName),
        });
      default:
        // Unknown per-record failures are retried: dead-lettering on a guess would lose the record.
        return new TargetError(HubSpotErrorCode.server, message, {
          disposition: 'retryable',
          httpStatus: status,
        });
    }
  }

  /** Removes the token (and any credential-looking text) from text that came back from the wire. */
  private redact(text: string): string {
    return this.http.redact(text);
  }
}

// ---------------------------------------------------------------- pure helpers (exported for unit tests)

export { waves } from '../batching.ts';

/**
 * Payload → HubSpot property strings. null clears the property (''), undefined leaves it out,
 * booleans and numbers become strings, Dates ISO 8601, arrays ';'-joined (multiple checkboxes),
 * other objects JSON.
 */
export function toHubSpotProperties(payload: Payload): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(payload)) {
    if (v === undefined) continue;
    out[k] = toHubSpotValue(v);
  }
  return out;
}

function toHubSpotValue(v: unknown): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(toHubSpotValue).join(';');
  return JSON.stringify(v);
}

/**
 * Seconds to wait after a 429: the Retry-After header (seconds or HTTP date) when present, else
 * by HubSpot's policyName: TEN_SECONDLY_ROLLING → the window (X-HubSpot-RateLimit-Interval-Milliseconds,
 * 10 s by default), SECONDLY → 1 s, DAILY → 1 h (the reset time depends on the account's time zone).
 */
export function retryAfterSeconds(
  headers: Headers,
  policyName: string | undefined,
  now = Date.now(),
): number {
  const header = headers.get('retry-after');
  if (header !== null && header.trim() !== '') {
    const secs = Number(header);
    if (Number.isFinite(secs) && secs >= 0) return Math.ceil(secs);
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - now) / 1000));
  }
  switch (policyName) {
    case 'SECONDLY':
      return 1;
    case 'DAILY':
      return 3600;
    default: {
      const interval = Number(headers.get('x-hubspot-ratelimit-interval-milliseconds'));
      return Number.isFinite(interval) && interval > 0 ? Math.ceil(interval / 1000) : 10;
    }
  }
}

/**
 * Whether a whole-batch refusal is about some records' values (all-or-nothing validation or a
 * unique-value conflict) without naming them, so that splitting the batch can isolate them.
 * Errors about the call itself (unknown object, non-unique idProperty, duplicate ids) are not.
 */
function refusesSomeRecords(status: number, text: string): boolean {
  const body = parseErrorBody(text);
  const ctx = body?.context;
  if (stringList(ctx?.ids).length > 0 || stringList(ctx?.objectWriteTraceId).length > 0) return false;
  if (status === 409 || body?.category === 'CONFLICT') return true;
  return status === 400 && (body?.message ?? '').startsWith('Property values were not valid');
}

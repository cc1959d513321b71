import { createHash } from 'node:crypto';
import type { Payload } from '../../config/schema.ts';
import { TargetError } from '../../errors.ts';
import { writeInCalls } from '../batching.ts';
import type {
  Connector,
  ConnectorCapabilities,
  ConnectorMetrics,
  TargetRecord,
  UpsertRecord,
  UpsertResult,
} from '../Connector.ts';
import {
  connectorHttpClient,
  connectorMetrics,
  type HttpConnectorOptions,
} from '../http/connectorHttpClient.ts';
import { type HttpClient, parseJson } from '../http/HttpClient.ts';
import { RateLimiter, type RateLimitSpec, RateLimitWaitTooLongError } from '../http/RateLimiter.ts';
import { Secret } from '../http/Secret.ts';
import { applyNullPolicy, defaultNullRule, type NullPolicy } from '../nullPolicy.ts';
import { failAll } from '../upsertResults.ts';
import { callError, type QboFault, QuickBooksErrorCode, recordFaultError } from './quickbooksFaults.ts';
import { selectIn, selectPage } from './quickbooksQuery.ts';

export { QuickBooksErrorCode } from './quickbooksFaults.ts';

/**
 * Intuit's throttles per company (realm) and app: 500 requests a minute (batches included) and 10
 * at once (more get a 429). https://blogs.intuit.com/2016/08/08/idg-concurrent-api-use-changes-coming-soon
 */
export const QBO_RATE_LIMITS: RateLimitSpec = {
  windows: [{ name: 'minute', limit: 500, intervalMs: 60_000 }],
  maxConcurrency: 10,
};
/** The batch endpoint's own ceiling: 40 batch requests a minute per realm. */
export const QBO_BATCH_LIMITS: RateLimitSpec = {
  windows: [{ name: 'batch-minute', limit: 40, intervalMs: 60_000 }],
};
/**
 * Both, as the connector declares them (`capabilities.rateLimits`): every write call sends one
 * batch, so the batch window binds first, and it comes first so that the writers' shared pace
 * across containers (paceForWindows: the shortest window, the first of equals) is 40 calls a minute.
 */
export const QBO_DECLARED_LIMITS: RateLimitSpec = {
  windows: [...QBO_BATCH_LIMITS.windows, ...QBO_RATE_LIMITS.windows],
  maxConcurrency: 10,
};
/** Most payloads in one batch request (Intuit's developer blog, 2023; its guide advises 10). */
export const QBO_MAX_BATCH = 30;
/** The minor version every call asks for (Intuit retired 1–74 in 2025). */
export const QBO_MINOR_VERSION = 75;

/** The field our external id lives in, per entity: QuickBooks has no external-id field of its own. */
const DEFAULT_EXTERNAL_ID_FIELD: Readonly<Record<string, string>> = {
  // Unique among customers, vendors and employees (6240 on a duplicate): a key QuickBooks enforces.
  Customer: 'DisplayName',
  // The invoice number, filterable; at most 21 characters.
  Invoice: 'DocNumber',
};

export interface QuickBooksConnectorOptions extends HttpConnectorOptions {
  /** The company (realm) id. */
  readonly realmId: string;
  /** An OAuth 2.0 access token (an hour). */
  readonly accessToken: string;
  /** @default https://quickbooks.api.intuit.com (sandbox: https://sandbox-quickbooks.api.intuit.com) */
  readonly baseUrl?: string;
  /** @default QBO_MINOR_VERSION */
  readonly minorVersion?: number;
  /** The field holding our external id, per entity or for all. @default DisplayName (Customer), DocNumber (Invoice) */
  readonly externalIdField?: string | Readonly<Record<string, string>>;
  /** Payloads per batch request, at most 30. @default 30 */
  readonly batchSize?: number;
  /** Every request's pace. @default QBO_RATE_LIMITS; false paces nothing (batches neither) */
  readonly rateLimit?: RateLimitSpec | false;
  /** The batch endpoint's own pace, on top of rateLimit. @default QBO_BATCH_LIMITS */
  readonly batchRateLimit?: RateLimitSpec;
  /** @default 'clear' (sent as "", which a sparse update takes as clearing the field) */
  readonly nulls?: NullPolicy;
}

/** An entity as QuickBooks answers it: its Id and SyncToken, and the rest. */
interface Entity {
  readonly Id?: string;
  readonly SyncToken?: string;
  readonly [field: string]: unknown;
}

interface BatchItemResponse {
  readonly bId?: string;
  readonly Fault?: QboFault;
  readonly [entity: string]: unknown;
}

/**
 * QuickBooks Online Accounting: Customers, and Invoices with their lines embedded (`Line`) and their
 * customer referenced (`CustomerRef`). It has no upsert and no external id, so each call first reads
 * where its records stand (one query by Id for linked records, one by the external-id field for the
 * others), then sends one batch request of creates and sparse updates carrying the SyncToken read.
 * A 5010 stale object (edited in between) is re-read and sent once more, not failed. Every batch
 * carries a `requestid` derived from what it sends, so a resent batch is answered, not applied, twice.
 */
export class QuickBooksConnector implements Connector {
  public readonly type = 'quickbooks';
  public readonly capabilities: ConnectorCapabilities;
  private readonly http: HttpClient;
  private readonly batchLimiter: RateLimiter | undefined;
  private readonly realm: string;
  private readonly minorVersion: number;
  private readonly externalIdField: QuickBooksConnectorOptions['externalIdField'];
  private readonly batchSize: number;
  private readonly nulls: NullPolicy;
  private readonly maxLimiterWaitMs: number;

  public constructor(opts: QuickBooksConnectorOptions) {
    const token = new Secret(opts.accessToken);
    this.realm = encodeURIComponent(opts.realmId);
    this.minorVersion = opts.minorVersion ?? QBO_MINOR_VERSION;
    this.externalIdField = opts.externalIdField;
    this.batchSize = Math.max(1, Math.min(opts.batchSize ?? QBO_MAX_BATCH, QBO_MAX_BATCH));
    this.nulls = opts.nulls ?? 'clear';
    this.maxLimiterWaitMs = opts.maxLimiterWaitMs ?? 10_000;
    const spec = opts.rateLimit === false ? undefined : (opts.rateLimit ?? QBO_RATE_LIMITS);
    this.capabilities = {
      // Each call reads where its records stand before writing: a replay updates, never duplicates.
      nativeUpsert: true,
      idempotencyKey: true,
      maxBatchSize: this.batchSize,
      partialSuccess: 'per-record',
      rateLimits: opts.rateLimit ? opts.rateLimit : QBO_DECLARED_LIMITS,
      children: 'embedded',
      versionToken: 'SyncToken',
      nulls: defaultNullRule(this.nulls),
    };
    const limiterKey = opts.limiterKey ?? `quickbooks:${opts.realmId}`;
    this.batchLimiter = spec
      ? RateLimiter.shared(`${limiterKey}:batch`, opts.batchRateLimit ?? QBO_BATCH_LIMITS)
      : undefined;
    this.http = connectorHttpClient(
      { ...opts, limiterKey },
      {
        vendor: 'QuickBooks',
        codePrefix: 'QBO',
        baseUrl: opts.baseUrl ?? 'https://quickbooks.api.intuit.com',
        rateLimit: spec,
        defaultLimiterKey: limiterKey,
        authHeaders: () => ({ Authorization: `Bearer ${token.reveal()}` }),
        secrets: () => [token.reveal()],
        // A batch carries a requestid: sent again, QuickBooks answers it without applying it again.
        idempotentWrites: true,
      },
    );
  }

  private extField(object: string): string {
    const f = this.externalIdField;
    const own = typeof f === 'string' ? f : f?.[object];
    const field = own ?? DEFAULT_EXTERNAL_ID_FIELD[object];
    if (!field) {
      throw new TargetError(
        QuickBooksErrorCode.invalid,
        `QuickBooks ${object}: no field to keep the external id in: set target.externalId (a filterable field)`,
        { disposition: 'permanent' },
      );
    }
    return field;
  }

  private path(rest: string, query: Record<string, string> = {}): string {
    const q = new URLSearchParams({ ...query, minorversion: String(this.minorVersion) });
    return `/v3/company/${this.realm}/${rest}?${q.toString()}`;
  }

  public upsertBatch(object: string, records: readonly UpsertRecord[]): Promise<UpsertResult[]> {
    return writeInCalls(records, this.batchSize, (call) => this.writeCall(object, call));
  }

  private async writeCall(object: string, records: readonly UpsertRecord[]): Promise<UpsertResult[]> {
    try {
      const field = this.extField(object);
      const current = await this.whereTheyStand(object, field, records);
      const results = await this.sendBatch(object, field, records, current);
      // Edited in QuickBooks between our read and our write: read the new SyncToken and send again, once.
      const stale = records.filter((r) => {
        const res = results.get(r.key);
        return res && !res.ok && res.error.code === QuickBooksErrorCode.stale;
      });
      if (stale.length > 0) {
        const again = await this.sendBatch(
          object,
          field,
          stale,
          await this.whereTheyStand(object, field, stale),
        );
        for (const [key, r] of again) results.set(key, r);
      }
      return records.map((r) => results.get(r.key)!);
    } catch (err) {
      if (err instanceof TargetError) return failAll(records, err);
      throw err;
    }
  }

  /** Each record's entity as QuickBooks holds it now (Id, SyncToken), by record key; absent: not there. */
  private async whereTheyStand(
    object: string,
    field: string,
    records: readonly UpsertRecord[],
  ): Promise<Map<string, Entity>> {
    const linked = records.filter((r) => r.targetId !== undefined);
    const unlinked = records.filter((r) => r.targetId === undefined);
    const out = new Map<string, Entity>();
    if (linked.length > 0) {
      const byId = new Map(
        (
          await this.query(
            object,
            selectIn(
              object,
              'Id',
              linked.map((r) => r.targetId!),
            ),
          )
        ).map((e) => [e.Id, e]),
      );
      for (const r of linked) {
        const e = byId.get(r.targetId);
        if (e) out.set(r.key, e);
      }
    }
    if (unlinked.length > 0) {
      const rows = await this.query(
        object,
        selectIn(object, field, [...new Set(unlinked.map((r) => r.externalId))]),
      );
      const byExt = new Map(rows.map((e) => [String(e[field]), e]));
      for (const r of unlinked) {
        const e = byExt.get(r.externalId);
        if (e) out.set(r.key, e);
      }
    }
    return out;
  }

  private async sendBatch(
    object: string,
    field: string,
    records: readonly UpsertRecord[],
    current: ReadonlyMap<string, Entity>,
  ): Promise<Map<string, UpsertResult>> {
    const results = new Map<string, UpsertResult>();
    const items: { bId: string; record: UpsertRecord; operation: 'create' | 'update'; body: Payload }[] = [];
    for (const [i, r] of records.entries()) {
      const entity = current.get(r.key);
      if (r.targetId !== undefined && !entity) {
        const error = new TargetError(
          QuickBooksErrorCode.notFound,
          `QuickBooks ${object} ${r.targetId} is gone (deleted or made inactive in QuickBooks)`,
          { disposition: 'permanent' },
        );
        results.set(r.key, { key: r.key, ok: false, error });
        continue;
      }
      const fields = this.fieldsOf(r.payload);
      const body: Payload = entity
        ? { ...fields, [field]: r.externalId, Id: entity.Id, SyncToken: entity.SyncToken, sparse: true }
        : { ...fields, [field]: r.externalId };
      // With a requestid, each bId may hold at most 10 characters.
      items.push({ bId: `b${i}`, record: r, operation: entity ? 'update' : 'create', body });
    }
    if (items.length === 0) return results;
    const route = 'POST /v3/company/{realmId}/batch';
    // The same items with the same SyncTokens make the same requestid (≤ 36 characters for a batch).
    const requestId = createHash('sha256')
      .update(
        JSON.stringify([
          object,
          items.map((i) => [i.operation, i.record.idempotencyKey, i.body.SyncToken ?? null]),
        ]),
      )
      .digest('hex')
      .slice(0, 36);
    const permit = await this.batchPermit(route);
    if (permit instanceof TargetError) {
      for (const i of items) results.set(i.record.key, { key: i.record.key, ok: false, error: permit });
      return results;
    }
    const res = await this.http.request({
      method: 'POST',
      path: this.path('batch', { requestid: requestId }),
      route,
      body: {
        BatchItemRequest: items.map((i) => ({ bId: i.bId, operation: i.operation, [object]: i.body })),
      },
      replaySafe: true,
    });
    permit?.release();
    if (!res.ok) throw res.error;
    if (res.status !== 200) throw callError(res, route);
    const answer = parseJson<{ BatchItemResponse?: BatchItemResponse[] }>(res.text)?.BatchItemResponse ?? [];
    const byBId = new Map(answer.map((a) => [a.bId, a]));
    for (const i of items) {
      const r = i.record;
      const a = byBId.get(i.bId);
      const entity = a?.[object] as Entity | undefined;
      if (a?.Fault) results.set(r.key, { key: r.key, ok: false, error: recordFaultError(a.Fault) });
      else if (entity?.Id)
        results.set(r.key, { key: r.key, ok: true, targetId: entity.Id, created: i.operation === 'create' });
      else {
        const error = new TargetError(
          QuickBooksErrorCode.badResponse,
          `QuickBooks left ${i.bId} (${r.externalId}) out of its batch answer`,
          {
            disposition: 'retryable',
          },
        );
        results.set(r.key, { key: r.key, ok: false, error });
      }
    }
    return results;
  }

  /** A slot in the batch endpoint's own minute, or the error that hands the records back. */
  private async batchPermit(route: string): Promise<{ release(): void } | undefined | TargetError> {
    if (!this.batchLimiter) return undefined;
    try {
      return await this.batchLimiter.acquire({ maxWaitMs: this.maxLimiterWaitMs });
    } catch (err) {
      if (!(err instanceof RateLimitWaitTooLongError)) throw err;
      return new TargetError(
        QuickBooksErrorCode.rateLimited,
        `QuickBooks ${route} not sent: ${err.message} (40 batch requests a minute; our own pacing, no call was made)`,
        { disposition: 'retryable', retryAfterSeconds: Math.max(1, Math.ceil(err.waitMs / 1000)) },
      );
    }
  }

  /** The payload as QuickBooks takes it: a null that clears becomes "" (a sparse update clears the field). */
  private fieldsOf(payload: Payload): Payload {
    const out: Payload = {};
    for (const [k, v] of Object.entries(applyNullPolicy(payload, this.nulls))) out[k] = v === null ? '' : v;
    return out;
  }

  private async query(object: string, statement: string): Promise<Entity[]> {
    const route = 'GET /v3/company/{realmId}/query';
    const res = await this.http.request({
      method: 'GET',
      path: this.path('query', { query: statement }),
      route,
    });
    if (!res.ok) throw res.error;
    if (res.status !== 200) throw callError(res, route);
    const body = parseJson<{ QueryResponse?: Record<string, unknown> }>(res.text);
    if (!body?.QueryResponse) {
      throw new TargetError(
        QuickBooksErrorCode.badResponse,
        `QuickBooks ${route} answered without a QueryResponse`,
        {
          disposition: 'retryable',
          httpStatus: res.status,
        },
      );
    }
    const rows = body.QueryResponse[object];
    return Array.isArray(rows) ? (rows as Entity[]) : [];
  }

  public async lookup(object: string, externalId: string): Promise<TargetRecord | undefined> {
    const field = this.extField(object);
    const [entity] = await this.query(object, selectIn(object, field, [externalId]));
    return entity ? this.toRecord(object, entity) : undefined;
  }

  public async get(object: string, targetId: string): Promise<TargetRecord | undefined> {
    const route = `GET /v3/company/{realmId}/${object.toLowerCase()}/{id}`;
    const res = await this.http.request({
      method: 'GET',
      path: this.path(`${object.toLowerCase()}/${encodeURIComponent(targetId)}`),
      route,
    });
    if (!res.ok) throw res.error;
    if (res.status === 404) return undefined;
    if (res.status !== 200) {
      const error = callError(res, route);
      if (error.code === QuickBooksErrorCode.notFound) return undefined;
      throw error;
    }
    const entity = parseJson<Record<string, Entity>>(res.text)?.[object];
    return entity ? this.toRecord(object, entity) : undefined;
  }

  public async *list(object: string): AsyncIterable<TargetRecord> {
    const page = 1000;
    for (let start = 1; ; start += page) {
      const rows = await this.query(object, selectPage(object, start, page));
      for (const e of rows) yield this.toRecord(object, e);
      if (rows.length < page) return;
    }
  }

  private toRecord(object: string, entity: Entity): TargetRecord {
    const ext = entity[this.extField(object)];
    return {
      targetId: String(entity.Id),
      externalId: ext === undefined || ext === null ? undefined : String(ext),
      fields: { ...entity },
    };
  }

  public metrics(): ConnectorMetrics {
    return connectorMetrics(this.http);
  }

  public async close(): Promise<void> {}
}

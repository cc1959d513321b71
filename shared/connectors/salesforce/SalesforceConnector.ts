import type { Payload } from '../../config/schema.ts';
import { TargetError } from '../../errors.ts';
import type { BearerSource } from '../../oauth/StableRefreshAuth.ts';
import { writeInCalls } from '../batching.ts';
import type {
  Connector,
  ConnectorCapabilities,
  ConnectorMetrics,
  TargetRecord,
  UpsertRecord,
  UpsertResult,
} from '../Connector.ts';
import { BearerAuth } from '../http/BearerAuth.ts';
import {
  connectorHttpClient,
  connectorMetrics,
  type HttpConnectorOptions,
} from '../http/connectorHttpClient.ts';
import { type HttpClient, type HttpResponse, isRetryableStatus, parseJson } from '../http/HttpClient.ts';
import type { RateLimitSpec } from '../http/RateLimiter.ts';
import { readJsonAnswer } from '../http/readJsonAnswer.ts';
import { parseRetryAfterMs } from '../http/retryAfter.ts';
import { bodyExcerpt, errorForStatus } from '../http/statusError.ts';
import { applyNullPolicy, defaultNullRule, type NullPolicy } from '../nullPolicy.ts';
import { failAll } from '../upsertResults.ts';

/** Stable error codes this connector puts on TargetError. */
export const SalesforceErrorCode = {
  /** A record's own error (REQUIRED_FIELD_MISSING, INVALID_EMAIL_ADDRESS, FIELD_CUSTOM_VALIDATION_EXCEPTION…). */
  record: 'SALESFORCE_RECORD_ERROR',
  /** UNABLE_TO_LOCK_ROW: another transaction holds the row; retried. */
  lock: 'SALESFORCE_LOCK_CONFLICT',
  /** REQUEST_LIMIT_EXCEEDED (403): the org's 24-hour allocation or its long-running request cap. */
  requestLimit: 'SALESFORCE_REQUEST_LIMIT_EXCEEDED',
  /** Our own pacing would wait too long (no call made). */
  rateLimited: 'SALESFORCE_RATE_LIMITED',
  unauthorized: 'SALESFORCE_UNAUTHORIZED',
  forbidden: 'SALESFORCE_FORBIDDEN',
  notFound: 'SALESFORCE_NOT_FOUND',
  /** A whole call refused (400: INVALID_FIELD, MALFORMED_QUERY…). */
  rejected: 'SALESFORCE_REQUEST_REJECTED',
  server: 'SALESFORCE_SERVER_ERROR',
  timeout: 'SALESFORCE_TIMEOUT',
  network: 'SALESFORCE_NETWORK_ERROR',
  badResponse: 'SALESFORCE_BAD_RESPONSE',
  /** No External ID field is configured for the object. */
  noExternalId: 'SALESFORCE_EXTERNAL_ID_MISSING',
  /** The token endpoint failed or did not answer (client credentials, web-server flow refresh): retried. */
  authUnavailable: 'SALESFORCE_AUTH_UNAVAILABLE',
  /** Salesforce rejected the web-server flow's refresh token (invalid_grant: revoked or expired by the app's policy): run `writeback connect --oauth` again. */
  invalidGrant: 'SALESFORCE_INVALID_GRANT',
} as const;

/**
 * An Enterprise org's base allocation is 100,000 requests per rolling 24 h (plus 1,000 per user
 * licence; set `dailyLimit`); long-running requests (20 s and more) are capped at 25 at once.
 */
export const SALESFORCE_RATE_LIMITS: RateLimitSpec = {
  windows: [{ name: 'day', limit: 100_000, intervalMs: 86_400_000 }],
  maxConcurrency: 25,
};

export interface SalesforceConnectorOptions extends HttpConnectorOptions {
  /** The org's instance URL: https://MyDomain.my.salesforce.com. */
  readonly instanceUrl: string;
  /** @default 'v62.0' (collections upsert needs 46.0 or later) */
  readonly apiVersion?: string;
  /** Instead of the credentials below: a web-server flow's access tokens, renewed with its refresh token. */
  readonly auth?: BearerSource;
  /** A session or OAuth access token used as is. Either this or clientId + clientSecret. */
  readonly accessToken?: string;
  /** Client-credentials flow of a connected app (token from {instanceUrl}/services/oauth2/token). */
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** The External ID field per sObject (`{ Account: 'Ext_Id__c' }`), or one name for all. */
  readonly externalIdField: string | Readonly<Record<string, string>>;
  /** Fields to read in lookup() and list(), per sObject or for all (Id and the External ID are always read). */
  readonly readFields?: readonly string[] | Readonly<Record<string, readonly string[]>>;
  /** The org's 24-hour allocation. @default 100_000 */
  readonly dailyLimit?: number;
  /** A whole spec to pace by, or false to pace nothing. */
  readonly rateLimit?: RateLimitSpec | false;
  /** @default `salesforce:<instanceUrl>` */
  readonly limiterKey?: string;
  /** Records per call, at most 200. @default 200 */
  readonly batchSize?: number;
  /** @default 60_000 (a 200-record upsert with triggers can take a while) */
  readonly timeoutMs?: number;
  /** @default 'clear' (JSON null clears the field) */
  readonly nulls?: NullPolicy;
}

interface UpsertAnswer {
  id?: string | null;
  success?: boolean;
  created?: boolean;
  errors?: { statusCode?: string; message?: string; fields?: string[] }[];
}

type SfErrorList = { message?: string; errorCode?: string }[];

const QUERY_PAGE = 2000;

/**
 * Salesforce sObjects upserted by an External ID field through sObject Collections:
 * `PATCH /services/data/vXX.X/composite/sobjects/{SObject}/{ExternalIdField}` with
 * `allOrNone: false` and up to 200 records, one UpsertResult per record in request order.
 *
 * The upsert is by external id, so a replay is an update (native upsert); Salesforce has no
 * idempotency key. A JSON null clears a field. Record errors are permanent except
 * UNABLE_TO_LOCK_ROW. REQUEST_LIMIT_EXCEEDED (a 403) is retryable: TotalRequests (the 24-hour
 * allocation) after an hour, the long-running cap after 20 s, and it pauses every writer of the
 * connection, as a 429 does elsewhere. 401 INVALID_SESSION_ID renews a client-credentials token once.
 */
export class SalesforceConnector implements Connector {
  public readonly type = 'salesforce';
  public readonly capabilities: ConnectorCapabilities;
  private readonly http: HttpClient;
  private readonly api: string;
  private readonly externalIdField: SalesforceConnectorOptions['externalIdField'];
  private readonly readFields: SalesforceConnectorOptions['readFields'];
  private readonly auth: BearerSource;
  private readonly batchSize: number;
  private readonly nulls: NullPolicy;

  public constructor(opts: SalesforceConnectorOptions) {
    const instanceUrl = opts.instanceUrl.replace(/\/+$/, '');
    this.auth =
      opts.auth ??
      new BearerAuth('SalesforceConnector', opts, {
        tokenUrl: `${instanceUrl}/services/oauth2/token`,
        clientAuth: 'body',
        codePrefix: 'SALESFORCE',
        vendor: 'Salesforce',
        ...(opts.fetch ? { fetch: opts.fetch } : {}),
      });
    this.api = `/services/data/${opts.apiVersion ?? 'v62.0'}`;
    this.externalIdField = opts.externalIdField;
    this.readFields = opts.readFields;
    this.batchSize = Math.max(1, Math.min(opts.batchSize ?? 200, 200));
    this.nulls = opts.nulls ?? 'clear';
    const spec: RateLimitSpec | undefined =
      opts.rateLimit === false
        ? undefined
        : (opts.rateLimit ?? {
            windows: [{ name: 'day', limit: opts.dailyLimit ?? 100_000, intervalMs: 86_400_000 }],
            maxConcurrency: 25,
          });
    this.capabilities = {
      nativeUpsert: true,
      idempotencyKey: false,
      maxBatchSize: this.batchSize,
      partialSuccess: 'per-record',
      rateLimits: spec ?? SALESFORCE_RATE_LIMITS,
      children: 'associated',
      versionToken: 'SystemModstamp',
      nulls: defaultNullRule(this.nulls),
    };
    this.http = connectorHttpClient(opts, {
      vendor: 'Salesforce',
      codePrefix: 'SALESFORCE',
      baseUrl: instanceUrl,
      rateLimit: spec,
      defaultLimiterKey: `salesforce:${instanceUrl}`,
      defaultTimeoutMs: 60_000,
      authHeaders: async () => ({ Authorization: await this.auth.authorization() }),
      secrets: () => this.auth.secrets(),
      isThrottled: (res) => res.status === 429 || requestLimit(res) !== undefined,
      isRetryable: (res) => isRetryableStatus(res.status) || requestLimit(res) !== undefined,
      retryAfterMs: salesforceRetryAfterMs,
    });
  }

  public metrics(): ConnectorMetrics {
    return connectorMetrics(this.http);
  }

  private externalIdFor(object: string): string | undefined {
    const f = this.externalIdField;
    return typeof f === 'string' ? f : f[object];
  }

  public async upsertBatch(object: string, records: readonly UpsertRecord[]): Promise<UpsertResult[]> {
    if (records.length === 0) return [];
    const extField = this.externalIdFor(object);
    if (extField === undefined) {
      const error = new TargetError(
        SalesforceErrorCode.noExternalId,
        `no External ID field configured for ${object}`,
        {
          disposition: 'permanent',
        },
      );
      return failAll(records, error);
    }
    return writeInCalls(records, this.batchSize, (call) => this.upsertChunk(object, extField, call));
  }

  private async upsertChunk(
    object: string,
    extField: string,
    records: readonly UpsertRecord[],
  ): Promise<UpsertResult[]> {
    const body = {
      allOrNone: false,
      records: records.map((r) => ({
        attributes: { type: object },
        ...toSalesforceFields(applyNullPolicy(r.payload, this.nulls)),
        [extField]: r.externalId,
      })),
    };
    const route = `PATCH ${this.api}/composite/sobjects/${object}/${extField}`;
    const res = await this.auth.renewingOn401(() =>
      this.http.request({
        method: 'PATCH',
        path: `${this.api}/composite/sobjects/${encodeURIComponent(object)}/${encodeURIComponent(extField)}`,
        route,
        body,
        // An upsert by external id: sending it twice has the effect of sending it once.
        replaySafe: true,
      }),
    );
    if (!res.ok) return failAll(records, res.error);
    if (res.status !== 200) return failAll(records, this.classify(res, route));
    const answers = parseJson<UpsertAnswer[]>(res.text);
    return records.map((r, i): UpsertResult => {
      const a = Array.isArray(answers) ? answers[i] : undefined;
      if (a?.success === true && typeof a.id === 'string') {
        return { key: r.key, ok: true, targetId: a.id, created: a.created === true };
      }
      if (a === undefined) {
        const error = new TargetError(
          SalesforceErrorCode.badResponse,
          `Salesforce's answer did not mention ${r.externalId}`,
          {
            disposition: 'retryable',
            httpStatus: 200,
          },
        );
        return { key: r.key, ok: false, error };
      }
      const errors = a.errors ?? [];
      const text = errors
        .map((e) => `${e.statusCode}: ${e.message}${e.fields?.length ? ` [${e.fields.join(', ')}]` : ''}`)
        .join('; ');
      const locked = errors.some((e) => e.statusCode === 'UNABLE_TO_LOCK_ROW');
      const error = new TargetError(
        locked ? SalesforceErrorCode.lock : SalesforceErrorCode.record,
        this.http.redact(`Salesforce refused ${object} ${r.externalId}: ${text || 'no detail'}`),
        { disposition: locked ? 'retryable' : 'permanent', httpStatus: 200 },
      );
      return { key: r.key, ok: false, error };
    });
  }

  public async lookup(object: string, externalId: string): Promise<TargetRecord | undefined> {
    const extField = this.externalIdFor(object);
    if (extField === undefined) {
      throw new TargetError(
        SalesforceErrorCode.noExternalId,
        `no External ID field configured for ${object}`,
        {
          disposition: 'permanent',
        },
      );
    }
    const route = `GET ${this.api}/sobjects/${object}/${extField}/{value}`;
    const res = await this.get_(
      `${this.api}/sobjects/${encodeURIComponent(object)}/${encodeURIComponent(extField)}/${encodeURIComponent(externalId)}`,
      route,
    );
    return res === undefined ? undefined : this.toTargetRecord(object, res);
  }

  public async get(object: string, targetId: string): Promise<TargetRecord | undefined> {
    const res = await this.get_(
      `${this.api}/sobjects/${encodeURIComponent(object)}/${encodeURIComponent(targetId)}`,
      `GET ${this.api}/sobjects/${object}/{id}`,
    );
    return res === undefined ? undefined : this.toTargetRecord(object, res);
  }

  public async *list(object: string): AsyncIterable<TargetRecord> {
    const extField = this.externalIdFor(object);
    const extra =
      this.readFields === undefined
        ? []
        : Array.isArray(this.readFields)
          ? this.readFields
          : ((this.readFields as Record<string, readonly string[]>)[object] ?? []);
    const fields = [...new Set(['Id', ...(extField ? [extField] : []), ...extra])];
    let path: string | undefined =
      `${this.api}/query?${new URLSearchParams({ q: `SELECT ${fields.join(', ')} FROM ${object}` })}`;
    while (path !== undefined) {
      const page = await this.get_(path, `GET ${this.api}/query`);
      const records = (page?.records as Record<string, unknown>[] | undefined) ?? [];
      for (const r of records) yield this.toTargetRecord(object, r);
      path =
        page?.done === false && typeof page.nextRecordsUrl === 'string' && records.length <= QUERY_PAGE
          ? page.nextRecordsUrl
          : undefined;
    }
  }

  public async close(): Promise<void> {
    // Global fetch pools its own sockets; nothing is held per connector.
  }

  // ---------------------------------------------------------------- helpers

  private toTargetRecord(object: string, r: Record<string, unknown>): TargetRecord {
    const extField = this.externalIdFor(object);
    const ext = extField === undefined ? undefined : r[extField];
    const { attributes: _attributes, ...fields } = r;
    return { targetId: String(r.Id ?? ''), externalId: typeof ext === 'string' ? ext : undefined, fields };
  }

  private async get_(path: string, route: string): Promise<Record<string, unknown> | undefined> {
    const res = await this.auth.renewingOn401(() => this.http.request({ method: 'GET', path, route }));
    return readJsonAnswer<Record<string, unknown>>(res, route, {
      vendor: 'Salesforce',
      badResponseCode: SalesforceErrorCode.badResponse,
      classify: (answer, r) => this.classify(answer, r),
    });
  }

  private classify(res: HttpResponse, route: string): TargetError {
    const { status } = res;
    const list = parseJson<SfErrorList>(res.text);
    const first = Array.isArray(list) ? list[0] : undefined;
    const detail = first ? `${first.errorCode}: ${first.message}` : bodyExcerpt(res.text, status);
    const message = this.http.redact(`Salesforce ${status} on ${route}: ${detail}`);
    const limit = requestLimit(res);
    if (limit !== undefined || status === 429) {
      const ms = salesforceRetryAfterMs(res, Date.now()) ?? 60_000;
      return new TargetError(SalesforceErrorCode.requestLimit, message, {
        disposition: 'retryable',
        httpStatus: status,
        retryAfterSeconds: Math.ceil(ms / 1000),
      });
    }
    return errorForStatus(status, message, {
      server: SalesforceErrorCode.server,
      unauthorized: SalesforceErrorCode.unauthorized,
      forbidden: SalesforceErrorCode.forbidden,
      notFound: SalesforceErrorCode.notFound,
      refused: SalesforceErrorCode.rejected,
    });
  }
}

// ---------------------------------------------------------------- pure helpers

/** The REQUEST_LIMIT_EXCEEDED message of a 403, if that is what it is. */
function requestLimit(res: HttpResponse): string | undefined {
  if (res.status !== 403) return undefined;
  const list = parseJson<SfErrorList>(res.text);
  const hit = Array.isArray(list) ? list.find((e) => e.errorCode === 'REQUEST_LIMIT_EXCEEDED') : undefined;
  return hit ? (hit.message ?? '') : undefined;
}

/**
 * How long Salesforce's limits ask us to wait: Retry-After when sent; for REQUEST_LIMIT_EXCEEDED
 * an hour when the 24-hour allocation (TotalRequests) is spent, 20 s for the long-running cap.
 */
export function salesforceRetryAfterMs(res: HttpResponse, now: number): number | undefined {
  const header = parseRetryAfterMs(res.headers.get('retry-after'), now);
  if (header !== undefined) return header;
  const limit = requestLimit(res);
  if (limit === undefined) return res.status === 429 ? 60_000 : undefined;
  return /TotalRequests/i.test(limit) ? 3_600_000 : 20_000;
}

/** Payload → sObject fields: null stays null (clears), Dates ISO 8601, bigint as a string. */
export function toSalesforceFields(payload: Payload): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(payload)) {
    if (v === undefined) continue;
    out[k] = v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? v.toString() : v;
  }
  return out;
}

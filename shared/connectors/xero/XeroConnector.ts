import { createHash } from 'node:crypto';
import type { Payload } from '../../config/schema.ts';
import { TargetError } from '../../errors.ts';
import type { TokenRotationPorts } from '../../oauth/TokenRotationPorts.ts';
import { chunks, writeInCalls } from '../batching.ts';
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
import { type HttpClient, type HttpResponse, parseJson } from '../http/HttpClient.ts';
import type { RateLimitSpec } from '../http/RateLimiter.ts';
import { RefreshTokenAuth } from '../http/RefreshTokenAuth.ts';
import { readJsonAnswer } from '../http/readJsonAnswer.ts';
import { parseRetryAfterMs } from '../http/retryAfter.ts';
import { bodyExcerpt, errorForStatus } from '../http/statusError.ts';
import { applyNullPolicy, defaultNullRule, type NullPolicy } from '../nullPolicy.ts';
import { failAll } from '../upsertResults.ts';

/** Stable error codes this connector puts on TargetError. */
export const XeroErrorCode = {
  /** An element's ValidationErrors (ERROR status), or a 400 ValidationException: fix the data or the mapping. */
  validation: 'XERO_VALIDATION_ERROR',
  /** 401: the token is wrong or expired and could not be renewed. */
  unauthorized: 'XERO_UNAUTHORIZED',
  /** 403: the tenant is not connected to the app, or the token lacks a scope. */
  forbidden: 'XERO_FORBIDDEN',
  notFound: 'XERO_NOT_FOUND',
  /** Another 4xx. */
  rejected: 'XERO_REQUEST_REJECTED',
  /** 429 (minute, day, concurrent or appminute limit), or our own pacing would wait too long. */
  rateLimited: 'XERO_RATE_LIMITED',
  server: 'XERO_SERVER_ERROR',
  timeout: 'XERO_TIMEOUT',
  network: 'XERO_NETWORK_ERROR',
  /** A 2xx whose body could not be read, or an answer that did not mention a record. */
  badResponse: 'XERO_BAD_RESPONSE',
  /** The sync's target.object is not one this connector writes. */
  unknownObject: 'XERO_UNKNOWN_OBJECT',
  /** The token endpoint failed, or another writer's refresh did not land in time: retried. */
  authUnavailable: 'XERO_AUTH_UNAVAILABLE',
  /** Xero rejected the refresh token (revoked, 60 days unused, or rotated over 30 minutes ago): run `writeback connect` again. */
  invalidGrant: 'XERO_INVALID_GRANT',
} as const;

/** Per tenant (organisation): 60 calls a minute, 5000 a day, 5 in progress (developer.xero.com, OAuth 2.0 limits). */
export const XERO_RATE_LIMITS: RateLimitSpec = {
  windows: [
    { name: 'minute', limit: 60, intervalMs: 60_000 },
    { name: 'day', limit: 5000, intervalMs: 86_400_000 },
  ],
  maxConcurrency: 5,
};

export interface XeroConnectorOptions extends HttpConnectorOptions {
  /** The organisation, sent as `xero-tenant-id` on every call. */
  readonly tenantId: string;
  /** A bearer token used as is (tests, short jobs). Either this or clientId + clientSecret. */
  readonly accessToken?: string;
  /** Custom connection credentials: tokens are fetched with the client-credentials grant and renewed. */
  readonly clientId?: string;
  readonly clientSecret?: string;
  /**
   * An OAuth 2.0 app's connection (`writeback connect`): the refresh token, with the access token
   * and its expiry as stored, and clientId (+ clientSecret unless a PKCE app). Refreshed through
   * `rotation`, one writer at a time, written back before use.
   */
  readonly refreshToken?: string;
  /** Epoch ms at which `accessToken` expires (with refreshToken). */
  readonly accessTokenExpiresAt?: number;
  /** The store and lease of the connection's rotating tokens; without them they are never refreshed. */
  readonly rotation?: TokenRotationPorts;
  /** Renew the access token this long before it expires. @default 60_000 */
  readonly refreshMarginMs?: number;
  /** The connection's name, for what to do when the refresh token is rejected (`writeback connect <name>`). */
  readonly connectionName?: string;
  /** Scopes to ask for. @default the app's configured scopes */
  readonly scope?: string;
  /** @default https://api.xero.com */
  readonly baseUrl?: string;
  /** Token endpoint base. @default https://identity.xero.com */
  readonly identityUrl?: string;
  /**
   * Lower limits (Starter plans: 1000 a day), a whole spec to pace by (tests compress time), or
   * false to pace nothing.
   */
  readonly rateLimit?: { perMinute?: number; perDay?: number; concurrency?: number } | RateLimitSpec | false;
  /** Connectors sharing a key share one limiter in this process. @default `xero:<tenantId>` */
  readonly limiterKey?: string;
  /** Elements per call; Xero advises about 50. @default 50 */
  readonly batchSize?: number;
  /** What a null in a payload does. @default 'clear' (sent as "", which clears the element) */
  readonly nulls?: NullPolicy;
}

type XeroObject = 'Contacts' | 'Invoices';

interface XeroElement {
  ContactID?: string;
  ContactNumber?: string;
  InvoiceID?: string;
  InvoiceNumber?: string;
  Type?: string;
  StatusAttributeString?: string;
  ValidationErrors?: { Message?: string }[];
  [k: string]: unknown;
}

interface XeroErrorBody {
  ErrorNumber?: number;
  Type?: string | null;
  Message?: string;
  Elements?: XeroElement[];
  Title?: string;
  Detail?: string;
}

const API = '/api.xro/2.0';
const PAGE_SIZE = 100;

/**
 * Xero Accounting Contacts and Invoices (with their LineItems embedded), written with
 * `POST /api.xro/2.0/{Contacts|Invoices}?summarizeErrors=false`: Xero's update-or-create, one
 * result per element.
 *
 * External ids: a contact's ContactNumber ("used to identify contacts in external systems", at
 * most 50 characters) and a sales invoice's InvoiceNumber (unique for ACCREC). A POST naming an
 * existing ContactNumber or ACCREC InvoiceNumber updates that record, so a replay never creates
 * a second one; a known target id (ContactID / InvoiceID from the link) is sent as well. Bills
 * (ACCPAY) have non-unique numbers: before creating one the connector looks its number up.
 *
 * Every write carries an Idempotency-Key derived from the records' idempotency keys, so a lost
 * answer can be replayed exactly (Xero keeps answers 6 minutes). `created` in a result is
 * "we had no target id": Xero's answer does not tell a create from an update.
 *
 * Errors: element ValidationErrors → permanent; 429 → retryable after Retry-After (or by
 * X-Rate-Limit-Problem); 5xx, timeouts, resets → retryable; 401/403/4xx → permanent. A null in a
 * payload is sent as "" and clears the element (nulls: 'keep' leaves it untouched); an element
 * left out keeps its value. LineItems, when given, replace the invoice's lines.
 */
export class XeroConnector implements Connector {
  public readonly type = 'xero';
  public readonly capabilities: ConnectorCapabilities;
  private readonly http: HttpClient;
  private readonly tenantId: string;
  private readonly auth: BearerAuth | RefreshTokenAuth;
  private readonly batchSize: number;
  private readonly nulls: NullPolicy;

  /** A connection on a rotating refresh token renews it (an expired access token is refreshed). */
  public async keepAlive(): Promise<void> {
    if (this.auth instanceof RefreshTokenAuth) await this.auth.authorization();
  }

  public constructor(opts: XeroConnectorOptions) {
    const tokenUrl = `${(opts.identityUrl ?? 'https://identity.xero.com').replace(/\/+$/, '')}/connect/token`;
    this.auth =
      opts.refreshToken && opts.clientId
        ? new RefreshTokenAuth({
            tokenUrl,
            clientId: opts.clientId,
            ...(opts.clientSecret ? { clientSecret: opts.clientSecret } : {}),
            tokens: {
              accessToken: opts.accessToken ?? '',
              refreshToken: opts.refreshToken,
              expiresAt: opts.accessTokenExpiresAt ?? 0,
            },
            ...(opts.rotation ? { rotation: opts.rotation } : {}),
            ...(opts.refreshMarginMs !== undefined ? { refreshMarginMs: opts.refreshMarginMs } : {}),
            codePrefix: 'XERO',
            vendor: 'Xero',
            ...(opts.connectionName ? { connection: opts.connectionName } : {}),
            ...(opts.fetch ? { fetch: opts.fetch } : {}),
          })
        : new BearerAuth('XeroConnector', opts, {
            tokenUrl,
            ...(opts.scope ? { scope: opts.scope } : {}),
            codePrefix: 'XERO',
            vendor: 'Xero',
            ...(opts.fetch ? { fetch: opts.fetch } : {}),
          });
    this.tenantId = opts.tenantId;
    this.batchSize = Math.max(1, Math.min(opts.batchSize ?? 50, 100));
    this.nulls = opts.nulls ?? 'clear';
    const rl = opts.rateLimit;
    const spec: RateLimitSpec | undefined =
      rl === false
        ? undefined
        : rl !== undefined && 'windows' in rl
          ? rl
          : {
              windows: [
                { name: 'minute', limit: rl?.perMinute ?? 60, intervalMs: 60_000 },
                { name: 'day', limit: rl?.perDay ?? 5000, intervalMs: 86_400_000 },
              ],
              maxConcurrency: rl?.concurrency ?? 5,
            };
    this.capabilities = {
      nativeUpsert: true,
      idempotencyKey: true,
      maxBatchSize: this.batchSize,
      partialSuccess: 'per-record',
      rateLimits: spec ?? XERO_RATE_LIMITS,
      children: 'embedded',
      versionToken: 'UpdatedDateUTC',
      nulls: defaultNullRule(this.nulls),
    };
    this.http = connectorHttpClient(opts, {
      vendor: 'Xero',
      codePrefix: 'XERO',
      baseUrl: opts.baseUrl ?? 'https://api.xero.com',
      rateLimit: spec,
      defaultLimiterKey: `xero:${opts.tenantId}`,
      idempotentWrites: true,
      authHeaders: async () => ({
        Authorization: await this.auth.authorization(),
        'xero-tenant-id': this.tenantId,
      }),
      secrets: () => this.auth.secrets(),
      // Xero keeps an internal error under its Idempotency-Key: replaying it inline would replay the error.
      isRetryable: (res) => [408, 429, 502, 503, 504].includes(res.status),
      retryAfterMs: xeroRetryAfterMs,
    });
  }

  public metrics(): ConnectorMetrics {
    return connectorMetrics(this.http);
  }

  public async upsertBatch(object: string, records: readonly UpsertRecord[]): Promise<UpsertResult[]> {
    if (records.length === 0) return [];
    const obj = xeroObject(object);
    if (obj === undefined) return failAll(records, unknownObject(object));
    return writeInCalls(records, this.batchSize, (call) => this.writeChunk(obj, call));
  }

  private async writeChunk(obj: XeroObject, records: readonly UpsertRecord[]): Promise<UpsertResult[]> {
    const known = obj === 'Invoices' ? await this.findBills(records) : new Map<string, string>();
    const elements = records.map((r) => this.toElement(obj, r, known.get(r.key)));
    const key = idempotencyKey(obj, records);
    const send = (k: string | undefined) =>
      this.auth.renewingOn401(() =>
        this.http.request({
          method: 'POST',
          path: `${API}/${obj}?summarizeErrors=false`,
          route: `POST ${API}/${obj}`,
          body: { [obj]: elements },
          headers: k ? { 'Idempotency-Key': k } : {},
          replaySafe: true,
        }),
      );
    let res = await send(key);
    if (key && res.ok && res.status === 400 && /Idempotency Key .* different request/i.test(res.text)) {
      // Our key met another request (a batch reshaped by redelivery): the upsert is safe without it.
      res = await send(`${key}-r`);
    }
    if (!res.ok) return failAll(records, res.error);
    const body = parseJson<XeroErrorBody & Record<string, unknown>>(res.text);
    if (res.status === 200) {
      const items = body?.[obj];
      if (!Array.isArray(items)) {
        const error = new TargetError(
          XeroErrorCode.badResponse,
          `Xero answered 200 to POST ${obj} without ${obj}`,
          {
            disposition: 'retryable',
            httpStatus: 200,
          },
        );
        return failAll(records, error);
      }
      return this.mapElements(obj, records, items as XeroElement[], false);
    }
    if (res.status === 400 && Array.isArray(body?.Elements)) {
      // A summarised 400: nothing was written; the valid elements go round again.
      return this.mapElements(obj, records, body.Elements, true);
    }
    return failAll(records, this.classify(res, `POST ${API}/${obj}`));
  }

  /** Bills (ACCPAY) have non-unique numbers: find the InvoiceID of those we may have created already. */
  private async findBills(records: readonly UpsertRecord[]): Promise<Map<string, string>> {
    const bills = records.filter((r) => !r.targetId && r.payload.Type === 'ACCPAY');
    const found = new Map<string, string>();
    if (bills.length === 0) return found;
    const q = new URLSearchParams({
      InvoiceNumbers: bills.map((r) => r.externalId).join(','),
      where: 'Type=="ACCPAY"',
      page: '1',
      pageSize: '1000',
    });
    const page = await this.getJson<{ Invoices?: XeroElement[] }>(
      `${API}/Invoices?${q}`,
      `GET ${API}/Invoices`,
    );
    for (const r of bills) {
      const hit = page?.Invoices?.find(
        (i) => i.InvoiceNumber === r.externalId && typeof i.InvoiceID === 'string',
      );
      if (hit?.InvoiceID) found.set(r.key, hit.InvoiceID);
    }
    return found;
  }

  private toElement(obj: XeroObject, r: UpsertRecord, foundId: string | undefined): Record<string, unknown> {
    const fields = toXeroFields(applyNullPolicy(r.payload, this.nulls));
    const id = r.targetId ?? foundId;
    if (obj === 'Contacts')
      return { ...fields, ContactNumber: r.externalId, ...(id ? { ContactID: id } : {}) };
    return { Type: 'ACCREC', ...fields, InvoiceNumber: r.externalId, ...(id ? { InvoiceID: id } : {}) };
  }

  /** Matches elements to records by position (Xero answers in request order), checking the number. */
  private mapElements(
    obj: XeroObject,
    records: readonly UpsertRecord[],
    items: readonly XeroElement[],
    nothingWritten: boolean,
  ): UpsertResult[] {
    const numberOf = (e: XeroElement | undefined) =>
      obj === 'Contacts' ? e?.ContactNumber : e?.InvoiceNumber;
    return records.map((r, i) => {
      let e = items[i];
      if (numberOf(e) !== r.externalId) e = items.find((x) => numberOf(x) === r.externalId);
      const messages = (e?.ValidationErrors ?? []).map((v) => v.Message).filter((m): m is string => !!m);
      if (e !== undefined && (e.StatusAttributeString === 'ERROR' || messages.length > 0)) {
        const error = new TargetError(
          XeroErrorCode.validation,
          this.http.redact(
            `Xero refused ${obj} ${r.externalId}: ${messages.join('; ') || 'ValidationErrors'}`,
          ),
          { disposition: 'permanent', httpStatus: 400 },
        );
        return { key: r.key, ok: false, error };
      }
      const targetId = obj === 'Contacts' ? e?.ContactID : e?.InvoiceID;
      if (e === undefined || nothingWritten || typeof targetId !== 'string') {
        const why = nothingWritten
          ? 'not written: Xero refused the whole call because of another element'
          : 'not mentioned in the answer';
        const error = new TargetError(XeroErrorCode.badResponse, `Xero ${obj} ${r.externalId} ${why}`, {
          disposition: 'retryable',
        });
        return { key: r.key, ok: false, error };
      }
      return { key: r.key, ok: true, targetId, created: r.targetId === undefined };
    });
  }

  public async lookup(object: string, externalId: string): Promise<TargetRecord | undefined> {
    const obj = requireObject(object);
    const path =
      obj === 'Contacts'
        ? `${API}/Contacts/${encodeURIComponent(externalId)}`
        : `${API}/Invoices?${new URLSearchParams({ InvoiceNumbers: externalId, page: '1' })}`;
    const page = await this.getJson<Record<string, XeroElement[]>>(path, `GET ${API}/${obj}`);
    const item = page?.[obj]?.find(
      (e) => (obj === 'Contacts' ? e.ContactNumber : e.InvoiceNumber) === externalId,
    );
    return item ? toTargetRecord(obj, item) : undefined;
  }

  public async get(object: string, targetId: string): Promise<TargetRecord | undefined> {
    const obj = requireObject(object);
    const page = await this.getJson<Record<string, XeroElement[]>>(
      `${API}/${obj}/${encodeURIComponent(targetId)}`,
      `GET ${API}/${obj}/{id}`,
    );
    const item = page?.[obj]?.[0];
    return item ? toTargetRecord(obj, item) : undefined;
  }

  public async *list(object: string): AsyncIterable<TargetRecord> {
    const obj = requireObject(object);
    for (let page = 1; ; page++) {
      const q = new URLSearchParams({ page: String(page), pageSize: String(PAGE_SIZE) });
      if (obj === 'Contacts') q.set('includeArchived', 'true');
      const body = await this.getJson<
        Record<string, XeroElement[]> & { pagination?: { pageCount?: number } }
      >(`${API}/${obj}?${q}`, `GET ${API}/${obj}`);
      const items = body?.[obj] ?? [];
      for (const item of items) yield toTargetRecord(obj, item);
      if (items.length < PAGE_SIZE || page >= (body?.pagination?.pageCount ?? page)) return;
    }
  }

  /** Contacts become ARCHIVED; invoices DELETED (drafts) — Xero refuses it for approved ones, per element. */
  public async archive(object: string, targetIds: readonly string[]): Promise<UpsertResult[]> {
    const obj = requireObject(object);
    const records = targetIds.map((id) => ({
      key: id,
      externalId: id,
      targetId: id,
      idempotencyKey: `archive:${id}`,
      payload: {},
    }));
    const out: UpsertResult[] = [];
    for (const chunk of chunks(records, this.batchSize)) {
      const elements = chunk.map((r) =>
        obj === 'Contacts'
          ? { ContactID: r.targetId, ContactStatus: 'ARCHIVED' }
          : { InvoiceID: r.targetId, Status: 'DELETED' },
      );
      const res = await this.auth.renewingOn401(() =>
        this.http.request({
          method: 'POST',
          path: `${API}/${obj}?summarizeErrors=false`,
          route: `POST ${API}/${obj}`,
          body: { [obj]: elements },
          replaySafe: true,
        }),
      );
      if (!res.ok || res.status !== 200) {
        const error = res.ok ? this.classify(res, `POST ${API}/${obj}`) : res.error;
        out.push(...failAll(chunk, error));
        continue;
      }
      const items = (parseJson<Record<string, XeroElement[]>>(res.text)?.[obj] ?? []) as XeroElement[];
      out.push(
        ...chunk.map((r, i): UpsertResult => {
          const e = items[i];
          const bad = e?.StatusAttributeString === 'ERROR';
          return bad || !e
            ? {
                key: r.key,
                ok: false,
                error: new TargetError(
                  XeroErrorCode.validation,
                  `Xero refused to archive ${r.key}: ${(e?.ValidationErrors ?? []).map((v) => v.Message).join('; ')}`,
                  { disposition: 'permanent' },
                ),
              }
            : { key: r.key, ok: true, targetId: r.key, created: false };
        }),
      );
    }
    return out;
  }

  public async close(): Promise<void> {
    // Global fetch pools its own sockets; nothing is held per connector.
  }

  // ---------------------------------------------------------------- helpers

  private async getJson<T>(path: string, route: string): Promise<T | undefined> {
    const res = await this.auth.renewingOn401(() => this.http.request({ method: 'GET', path, route }));
    return readJsonAnswer<T>(res, route, {
      vendor: 'Xero',
      badResponseCode: XeroErrorCode.badResponse,
      classify: (answer, r) => this.classify(answer, r),
    });
  }

  /** Classifies a whole-call answer that carries no per-element results. */
  private classify(res: HttpResponse, route: string): TargetError {
    const { status } = res;
    const body = parseJson<XeroErrorBody>(res.text);
    const detail = body?.Message ?? body?.Detail ?? bodyExcerpt(res.text, status);
    if (status === 429) {
      const problem = res.headers.get('x-rate-limit-problem') ?? 'unknown';
      const ms = xeroRetryAfterMs(res, Date.now()) ?? 60_000;
      return new TargetError(
        XeroErrorCode.rateLimited,
        `Xero 429 on ${route}: the ${problem} limit was reached`,
        {
          disposition: 'retryable',
          httpStatus: 429,
          retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)),
        },
      );
    }
    const hint =
      status === 403
        ? ' (is the tenant connected to the app, and does the token have the accounting scopes?)'
        : '';
    return errorForStatus(status, this.http.redact(`Xero ${status} on ${route}: ${detail}`) + hint, {
      server: XeroErrorCode.server,
      unauthorized: XeroErrorCode.unauthorized,
      forbidden: XeroErrorCode.forbidden,
      notFound: XeroErrorCode.notFound,
      refused:
        status === 400 && body?.Type === 'ValidationException'
          ? XeroErrorCode.validation
          : XeroErrorCode.rejected,
    });
  }
}

// ---------------------------------------------------------------- pure helpers (exported for unit tests)

/**
 * How long Xero asks us to wait: Retry-After (sent for the minute and day limits), else by
 * X-Rate-Limit-Problem: concurrent 1 s, minute and appminute 60 s, day 1 h.
 */
export function xeroRetryAfterMs(res: HttpResponse, now: number): number | undefined {
  const header = parseRetryAfterMs(res.headers.get('retry-after'), now);
  if (header !== undefined) return header;
  if (res.status !== 429) return undefined;
  switch (res.headers.get('x-rate-limit-problem')?.toLowerCase()) {
    case 'concurrent':
      return 1_000;
    case 'day':
      return 3_600_000;
    default:
      return 60_000;
  }
}

/** Payload → Xero elements: null → "" (clears), Dates → YYYY-MM-DD, the rest as JSON. */
export function toXeroFields(payload: Payload): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(payload)) {
    if (v === undefined) continue;
    if (v === null) out[k] = '';
    else if (v instanceof Date) out[k] = v.toISOString().slice(0, 10);
    else if (typeof v === 'bigint') out[k] = v.toString();
    else out[k] = v;
  }
  return out;
}

/**
 * A deterministic key per batch (≤ 128 characters) of the records it may create: the same creates
 * give the same key, so a replay after a lost answer is answered from Xero's memory instead of
 * creating twice. Updates (records addressed by their ContactID or InvoiceID) need none: replaying
 * one writes the same again. Under a key shared with its earlier writes, an update would be refused
 * as "used with a different request" for as long as Xero keeps the key, and one reverting a record
 * to content it had before would be answered from memory and not written at all.
 * Undefined when the batch creates nothing.
 */
export function idempotencyKey(object: string, records: readonly UpsertRecord[]): string | undefined {
  const creates = records.filter((r) => r.targetId === undefined);
  if (creates.length === 0) return undefined;
  const h = createHash('sha256');
  h.update(object);
  for (const r of creates) h.update(`\n${r.idempotencyKey}`);
  return `wb-${h.digest('hex').slice(0, 48)}`;
}

function xeroObject(object: string): XeroObject | undefined {
  const o = object.toLowerCase();
  return o === 'contacts' ? 'Contacts' : o === 'invoices' ? 'Invoices' : undefined;
}

function unknownObject(object: string): TargetError {
  return new TargetError(
    XeroErrorCode.unknownObject,
    `Xero connector writes Contacts and Invoices, not ${object} (check target.object)`,
    { disposition: 'permanent' },
  );
}

function requireObject(object: string): XeroObject {
  const obj = xeroObject(object);
  if (obj === undefined) throw unknownObject(object);
  return obj;
}

function toTargetRecord(obj: XeroObject, e: XeroElement): TargetRecord {
  const targetId = (obj === 'Contacts' ? e.ContactID : e.InvoiceID) ?? '';
  const externalId = obj === 'Contacts' ? e.ContactNumber : e.InvoiceNumber;
  return { targetId, externalId, fields: { ...e } };
}

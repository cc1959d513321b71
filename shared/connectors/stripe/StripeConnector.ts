import { createHash } from 'node:crypto';
import type { Payload } from '../../config/schema.ts';
import { TargetError } from '../../errors.ts';
import { forEachLimit } from '../../util/forEachLimit.ts';
import { waves } from '../batching.ts';
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
import { type HttpClient, type HttpResponse, type HttpResult, parseJson } from '../http/HttpClient.ts';
import type { RateLimitSpec } from '../http/RateLimiter.ts';
import { readJsonAnswer } from '../http/readJsonAnswer.ts';
import { parseRetryAfterMs } from '../http/retryAfter.ts';
import { Secret } from '../http/Secret.ts';
import { errorForStatus } from '../http/statusError.ts';
import { applyNullPolicy, defaultNullRule, type NullPolicy } from '../nullPolicy.ts';
import { failAll } from '../upsertResults.ts';
import { toStripeForm } from './formEncoding.ts';

/** Stable error codes this connector puts on TargetError. */
export const StripeErrorCode = {
  /** invalid_request_error on a record (email_invalid, parameter_unknown…): fix the data or the mapping. */
  invalid: 'STRIPE_INVALID_REQUEST',
  /** The object behind a link was deleted in Stripe (resource_missing). */
  notFound: 'STRIPE_NOT_FOUND',
  /** 409 idempotency_key_in_use: the same write is still running elsewhere. */
  inProgress: 'STRIPE_IDEMPOTENCY_IN_PROGRESS',
  rateLimited: 'STRIPE_RATE_LIMITED',
  unauthorized: 'STRIPE_UNAUTHORIZED',
  forbidden: 'STRIPE_FORBIDDEN',
  server: 'STRIPE_SERVER_ERROR',
  timeout: 'STRIPE_TIMEOUT',
  network: 'STRIPE_NETWORK_ERROR',
  badResponse: 'STRIPE_BAD_RESPONSE',
  unknownObject: 'STRIPE_UNKNOWN_OBJECT',
  /** An invoice names a customer by our external id and no such customer exists yet. */
  parentMissing: 'STRIPE_PARENT_NOT_FOUND',
} as const;

/** Stripe: 25 requests per second per endpoint (and 25 in test mode overall, 100 live). */
export const STRIPE_RATE_LIMITS: RateLimitSpec = {
  windows: [{ name: 'second', limit: 25, intervalMs: 1000 }],
  maxConcurrency: 10,
};

export interface StripeConnectorOptions extends HttpConnectorOptions {
  /** Secret (sk_…) or restricted (rk_…) key. */
  readonly apiKey: string;
  /** @default https://api.stripe.com */
  readonly baseUrl?: string;
  /** Metadata key holding our external id. @default 'writeback_id' */
  readonly externalIdKey?: string;
  /** Stripe-Version header (search needs 2020-08-27 or later). @default the account's version */
  readonly apiVersion?: string;
  /** How far back lookups list recent objects, because search lags writes. @default 3600 (Stripe: search can be an hour behind in outages) */
  readonly recentWindowSeconds?: number;
  /** Records written at once within a batch (each is one call). @default 8 */
  readonly concurrency?: number;
  /** @default STRIPE_RATE_LIMITS; false to pace nothing */
  readonly rateLimit?: RateLimitSpec | false;
  /** @default `stripe:` + a hash of the key */
  readonly limiterKey?: string;
  /** @default 'clear' (sent as '', which unsets a field and deletes a metadata key) */
  readonly nulls?: NullPolicy;
}

type Kind = 'customers' | 'invoices';

interface StripeObject {
  id?: string;
  object?: string;
  deleted?: boolean;
  metadata?: Record<string, string>;
  [k: string]: unknown;
}

interface StripeErrorBody {
  error?: { type?: string; code?: string; message?: string; param?: string };
}

const BATCH = 25;

/**
 * Stripe Customers and Invoices, one object per call (Stripe has no batch write), several calls
 * at once within the connection's limiter. Our external id lives in `metadata[writeback_id]`.
 *
 * Stripe has no upsert, so a record without a target id is created with an Idempotency-Key
 * derived from the external id alone: replaying the create (same content) returns the customer
 * created the first time (`Idempotent-Replayed`), and a create with other content under that key
 * (a newer version after a lost answer) is refused by Stripe with idempotency_error — the sign that
 * the object exists. The connector then finds it and updates it. A record with a target id is
 * updated by id.
 *
 * Lookups do not trust search alone: Stripe's search lags writes (under a minute, up to an hour
 * in outages), so a miss in search is checked against the objects this connector wrote and the
 * list of objects created within `recentWindowSeconds` (list APIs are consistent at once).
 * Invoices may name their customer by our external id (`customerExternalId`), resolved the same way.
 */
export class StripeConnector implements Connector {
  public readonly type = 'stripe';
  public readonly capabilities: ConnectorCapabilities;
  private readonly http: HttpClient;
  private readonly extKey: string;
  private readonly recentSeconds: number;
  private readonly concurrency: number;
  private readonly nulls: NullPolicy;
  /** external id → Stripe id of objects this process wrote (read-after-write without search). */
  private readonly written: Record<Kind, Map<string, string>> = { customers: new Map(), invoices: new Map() };

  public constructor(opts: StripeConnectorOptions) {
    const key = new Secret(opts.apiKey);
    this.extKey = opts.externalIdKey ?? 'writeback_id';
    this.recentSeconds = opts.recentWindowSeconds ?? 3600;
    this.concurrency = Math.max(1, opts.concurrency ?? 8);
    this.nulls = opts.nulls ?? 'clear';
    const spec = opts.rateLimit === false ? undefined : (opts.rateLimit ?? STRIPE_RATE_LIMITS);
    this.capabilities = {
      nativeUpsert: false,
      idempotencyKey: true,
      maxBatchSize: BATCH,
      partialSuccess: 'per-record',
      rateLimits: spec ?? STRIPE_RATE_LIMITS,
      children: 'associated',
      versionToken: undefined,
      nulls: defaultNullRule(this.nulls),
    };
    const keyHash = createHash('sha256').update(opts.apiKey).digest('hex').slice(0, 12);
    this.http = connectorHttpClient(opts, {
      vendor: 'Stripe',
      codePrefix: 'STRIPE',
      baseUrl: opts.baseUrl ?? 'https://api.stripe.com',
      rateLimit: spec,
      defaultLimiterKey: `stripe:${keyHash}`,
      idempotentWrites: true,
      authHeaders: () => ({
        Authorization: `Bearer ${key.reveal()}`,
        ...(opts.apiVersion ? { 'Stripe-Version': opts.apiVersion } : {}),
      }),
      secrets: () => [key.reveal()],
    });
  }

  public metrics(): ConnectorMetrics {
    return connectorMetrics(this.http);
  }

  public async upsertBatch(object: string, records: readonly UpsertRecord[]): Promise<UpsertResult[]> {
    const kind = stripeKind(object);
    if (kind === undefined) return failAll(records, unknownObject(object));
    const results: UpsertResult[] = [];
    for (const wave of waves(records)) {
      await forEachLimit(wave, this.concurrency, async (r) => {
        results.push(await this.writeOne(kind, r));
      });
    }
    return results;
  }

  private async writeOne(kind: Kind, r: UpsertRecord): Promise<UpsertResult> {
    const fail = (error: TargetError): UpsertResult => ({ key: r.key, ok: false, error });
    let params: Record<string, unknown>;
    try {
      params = await this.toParams(kind, r);
    } catch (err) {
      if (err instanceof TargetError) return fail(err);
      throw err;
    }
    if (r.targetId) return this.update(kind, r, r.targetId, params);
    const createKey = `wb-${hash(`${kind}:${r.externalId}`)}`;
    const res = await this.post(`/v1/${kind}`, params, createKey);
    if (!res.ok) return fail(res.error);
    const replayed = res.headers.get('idempotent-replayed') === 'true';
    const body = parseJson<StripeObject & StripeErrorBody>(res.text);
    if (res.status === 200 && typeof body?.id === 'string') {
      this.written[kind].set(r.externalId, body.id);
      return { key: r.key, ok: true, targetId: body.id, created: !replayed };
    }
    // Created before under this key with other content, or a saved failure replayed: find it, update it.
    if (body?.error?.type === 'idempotency_error' && res.status === 400)
      return this.recover(kind, r, params, createKey);
    if (replayed && res.status >= 500) return this.recover(kind, r, params, createKey);
    return fail(this.classify(res, `POST /v1/${kind}`));
  }

  private async recover(
    kind: Kind,
    r: UpsertRecord,
    params: Record<string, unknown>,
    createKey: string,
  ): Promise<UpsertResult> {
    let found: TargetRecord | undefined;
    try {
      found = await this.lookup(kind, r.externalId);
    } catch (err) {
      if (err instanceof TargetError) return { key: r.key, ok: false, error: err };
      throw err;
    }
    if (found) return this.update(kind, r, found.targetId, params);
    // Nothing was created under the key (a saved failure): create under a key for this content.
    const res = await this.post(`/v1/${kind}`, params, `${createKey}-${hash(JSON.stringify(params))}`);
    if (!res.ok) return { key: r.key, ok: false, error: res.error };
    const body = parseJson<StripeObject>(res.text);
    if (res.status === 200 && typeof body?.id === 'string') {
      this.written[kind].set(r.externalId, body.id);
      return {
        key: r.key,
        ok: true,
        targetId: body.id,
        created: res.headers.get('idempotent-replayed') !== 'true',
      };
    }
    return { key: r.key, ok: false, error: this.classify(res, `POST /v1/${kind}`) };
  }

  private async update(
    kind: Kind,
    r: UpsertRecord,
    id: string,
    params: Record<string, unknown>,
  ): Promise<UpsertResult> {
    const { customer: _customer, ...updatable } = params;
    const body = kind === 'invoices' ? updatable : params;
    const res = await this.post(
      `/v1/${kind}/${encodeURIComponent(id)}`,
      body,
      `wb-${hash(`update:${id}:${r.idempotencyKey}`)}`,
    );
    if (!res.ok) return { key: r.key, ok: false, error: res.error };
    const obj = parseJson<StripeObject>(res.text);
    if (res.status === 200 && typeof obj?.id === 'string') {
      this.written[kind].set(r.externalId, obj.id);
      return { key: r.key, ok: true, targetId: obj.id, created: false };
    }
    return { key: r.key, ok: false, error: this.classify(res, `POST /v1/${kind}/{id}`) };
  }

  /** Form parameters: the payload (nulls per policy), our external id in metadata, an invoice's customer resolved. */
  private async toParams(kind: Kind, r: UpsertRecord): Promise<Record<string, unknown>> {
    const payload: Payload = applyNullPolicy(r.payload, this.nulls);
    const { customerExternalId, metadata, ...rest } = payload as Payload & {
      customerExternalId?: unknown;
      metadata?: unknown;
    };
    const params: Record<string, unknown> = {
      ...rest,
      metadata: {
        ...(typeof metadata === 'object' && metadata !== null ? metadata : {}),
        [this.extKey]: r.externalId,
      },
    };
    if (kind === 'invoices' && typeof customerExternalId === 'string' && params.customer === undefined) {
      const parent = await this.lookup('customers', customerExternalId);
      if (!parent) {
        throw new TargetError(
          StripeErrorCode.parentMissing,
          `no Stripe customer holds ${this.extKey}=${customerExternalId} yet`,
          {
            disposition: 'retryable',
            retryAfterSeconds: 30,
          },
        );
      }
      params.customer = parent.targetId;
    }
    return params;
  }

  private post(path: string, params: Record<string, unknown>, idempotencyKey: string): Promise<HttpResult> {
    return this.http.request({
      method: 'POST',
      path,
      route: `POST ${path.replace(/\/[a-z]+_[A-Za-z0-9]+$/, '/{id}')}`,
      body: toStripeForm(params),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Idempotency-Key': idempotencyKey },
      replaySafe: true,
    });
  }

  public async lookup(object: string, externalId: string): Promise<TargetRecord | undefined> {
    const kind = requireKind(object);
    const known = this.written[kind].get(externalId);
    if (known) {
      const got = await this.get(kind, known);
      if (got && got.externalId === externalId) return got;
    }
    // Search first (cheap), then what search may not show yet: objects created recently.
    const q = new URLSearchParams({
      query: `metadata['${this.extKey}']:'${externalId.replace(/'/g, "\\'")}'`,
      limit: '10',
    });
    const hits = await this.getJson<{ data?: StripeObject[] }>(`/v1/${kind}/search?${q}`);
    const hit = hits?.data?.find((o) => o.metadata?.[this.extKey] === externalId);
    if (hit) return this.toTargetRecord(hit);
    const since = Math.floor(Date.now() / 1000) - this.recentSeconds;
    let after: string | undefined;
    for (let page = 0; page < 50; page++) {
      const lq = new URLSearchParams({ limit: '100', 'created[gte]': String(since) });
      if (after) lq.set('starting_after', after);
      const list = await this.getJson<{ data?: StripeObject[]; has_more?: boolean }>(`/v1/${kind}?${lq}`);
      const found = list?.data?.find((o) => o.metadata?.[this.extKey] === externalId);
      if (found) return this.toTargetRecord(found);
      const last = list?.data?.at(-1)?.id;
      if (!list?.has_more || !last) return undefined;
      after = last;
    }
    return undefined;
  }

  public async get(object: string, targetId: string): Promise<TargetRecord | undefined> {
    const kind = requireKind(object);
    const o = await this.getJson<StripeObject>(`/v1/${kind}/${encodeURIComponent(targetId)}`);
    return o && !o.deleted ? this.toTargetRecord(o) : undefined;
  }

  public async *list(object: string): AsyncIterable<TargetRecord> {
    const kind = requireKind(object);
    let after: string | undefined;
    for (;;) {
      const q = new URLSearchParams({ limit: '100' });
      if (after) q.set('starting_after', after);
      const page = await this.getJson<{ data?: StripeObject[]; has_more?: boolean }>(`/v1/${kind}?${q}`);
      for (const o of page?.data ?? []) yield this.toTargetRecord(o);
      after = page?.data?.at(-1)?.id;
      if (!page?.has_more || !after) return;
    }
  }

  /** Customers are deleted (Stripe's only way), draft invoices too. */
  public async archive(object: string, targetIds: readonly string[]): Promise<UpsertResult[]> {
    const kind = requireKind(object);
    const out: UpsertResult[] = [];
    for (const id of targetIds) {
      const res = await this.http.request({
        method: 'DELETE',
        path: `/v1/${kind}/${encodeURIComponent(id)}`,
        route: `DELETE /v1/${kind}/{id}`,
        replaySafe: true,
      });
      if (!res.ok) out.push({ key: id, ok: false, error: res.error });
      else if (res.status === 200 || res.status === 404)
        out.push({ key: id, ok: true, targetId: id, created: false });
      else out.push({ key: id, ok: false, error: this.classify(res, `DELETE /v1/${kind}/{id}`) });
    }
    return out;
  }

  public async close(): Promise<void> {
    // Global fetch pools its own sockets; nothing is held per connector.
  }

  // ---------------------------------------------------------------- helpers

  private toTargetRecord(o: StripeObject): TargetRecord {
    return { targetId: String(o.id ?? ''), externalId: o.metadata?.[this.extKey], fields: { ...o } };
  }

  private async getJson<T>(path: string): Promise<T | undefined> {
    const route = `GET ${path.split('?')[0]?.replace(/\/[a-z]+_[A-Za-z0-9]+$/, '/{id}')}`;
    return readJsonAnswer<T>(await this.http.request({ method: 'GET', path, route }), route, {
      vendor: 'Stripe',
      badResponseCode: StripeErrorCode.badResponse,
      classify: (res, r) => this.classify(res, r),
    });
  }

  private classify(res: HttpResponse, route: string): TargetError {
    const { status } = res;
    const e = parseJson<StripeErrorBody>(res.text)?.error;
    const detail = e
      ? `${e.type}${e.code ? `/${e.code}` : ''}: ${e.message}${e.param ? ` (param ${e.param})` : ''}`
      : `HTTP ${status}`;
    const message = this.http.redact(`Stripe ${status} on ${route}: ${detail}`);
    if (status === 429) {
      // Stripe's 429 carries no documented Retry-After; honour one when present.
      const ms = parseRetryAfterMs(res.headers.get('retry-after'), Date.now()) ?? 1000;
      return new TargetError(StripeErrorCode.rateLimited, message, {
        disposition: 'retryable',
        httpStatus: 429,
        retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)),
      });
    }
    if (status === 409)
      return new TargetError(StripeErrorCode.inProgress, message, {
        disposition: 'retryable',
        httpStatus: 409,
        retryAfterSeconds: 1,
      });
    return errorForStatus(
      status,
      message,
      {
        server: StripeErrorCode.server,
        unauthorized: StripeErrorCode.unauthorized,
        forbidden: StripeErrorCode.forbidden,
        notFound: StripeErrorCode.notFound,
        refused: e?.code === 'resource_missing' ? StripeErrorCode.notFound : StripeErrorCode.invalid,
      },
      // Stripe's 408 has always counted as a refusal here; keeping it so changes no record's fate.
      { requestTimeoutIsServerFault: false },
    );
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 40);
}

function stripeKind(object: string): Kind | undefined {
  const o = object.toLowerCase();
  return o === 'customers' || o === 'customer'
    ? 'customers'
    : o === 'invoices' || o === 'invoice'
      ? 'invoices'
      : undefined;
}

function unknownObject(object: string): TargetError {
  return new TargetError(
    StripeErrorCode.unknownObject,
    `Stripe connector writes customers and invoices, not ${object}`,
    {
      disposition: 'permanent',
    },
  );
}

function requireKind(object: string): Kind {
  const k = stripeKind(object);
  if (k === undefined) throw unknownObject(object);
  return k;
}

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Associations,
  type FakeAssociation,
  type FakeAssociationType,
  isBurstExempt,
  SINGULAR_ALIASES,
} from './associations.ts';
import {
  AUTH_MISSING_MESSAGE,
  batchTooLargeMessage,
  type ErrorDetail,
  errorBody,
  type RateLimitPolicy,
  rateLimitBody,
  standardError,
} from './bodies.ts';
import {
  buildObjectTypes,
  type FakeObjectTypeOptions,
  type ObjectTypeModel,
  type PropertyValidationResult,
  storedValue,
  validateValue,
} from './objectTypes.ts';
import { type FakeRecord, iso, ObjectStore, type StoredRecord, toFakeRecord } from './store.ts';

export type { AssociationCategory, FakeAssociation, FakeAssociationType } from './associations.ts';
export type { FakeObjectTypeOptions, FakePropertyDefinition, HubSpotPropertyType } from './objectTypes.ts';
export type { FakeRecord } from './store.ts';

/**
 * A local fake of the HubSpot CRM v3 objects API (private-app flavour), on node:http.
 *
 * Faithful to the public spec (HubSpot/HubSpot-public-api-spec-collection, CRM Objects v3) and
 * HubSpot's documented behaviour where it matters to a writer:
 * - paths: `GET|POST /crm/v3/objects/{objectType}`, `POST …/batch/upsert|read|archive`,
 *   `GET|PATCH|DELETE …/{objectId}?idProperty=`, and `GET /crm/v3/properties/{objectType}`;
 * - `Authorization: Bearer <token>`, 401 `INVALID_AUTHENTICATION` otherwise;
 * - at most 100 inputs per batch (400 VALIDATION_ERROR "The maximum number of inputs supported in
 *   a batch is 100…"), duplicate ids rejected ("Duplicate IDs found in batch input"), list pages
 *   of at most 100 with `paging.next.after`;
 * - upsert by `idProperty`, which must be a `hasUniqueValue` property; `new` tells create from update;
 *   '' clears a property; other unique properties refuse a value another record holds (CONFLICT);
 * - property validation (unknown property, read-only, invalid email, number, enumeration, date)
 *   with HubSpot's "Property values were not valid: [...]" VALIDATION_ERROR;
 * - partial failure: when every input carries an `objectWriteTraceId` (HubSpot's multi-status
 *   error handling) the batch answers 207 with `errors[]` (context.objectWriteTraceId and ids) and
 *   writes the valid inputs; otherwise one invalid input fails the whole batch with a 400 and
 *   nothing is written;
 * - rate limits: a rolling burst window (default 100 per 10 s, policy TEN_SECONDLY_ROLLING) and
 *   a daily budget (policy DAILY), 429 with `errorType: RATE_LIMIT` and the
 *   X-HubSpot-RateLimit-* headers on every authenticated answer;
 * - associations v4 (`/crm/v4/objects/…/associations/…`, `/crm/v4/associations/{from}/{to}/batch/…`):
 *   see associations.ts for the endpoints, type ids, limits and error bodies.
 *
 * Plus what tests need: fault injection (fail the next N calls with a status, delay them, drop
 * the connection before or after the write) and inspection (calls per path, stored records).
 */

export interface HubSpotFakeRateLimit {
  /** Requests admitted per rolling window. @default 100 */
  readonly max?: number;
  /** Length of the rolling window. @default 10_000 */
  readonly intervalMs?: number;
  /** Requests admitted per day; reset with resetRateLimits(). @default 250_000 */
  readonly daily?: number;
  /**
   * Also send Retry-After (seconds until the window frees a slot) with a 429. HubSpot's docs do not
   * promise this header, so it is off by default. @default false
   */
  readonly retryAfterHeader?: boolean;
  /**
   * Leave the calls HubSpot's spec exempts from the ten-secondly limit (`x-hubspot-rate-limit-exemptions`:
   * the v4 association batch endpoints) out of the burst window; they still count against the day.
   * @default true
   */
  readonly exemptions?: boolean;
}

export interface HubSpotFakeOptions {
  /** @default 0 (any free port) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** The private app token accepted as `Bearer <token>`. @default 'pat-fake-hubspot-token' */
  readonly token?: string;
  /** Burst and daily limits; false turns rate limiting off. */
  readonly rateLimit?: HubSpotFakeRateLimit | false;
  /** Extra properties, unique properties and custom object types, by object type name. */
  readonly objects?: Readonly<Record<string, FakeObjectTypeOptions>>;
  /** Accept properties that are not defined (HubSpot refuses them). @default false */
  readonly allowUnknownProperties?: boolean;
  /**
   * When a batch answers 207 with per-input errors: 'with-trace-id' (HubSpot's multi-status error
   * handling: every input carries an objectWriteTraceId), 'always', or 'never' (one invalid input
   * fails the whole batch with 400). @default 'with-trace-id'
   */
  readonly multiStatus?: 'with-trace-id' | 'always' | 'never';
  /** @default 100 */
  readonly maxBatchSize?: number;
  /** Association types beyond HubSpot's built-ins (custom objects, labels). */
  readonly associationTypes?: readonly FakeAssociationType[];
  /**
   * An invalid record id in an association batch: fails that input in a 207 ('multi-status'), or the
   * whole batch with a 400 naming the ids, nothing written ('reject-batch'). @default 'multi-status'
   */
  readonly associationErrors?: 'multi-status' | 'reject-batch';
  /** Inputs per association batch (create, associate/default, archive); batch read allows 1000. @default 100 */
  readonly maxAssociationBatchSize?: number;
  /** First record id handed out. @default 100001 */
  readonly firstId?: number;
  /** Clock (ms since epoch) for timestamps and rate limits. @default Date.now */
  readonly now?: () => number;
}

/** Which calls a fault applies to, or which calls to count. */
export interface CallMatch {
  readonly method?: string;
  /** A string matches any path containing it ('batch/upsert'); a RegExp is tested. */
  readonly path?: string | RegExp;
}

export type Fault =
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly body?: unknown;
      readonly headers?: Readonly<Record<string, string>>;
      /** For status 429: which policy the body names. @default TEN_SECONDLY_ROLLING */
      readonly policy?: RateLimitPolicy;
    }
  /** Wait `ms` before answering; with applyFirst the request is processed before the wait. */
  | { readonly kind: 'delay'; readonly ms: number; readonly applyFirst?: boolean }
  /** Close the connection without answering; with applyFirst the request is processed first. */
  | { readonly kind: 'drop'; readonly applyFirst?: boolean };

export interface FakeCall {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly at: number;
  /** Inputs in a batch body. */
  inputs?: number;
  /** HTTP status answered; undefined when the connection was dropped. */
  status?: number;
  /** The injected fault that shaped this call, if any. */
  fault?: Fault['kind'];
}

interface Reply {
  status: number;
  body?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

interface FaultEntry {
  readonly fault: Fault;
  remaining: number;
  readonly match: CallMatch | undefined;
}

type ItemError = {
  /** HTTP status when this error fails a whole call. */
  readonly status: number;
  readonly category: string;
  readonly message: string;
  readonly details?: readonly ErrorDetail[];
  readonly context?: Record<string, string[]>;
};

const JSON_TYPE = 'application/json;charset=utf-8';
const MAX_BODY_BYTES = 5 * 1024 * 1024;

function matches(m: CallMatch | undefined, method: string, path: string): boolean {
  if (m === undefined) return true;
  if (m.method !== undefined && m.method.toUpperCase() !== method) return false;
  if (m.path === undefined) return true;
  return typeof m.path === 'string' ? path.includes(m.path) : m.path.test(path);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `properties=a,b&properties=c` → [a, b, c]; undefined when absent. */
function listParam(params: URLSearchParams, name: string): string[] | undefined {
  const all = params.getAll(name);
  if (all.length === 0) return undefined;
  return all.flatMap((v) => v.split(',')).filter((v) => v !== '');
}

function validationFailure(results: readonly PropertyValidationResult[]): ItemError {
  return {
    status: 400,
    category: 'VALIDATION_ERROR',
    message: `Property values were not valid: ${JSON.stringify(results)}`,
    details: results.map((r) => ({
      message: r.message,
      code: r.error,
      in: r.name,
      context: { propertyName: [r.name] },
    })),
  };
}

export class HubSpotFake {
  /** Base URL to pass as the connector's baseUrl. */
  public readonly url: string;
  private token: string;
  private readonly server: Server;
  private readonly opts: HubSpotFakeOptions;
  private readonly now: () => number;
  private readonly types = new Map<string, ObjectStore>();
  private readonly assoc: Associations;
  private readonly faults: FaultEntry[] = [];
  private readonly log: FakeCall[] = [];
  private readonly window: number[] = [];
  private dailyUsed = 0;
  private nextId: number;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly sleeps = new Set<() => void>();

  public constructor(server: Server, url: string, opts: HubSpotFakeOptions) {
    this.server = server;
    this.url = url;
    this.opts = opts;
    this.token = opts.token ?? 'pat-fake-hubspot-token';
    this.now = opts.now ?? Date.now;
    this.nextId = opts.firstId ?? 100001;
    for (const model of buildObjectTypes(opts.objects)) {
      const store = new ObjectStore(model);
      this.types.set(model.name, store);
      this.types.set(model.objectTypeId, store);
    }
    this.assoc = new Associations({
      resolve: (name) => this.types.get(name) ?? this.types.get(SINGULAR_ALIASES[name] ?? ''),
      now: this.now,
      baseUrl: url,
      ...(opts.associationTypes ? { types: opts.associationTypes } : {}),
      ...(opts.associationErrors ? { errors: opts.associationErrors } : {}),
      ...(opts.maxAssociationBatchSize ? { maxBatchSize: opts.maxAssociationBatchSize } : {}),
    });
  }

  // ---------------------------------------------------------------- lifecycle

  public async stop(): Promise<void> {
    for (const wake of this.sleeps) wake();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** Resolves once no request is being processed (delayed writes included). */
  public async settled(): Promise<void> {
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  // ---------------------------------------------------------------- inspection

  public get accessToken(): string {
    return this.token;
  }

  /** Every call received, oldest first. */
  public calls(match?: CallMatch): readonly FakeCall[] {
    return this.log.filter((c) => matches(match, c.method, c.path));
  }

  public callCount(match?: CallMatch): number {
    return this.calls(match).length;
  }

  /** Calls per `METHOD /path`, e.g. { 'POST /crm/v3/objects/contacts/batch/upsert': 3 }. */
  public callsByPath(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of this.log) {
      const k = `${c.method} ${c.path}`;
      counts[k] = (counts[k] ?? 0) + 1;
    }
    return counts;
  }

  /** Stored records of an object type (live ones unless `archived: true`), by ascending id. */
  public records(objectType: string, opts: { archived?: boolean } = {}): FakeRecord[] {
    const store = this.store(objectType);
    return store
      .all()
      .filter((r) => r.archived === (opts.archived ?? false))
      .map(toFakeRecord);
  }

  /** Live records whose `property` equals `value`: "exactly one record per external id". */
  public findRecords(objectType: string, property: string, value: string): FakeRecord[] {
    return this.store(objectType).findBy(property, value).map(toFakeRecord);
  }

  public getRecord(objectType: string, id: string): FakeRecord | undefined {
    const r = this.store(objectType).byId(id);
    return r ? toFakeRecord(r) : undefined;
  }

  /** Inserts a record directly (no auth, no rate limit, no validation except uniqueness). */
  public seed(
    objectType: string,
    properties: Readonly<Record<string, string | number | boolean>>,
  ): FakeRecord {
    const store = this.store(objectType);
    const values = new Map(Object.entries(properties).map(([k, v]) => [k, storedValue(v)]));
    for (const [k, v] of values) {
      const holder = store.model.properties.get(k)?.hasUniqueValue ? store.findUnique(k, v) : undefined;
      if (holder) throw new Error(`seed: ${objectType}.${k}=${v} is already held by record ${holder.id}`);
    }
    return toFakeRecord(store.write(undefined, String(this.nextId++), values, this.now()));
  }

  /**
   * Associations of a record to records of `toObjectType` (every type when omitted), by ascending id,
   * with the association type ids seen from this record ("exactly one association per pair").
   */
  public associations(objectType: string, id: string, toObjectType?: string): FakeAssociation[] {
    const from = this.store(objectType).model.name;
    const to = toObjectType === undefined ? undefined : this.store(toObjectType).model.name;
    return this.assoc.list(from, id, to);
  }

  /** Associates two records directly (no auth, no rate limit): the default type, or `typeId`. */
  public seedAssociation(
    objectType: string,
    id: string,
    toObjectType: string,
    toId: string,
    typeId?: number,
  ): void {
    const from = this.store(objectType).model.name;
    const to = this.store(toObjectType).model.name;
    const def =
      typeId === undefined ? this.assoc.defaultType(from, to) : this.assoc.definition(from, to, typeId);
    if (def === undefined)
      throw new Error(`seedAssociation: no association type ${typeId ?? 'default'} ${from} → ${to}`);
    this.assoc.add(from, id, to, toId, def);
  }

  /** Requests counted against the burst window and the day. */
  public rateLimitUsage(): { windowUsed: number; dailyUsed: number } {
    this.pruneWindow(this.now());
    return { windowUsed: this.window.length, dailyUsed: this.dailyUsed };
  }

  // ---------------------------------------------------------------- control and faults

  public setToken(token: string): void {
    this.token = token;
  }

  public resetRateLimits(): void {
    this.window.length = 0;
    this.dailyUsed = 0;
  }

  /** Forgets records, calls, faults and rate-limit usage. */
  public reset(): void {
    for (const s of new Set(this.types.values())) s.clear();
    this.assoc.clear();
    this.log.length = 0;
    this.faults.length = 0;
    this.resetRateLimits();
  }

  /** Applies `fault` to the next `times` calls that match. */
  public inject(fault: Fault, opts: { times?: number; match?: CallMatch } = {}): void {
    this.faults.push({ fault, remaining: opts.times ?? 1, match: opts.match });
  }

  /**
   * The next `times` matching calls answer `status` without being processed: 429 with HubSpot's
   * rate-limit body (and Retry-After when `retryAfterSeconds` is given), 500 with a JSON error,
   * 502/503/504 with a gateway's HTML page.
   */
  public failNext(
    times: number,
    status = 500,
    opts: { match?: CallMatch; retryAfterSeconds?: number; body?: unknown; policy?: RateLimitPolicy } = {},
  ): void {
    const headers =
      opts.retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(opts.retryAfterSeconds) };
    this.inject(
      {
        kind: 'status',
        status,
        ...(opts.body === undefined ? {} : { body: opts.body }),
        ...(headers ? { headers } : {}),
        ...(opts.policy ? { policy: opts.policy } : {}),
      },
      { times, match: opts.match },
    );
  }

  /** The next `times` matching calls wait `ms` before answering (processed after the wait unless applyFirst). */
  public delayNext(times: number, ms: number, opts: { match?: CallMatch; applyFirst?: boolean } = {}): void {
    this.inject({ kind: 'delay', ms, applyFirst: opts.applyFirst ?? false }, { times, match: opts.match });
  }

  /** The next `times` matching calls lose their connection (after processing them when applyFirst). */
  public dropNext(times: number, opts: { match?: CallMatch; applyFirst?: boolean } = {}): void {
    this.inject({ kind: 'drop', applyFirst: opts.applyFirst ?? false }, { times, match: opts.match });
  }

  public clearFaults(): void {
    this.faults.length = 0;
  }

  /** Injected faults not yet used up. */
  public pendingFaults(): number {
    return this.faults.reduce((n, f) => n + f.remaining, 0);
  }

  // ---------------------------------------------------------------- request pipeline

  /** @internal node:http request listener. */
  public async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const call: FakeCall = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      at: this.now(),
    };
    this.log.push(call);
    this.inFlight++;
    try {
      let raw: string;
      try {
        raw = await readBody(req);
      } catch {
        call.status = 413;
        this.send(res, { status: 413, body: errorBody('Request body too large', 'VALIDATION_ERROR') });
        return;
      }
      const fault = this.takeFault(method, url.pathname);
      if (fault) call.fault = fault.kind;
      if (fault?.kind === 'status') {
        const reply = this.faultReply(fault);
        call.status = reply.status;
        this.send(res, reply);
        return;
      }
      if (fault?.kind === 'drop' && !fault.applyFirst) {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'delay' && !fault.applyFirst) await this.sleep(fault.ms);
      const reply = this.process(method, url, raw, req.headers.authorization, call);
      if (fault?.kind === 'delay' && fault.applyFirst) await this.sleep(fault.ms);
      if (fault?.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      call.status = reply.status;
      this.send(res, reply);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const i = this.faults.findIndex((f) => f.remaining > 0 && matches(f.match, method, path));
    const entry = this.faults[i];
    if (entry === undefined) return undefined;
    entry.remaining--;
    if (entry.remaining <= 0) this.faults.splice(i, 1);
    return entry.fault;
  }

  private faultReply(f: Extract<Fault, { kind: 'status' }>): Reply {
    const headers = { ...(f.headers ?? {}) };
    if (f.body !== undefined) {
      return typeof f.body === 'string'
        ? { status: f.status, text: f.body, headers: { 'Content-Type': 'text/plain', ...headers } }
        : { status: f.status, body: f.body, headers };
    }
    if (f.status === 429) {
      return {
        status: 429,
        body: rateLimitBody(f.policy ?? 'TEN_SECONDLY_ROLLING'),
        headers: { ...this.rateHeaders(), ...headers },
      };
    }
    if (f.status >= 502 && f.status <= 504) {
      const title = { 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' }[f.status];
      return {
        status: f.status,
        text: `<html><head><title>${f.status} ${title}</title></head><body><h1>${title}</h1></body></html>`,
        headers: { 'Content-Type': 'text/html', ...headers },
      };
    }
    return {
      status: f.status,
      body: errorBody('internal error', f.status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_ERROR'),
      headers,
    };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleeps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleeps.add(wake);
    });
  }

  private send(res: ServerResponse, reply: Reply): void {
    if (res.destroyed || res.writableEnded) return;
    const headers: Record<string, string> = { ...(reply.headers ?? {}) };
    let payload = '';
    if (reply.text !== undefined) {
      payload = reply.text;
    } else if (reply.body !== undefined) {
      payload = JSON.stringify(reply.body);
      headers['Content-Type'] ??= JSON_TYPE;
      const correlationId = isRecord(reply.body) ? reply.body.correlationId : undefined;
      if (typeof correlationId === 'string') headers['x-hubspot-correlation-id'] = correlationId;
    }
    headers['Content-Length'] = String(Buffer.byteLength(payload));
    res.writeHead(reply.status, headers);
    res.end(payload);
  }

  // ---------------------------------------------------------------- auth and rate limits

  private pruneWindow(now: number): void {
    const interval = this.rateLimit()?.intervalMs ?? 10_000;
    while (this.window.length > 0 && (this.window[0] ?? 0) <= now - interval) this.window.shift();
  }

  private rateLimit(): Required<HubSpotFakeRateLimit> | undefined {
    const rl = this.opts.rateLimit;
    if (rl === false) return undefined;
    return {
      max: rl?.max ?? 100,
      intervalMs: rl?.intervalMs ?? 10_000,
      daily: rl?.daily ?? 250_000,
      retryAfterHeader: rl?.retryAfterHeader ?? false,
      exemptions: rl?.exemptions ?? true,
    };
  }

  private rateHeaders(): Record<string, string> {
    const rl = this.rateLimit();
    if (rl === undefined) return {};
    this.pruneWindow(this.now());
    return {
      'X-HubSpot-RateLimit-Daily': String(rl.daily),
      'X-HubSpot-RateLimit-Daily-Remaining': String(Math.max(0, rl.daily - this.dailyUsed)),
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(rl.intervalMs),
      'X-HubSpot-RateLimit-Max': String(rl.max),
      'X-HubSpot-RateLimit-Remaining': String(Math.max(0, rl.max - this.window.length)),
    };
  }

  /** Counts the request, or answers the 429 HubSpot would; `burstExempt` calls skip the burst window. */
  private admit(burstExempt: boolean): Reply | undefined {
    const rl = this.rateLimit();
    if (rl === undefined) return undefined;
    const now = this.now();
    this.pruneWindow(now);
    let policy: RateLimitPolicy | undefined;
    let retryAfter = 1;
    if (this.dailyUsed >= rl.daily) {
      policy = 'DAILY';
      const midnight = new Date(now);
      midnight.setUTCHours(24, 0, 0, 0);
      retryAfter = Math.ceil((midnight.getTime() - now) / 1000);
    } else if (!(burstExempt && rl.exemptions) && this.window.length >= rl.max) {
      policy = 'TEN_SECONDLY_ROLLING';
      retryAfter = Math.max(1, Math.ceil(((this.window[0] ?? now) + rl.intervalMs - now) / 1000));
    }
    if (policy === undefined) {
      if (!(burstExempt && rl.exemptions)) this.window.push(now);
      this.dailyUsed++;
      return undefined;
    }
    return {
      status: 429,
      body: rateLimitBody(policy),
      headers: {
        ...this.rateHeaders(),
        ...(rl.retryAfterHeader ? { 'Retry-After': String(retryAfter) } : {}),
      },
    };
  }

  // ---------------------------------------------------------------- routing

  private process(
    method: string,
    url: URL,
    raw: string,
    authorization: string | undefined,
    call: FakeCall,
  ): Reply {
    if (authorization === undefined || authorization !== `Bearer ${this.token}`) {
      return { status: 401, body: errorBody(AUTH_MISSING_MESSAGE, 'INVALID_AUTHENTICATION') };
    }
    const limited = this.admit(isBurstExempt(method, url.pathname));
    if (limited) return limited;
    const reply = this.route(method, url, raw, call);
    reply.headers = { ...this.rateHeaders(), ...(reply.headers ?? {}) };
    return reply;
  }

  private route(method: string, url: URL, raw: string, call: FakeCall): Reply {
    if (url.pathname.startsWith('/crm/v4/')) {
      let body: unknown;
      if (method === 'POST' || method === 'PUT') {
        try {
          body = raw === '' ? undefined : JSON.parse(raw);
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          return { status: 400, body: errorBody(`Invalid input JSON: ${reason}`, 'VALIDATION_ERROR') };
        }
        if (isRecord(body) && Array.isArray(body.inputs)) call.inputs = body.inputs.length;
      }
      return this.assoc.route(method, url, body) ?? notFound(method, url.pathname);
    }
    const props = /^\/crm\/v3\/properties\/([^/]+)(?:\/([^/]+))?\/?$/.exec(url.pathname);
    if (props && method === 'GET') return this.readProperties(props[1] ?? '', props[2]);

    const m = /^\/crm\/v3\/objects\/([^/]+)(?:\/(.+?))?\/?$/.exec(url.pathname);
    if (!m) return notFound(method, url.pathname);
    const store = this.types.get(decodeURIComponent(m[1] ?? ''));
    if (!store) {
      return {
        status: 400,
        body: errorBody(
          `Unable to infer object type from: ${decodeURIComponent(m[1] ?? '')}`,
          'VALIDATION_ERROR',
        ),
      };
    }
    const rest = m[2];
    let body: unknown;
    if (method === 'POST' || method === 'PATCH') {
      try {
        body = raw === '' ? undefined : JSON.parse(raw);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        return { status: 400, body: errorBody(`Invalid input JSON: ${reason}`, 'VALIDATION_ERROR') };
      }
      if (isRecord(body) && Array.isArray(body.inputs)) call.inputs = body.inputs.length;
    }
    const q = url.searchParams;
    if (rest === undefined) {
      if (method === 'GET') return this.list(store, q, url);
      if (method === 'POST') return this.createOne(store, body);
    } else if (rest === 'batch/upsert' && method === 'POST') {
      return this.batchUpsert(store, body, q.get('idProperty') ?? undefined);
    } else if (rest === 'batch/read' && method === 'POST') {
      return this.batchRead(store, body, q);
    } else if (rest === 'batch/archive' && method === 'POST') {
      return this.batchArchive(store, body);
    } else if (!rest.includes('/')) {
      const id = decodeURIComponent(rest);
      if (method === 'GET') return this.readOne(store, id, q);
      if (method === 'PATCH') return this.updateOne(store, id, q.get('idProperty') ?? undefined, body);
      if (method === 'DELETE') return this.archiveOne(store, id);
    }
    return notFound(method, url.pathname);
  }

  private store(objectType: string): ObjectStore {
    const s = this.types.get(objectType);
    if (!s) throw new Error(`HubSpot fake: unknown object type ${objectType}`);
    return s;
  }

  // ---------------------------------------------------------------- writes

  /** Checks one upsert input and writes it; returns the result or why it failed. */
  private upsertOne(
    store: ObjectStore,
    input: unknown,
    queryIdProperty: string | undefined,
  ): { record: StoredRecord; created: boolean } | { error: ItemError } {
    const model = store.model;
    if (!isRecord(input) || !isRecord(input.properties)) {
      return {
        error: { status: 400, category: 'VALIDATION_ERROR', message: 'Each input needs id and properties' },
      };
    }
    const idProperty = typeof input.idProperty === 'string' ? input.idProperty : queryIdProperty;
    const id = typeof input.id === 'string' || typeof input.id === 'number' ? String(input.id) : '';
    if (idProperty === undefined || idProperty === '') {
      return {
        error: { status: 400, category: 'VALIDATION_ERROR', message: 'idProperty is required for upsert' },
      };
    }
    if (id === '') {
      return { error: { status: 400, category: 'VALIDATION_ERROR', message: 'id is required for upsert' } };
    }
    const idDef = model.properties.get(idProperty);
    if (idDef === undefined) {
      return { error: validationFailure([doesNotExist(idProperty)]) };
    }
    if (!idDef.hasUniqueValue) {
      return {
        error: {
          status: 400,
          category: 'VALIDATION_ERROR',
          message: `Unable to perform update/upsert by non-unique ${model.objectTypeId} property`,
        },
      };
    }
    const existing = store.findUnique(idProperty, id);
    const fields = input.properties;
    const problems: PropertyValidationResult[] = [];
    if (idProperty !== 'hs_object_id') {
      const bad = validateValue(model, idProperty, id, false);
      if (bad) problems.push(bad);
    } else if (!existing) {
      return {
        error: {
          status: 404,
          category: 'OBJECT_NOT_FOUND',
          message: `No ${model.label} with id ${id} exists`,
        },
      };
    }
    for (const [name, value] of Object.entries(fields)) {
      if (name === idProperty && storedValue(value) === id && idProperty !== 'hs_object_id') continue;
      const bad = validateValue(model, name, value, this.opts.allowUnknownProperties ?? false);
      if (bad) problems.push(bad);
      else if (name === idProperty) {
        const message = `${name} must equal the input id ${id} when upserting by ${name}`;
        problems.push({
          isValid: false,
          message,
          error: 'INVALID_PROPERTY_VALUE',
          name,
          localizedErrorMessage: message,
        });
      }
    }
    if (problems.length > 0) return { error: validationFailure(problems) };
    const conflict = this.conflict(store, existing, fields);
    if (conflict) return { error: conflict };
    const values = new Map(Object.entries(fields).map(([k, v]) => [k, storedValue(v)]));
    if (idProperty !== 'hs_object_id') values.set(idProperty, id);
    const record = store.write(existing, existing?.id ?? String(this.nextId++), values, this.now());
    return { record, created: existing === undefined };
  }

  /** A unique property value already held by another live record. */
  private conflict(
    store: ObjectStore,
    self: StoredRecord | undefined,
    fields: Record<string, unknown>,
  ): ItemError | undefined {
    for (const [name, value] of Object.entries(fields)) {
      const v = storedValue(value);
      if (v === '' || !store.model.properties.get(name)?.hasUniqueValue) continue;
      const holder = store.findUnique(name, v);
      if (holder && holder !== self) {
        return {
          status: 409,
          category: 'CONFLICT',
          message: `${store.model.label} already exists. Existing ID: ${holder.id}`,
          context: { [name]: [v] },
        };
      }
    }
    return undefined;
  }

  private batchInputs(body: unknown): unknown[] | Reply {
    if (!isRecord(body) || !Array.isArray(body.inputs)) {
      return {
        status: 400,
        body: errorBody('Invalid input JSON: inputs must be an array', 'VALIDATION_ERROR'),
      };
    }
    const max = this.opts.maxBatchSize ?? 100;
    if (body.inputs.length > max) {
      return { status: 400, body: errorBody(batchTooLargeMessage(max), 'VALIDATION_ERROR') };
    }
    return body.inputs;
  }

  private batchUpsert(store: ObjectStore, body: unknown, queryIdProperty: string | undefined): Reply {
    const inputs = this.batchInputs(body);
    if (!Array.isArray(inputs)) return inputs;
    const ids = inputs.map((i) => (isRecord(i) && i.id !== undefined ? String(i.id) : ''));
    const dups = [...new Set(ids.filter((id, i) => id !== '' && ids.indexOf(id) !== i))];
    if (dups.length > 0) {
      return {
        status: 400,
        body: errorBody(
          `Duplicate IDs found in batch input: [${dups.join(', ')}]. IDs must be unique`,
          'VALIDATION_ERROR',
          {
            context: { ids: dups },
          },
        ),
      };
    }
    const mode = this.opts.multiStatus ?? 'with-trace-id';
    const traced = inputs.every(
      (i) => isRecord(i) && typeof i.objectWriteTraceId === 'string' && i.objectWriteTraceId,
    );
    const multi = mode === 'always' || (mode === 'with-trace-id' && traced);
    const startedAt = iso(this.now());
    const restore = multi ? undefined : store.snapshot();
    const results: Record<string, unknown>[] = [];
    const errors: Record<string, unknown>[] = [];
    for (const [i, input] of inputs.entries()) {
      const outcome = this.upsertOne(store, input, queryIdProperty);
      const traceId =
        isRecord(input) && typeof input.objectWriteTraceId === 'string'
          ? input.objectWriteTraceId
          : undefined;
      if ('error' in outcome) {
        if (restore) {
          // All or nothing: the first failing input fails the whole batch and nothing is written.
          restore();
          return itemErrorReply(outcome.error);
        }
        const e = outcome.error;
        const context = {
          ...(e.context ?? {}),
          ids: [ids[i] ?? ''],
          ...(traceId ? { objectWriteTraceId: [traceId] } : {}),
        };
        errors.push(standardError(e.category, e.message, context, e.details));
        continue;
      }
      results.push({
        ...apiRecord(store.model, outcome.record, 'all'),
        new: outcome.created,
        ...(traceId ? { objectWriteTraceId: traceId } : {}),
      });
    }
    const completedAt = iso(this.now());
    if (errors.length === 0)
      return { status: 200, body: { status: 'COMPLETE', results, startedAt, completedAt } };
    return {
      status: 207,
      body: { status: 'COMPLETE', results, numErrors: errors.length, errors, startedAt, completedAt },
    };
  }

  private createOne(store: ObjectStore, body: unknown): Reply {
    if (!isRecord(body) || !isRecord(body.properties)) {
      return {
        status: 400,
        body: errorBody('Invalid input JSON: properties must be an object', 'VALIDATION_ERROR'),
      };
    }
    const err = this.checkWrite(store, undefined, body.properties);
    if (err) return itemErrorReply(err);
    const values = new Map(Object.entries(body.properties).map(([k, v]) => [k, storedValue(v)]));
    const record = store.write(undefined, String(this.nextId++), values, this.now());
    return { status: 201, body: apiRecord(store.model, record, 'all') };
  }

  private updateOne(store: ObjectStore, id: string, idProperty: string | undefined, body: unknown): Reply {
    const found = this.lookup(store, id, idProperty);
    if ('status' in found) return found;
    if (!isRecord(body) || !isRecord(body.properties)) {
      return {
        status: 400,
        body: errorBody('Invalid input JSON: properties must be an object', 'VALIDATION_ERROR'),
      };
    }
    const err = this.checkWrite(store, found.record, body.properties);
    if (err) return itemErrorReply(err);
    const values = new Map(Object.entries(body.properties).map(([k, v]) => [k, storedValue(v)]));
    const record = store.write(found.record, found.record.id, values, this.now());
    return { status: 200, body: apiRecord(store.model, record, 'all') };
  }

  private checkWrite(store: ObjectStore, self: StoredRecord | undefined, fields: Record<string, unknown>) {
    const problems = Object.entries(fields)
      .map(([k, v]) => validateValue(store.model, k, v, this.opts.allowUnknownProperties ?? false))
      .filter((p): p is PropertyValidationResult => p !== undefined);
    if (problems.length > 0) return validationFailure(problems);
    return this.conflict(store, self, fields);
  }

  private archiveOne(store: ObjectStore, id: string): Reply {
    const r = store.findUnique('hs_object_id', id);
    if (r) store.archive(r, this.now());
    return { status: 204 };
  }

  private batchArchive(store: ObjectStore, body: unknown): Reply {
    const inputs = this.batchInputs(body);
    if (!Array.isArray(inputs)) return inputs;
    for (const input of inputs) {
      const r = isRecord(input) ? store.findUnique('hs_object_id', String(input.id)) : undefined;
      if (r) store.archive(r, this.now());
    }
    return { status: 204 };
  }

  // ---------------------------------------------------------------- reads

  private lookup(
    store: ObjectStore,
    id: string,
    idProperty: string | undefined,
  ): { record: StoredRecord } | Reply {
    const prop = idProperty ?? 'hs_object_id';
    const def = store.model.properties.get(prop);
    if (def === undefined || !def.hasUniqueValue) {
      return {
        status: 400,
        body: errorBody(
          `Unable to perform lookup by non-unique ${store.model.objectTypeId} property`,
          'VALIDATION_ERROR',
        ),
      };
    }
    const record = store.findUnique(prop, id);
    if (!record) return { status: 404, body: errorBody('Resource not found', 'OBJECT_NOT_FOUND') };
    return { record };
  }

  private readOne(store: ObjectStore, id: string, q: URLSearchParams): Reply {
    const found = this.lookup(store, id, q.get('idProperty') ?? undefined);
    if ('status' in found) return found;
    return { status: 200, body: apiRecord(store.model, found.record, listParam(q, 'properties')) };
  }

  private list(store: ObjectStore, q: URLSearchParams, url: URL): Reply {
    const limitRaw = q.get('limit');
    const limit = limitRaw === null ? 10 : Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return {
        status: 400,
        body: errorBody(`limit must be an integer between 1 and 100, got ${limitRaw}`, 'VALIDATION_ERROR'),
      };
    }
    const after = q.get('after');
    if (after !== null && !/^\d+$/.test(after)) {
      return { status: 400, body: errorBody(`Invalid paging cursor: ${after}`, 'VALIDATION_ERROR') };
    }
    const archived = q.get('archived') === 'true';
    const all = store
      .all()
      .filter((r) => r.archived === archived && (after === null || Number(r.id) >= Number(after)));
    const page = all.slice(0, limit);
    const next = all[limit];
    const requested = listParam(q, 'properties');
    const body: Record<string, unknown> = { results: page.map((r) => apiRecord(store.model, r, requested)) };
    if (next) {
      const link = new URL(url.pathname, this.url);
      link.searchParams.set('limit', String(limit));
      link.searchParams.set('after', next.id);
      body.paging = { next: { after: next.id, link: link.toString() } };
    }
    return { status: 200, body };
  }

  private batchRead(store: ObjectStore, body: unknown, q: URLSearchParams): Reply {
    const inputs = this.batchInputs(body);
    if (!Array.isArray(inputs) || !isRecord(body)) return inputs as Reply;
    const idProperty = typeof body.idProperty === 'string' ? body.idProperty : undefined;
    const requested = Array.isArray(body.properties) ? body.properties.map(String) : undefined;
    const archived = q.get('archived') === 'true';
    const startedAt = iso(this.now());
    const results: Record<string, unknown>[] = [];
    const missing: string[] = [];
    for (const input of inputs) {
      const id = isRecord(input) ? String(input.id) : '';
      const found = this.lookup(store, id, idProperty);
      if ('status' in found) {
        if (found.status !== 404) return found;
        const gone = archived ? store.byId(id) : undefined;
        if (gone?.archived) results.push(apiRecord(store.model, gone, requested));
        else missing.push(id);
      } else if (!archived) results.push(apiRecord(store.model, found.record, requested));
      else missing.push(id);
    }
    const completedAt = iso(this.now());
    if (missing.length === 0)
      return { status: 200, body: { status: 'COMPLETE', results, startedAt, completedAt } };
    const label = store.model.label.toUpperCase().replace(/ /g, '_');
    return {
      status: 207,
      body: {
        status: 'COMPLETE',
        results,
        numErrors: 1,
        errors: [
          standardError(
            'OBJECT_NOT_FOUND',
            `Could not get some ${label} objects, they may be deleted or not exist. Check that ids are valid.`,
            { ids: missing },
          ),
        ],
        startedAt,
        completedAt,
      },
    };
  }

  private readProperties(objectType: string, name: string | undefined): Reply {
    const store = this.types.get(decodeURIComponent(objectType));
    if (!store) {
      return {
        status: 400,
        body: errorBody(`Unable to infer object type from: ${objectType}`, 'VALIDATION_ERROR'),
      };
    }
    const describe = (d: ObjectTypeModel['properties'] extends Map<string, infer V> ? V : never) => ({
      name: d.name,
      label: d.name,
      type: d.type,
      fieldType: FIELD_TYPES[d.type],
      groupName: `${store.model.name}information`,
      hasUniqueValue: d.hasUniqueValue ?? false,
      options: (d.options ?? []).map((o, i) => ({ label: o, value: o, displayOrder: i, hidden: false })),
      modificationMetadata: {
        archivable: true,
        readOnlyDefinition: true,
        readOnlyValue: d.readOnlyValue ?? false,
      },
    });
    if (name !== undefined) {
      const d = store.model.properties.get(decodeURIComponent(name));
      if (!d) return { status: 404, body: errorBody(`Property ${name} does not exist`, 'OBJECT_NOT_FOUND') };
      return { status: 200, body: describe(d) };
    }
    return { status: 200, body: { results: [...store.model.properties.values()].map(describe) } };
  }
}

const FIELD_TYPES: Record<string, string> = {
  string: 'text',
  number: 'number',
  enumeration: 'select',
  bool: 'booleancheckbox',
  date: 'date',
  datetime: 'date',
};

function doesNotExist(name: string): PropertyValidationResult {
  const message = `Property "${name}" does not exist`;
  return { isValid: false, message, error: 'PROPERTY_DOESNT_EXIST', name, localizedErrorMessage: message };
}

function itemErrorReply(e: ItemError): Reply {
  return {
    status: e.status,
    body: errorBody(e.message, e.category, {
      ...(e.context ? { context: e.context } : {}),
      ...(e.details && e.details.length > 0 ? { errors: e.details } : {}),
    }),
  };
}

function notFound(method: string, path: string): Reply {
  return {
    status: 404,
    body: errorBody(`No route for ${method} ${path} in the HubSpot fake`, 'OBJECT_NOT_FOUND'),
  };
}

/**
 * The API view of a record: 'all' stored properties (write answers), or the requested ones
 * (null when unset) plus hs_object_id, createdate and the last-modified property, or, when the
 * read names none, the object type's default properties.
 */
function apiRecord(
  model: ObjectTypeModel,
  r: StoredRecord,
  requested: readonly string[] | 'all' | undefined,
) {
  let properties: Record<string, string | null>;
  if (requested === 'all') {
    properties = Object.fromEntries(r.properties);
  } else {
    const names = new Set(
      requested === undefined
        ? model.defaultProperties
        : [
            'createdate',
            'hs_object_id',
            model.modifiedProperty,
            ...requested.filter((n) => model.properties.has(n)),
          ],
    );
    properties = Object.fromEntries([...names].sort().map((n) => [n, r.properties.get(n) ?? null]));
  }
  return {
    id: r.id,
    properties,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
    archived: r.archived,
    ...(r.archivedAt === undefined ? {} : { archivedAt: iso(r.archivedAt) }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts the fake on `port` (default: any free port) and resolves once it listens. */
export async function startHubSpotFake(opts: HubSpotFakeOptions = {}): Promise<HubSpotFake> {
  let fake: HubSpotFake | undefined;
  const server = createServer((req, res) => {
    fake?.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'Content-Type': JSON_TYPE });
        res.end(JSON.stringify(errorBody(`fake crashed: ${String(err)}`, 'INTERNAL_ERROR')));
      }
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  fake = new HubSpotFake(server, `http://${host}:${port}`, opts);
  return fake;
}

/** A fresh correlation id, for tests that build HubSpot-shaped bodies by hand. */
export const newCorrelationId = (): string => randomUUID();

import { createHash, randomUUID } from 'node:crypto';
import { type FakeCall, FakeServer, header, type Reply } from '../common/FakeServer.ts';
import type { StatusFault } from '../common/faults.ts';
import { SlidingWindow } from '../common/SlidingWindow.ts';
import { badRequest, envelope, NOT_FOUND_TEXT, problem, validationException } from './bodies.ts';
import { ContactStore, type StoredContact } from './contacts.ts';
import { InvoiceStore, type StoredInvoice } from './invoices.ts';
import { filterWhere } from './where.ts';
import { type XeroFakeApp, XeroOAuth, type XeroOAuthStats } from './XeroOAuth.ts';

export type { FakeCall } from '../common/FakeServer.ts';
export type { CallMatch, Fault } from '../common/faults.ts';
export type { XeroFakeApp, XeroOAuthStats } from './XeroOAuth.ts';

export interface XeroFakeRateLimits {
  /** Calls per tenant in any 60 s. @default 60 */
  readonly perMinute?: number;
  /** Calls per tenant in any 24 h. @default 5000 */
  readonly perDay?: number;
  /** Calls per tenant in progress at once. @default 5 */
  readonly concurrent?: number;
  /** Calls per app across tenants in any 60 s. @default 10_000 */
  readonly appPerMinute?: number;
  /** Length of the "minute" window: tests and benchmarks compress time with it. @default 60_000 */
  readonly minuteMs?: number;
}

export interface XeroFakeOptions {
  /** @default 0 (any free port) */
  readonly port?: number;
  /** Organisations connected to the app; the first is the default. @default one fixed tenant id */
  readonly tenants?: readonly string[];
  /** A bearer token accepted as is (besides those the token endpoint hands out). @default 'xero-fake-access-token' */
  readonly accessToken?: string;
  /** Client credentials the token endpoint accepts (custom connection). */
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Lifetime of handed-out access tokens. @default 1800 (Xero: 30 minutes) */
  readonly tokenTtlSeconds?: number;
  /**
   * OAuth 2.0 apps (authorization code, with or without PKCE). @default the client-credentials
   * pair above as a confidential app, and XERO_FAKE_PKCE_CLIENT_ID as a PKCE app
   */
  readonly oauthApps?: readonly XeroFakeApp[];
  /** How long a rotated refresh token still works. @default 1_800_000 (Xero: 30 minutes) */
  readonly refreshGraceMs?: number;
  /** Scopes the consenting user grants, of those asked for. @default all asked for */
  readonly consentScopes?: readonly string[];
  /** Organisation names by tenant id, as GET /connections shows them. */
  readonly tenantNames?: Readonly<Record<string, string>>;
  /** false turns rate limiting off. */
  readonly rateLimit?: XeroFakeRateLimits | false;
  /** How long an Idempotency-Key's answer is kept. @default 360_000 (6 minutes) */
  readonly idempotencyTtlMs?: number;
  /** Clock for rate limits, tokens, idempotency and timestamps. @default Date.now */
  readonly now?: () => number;
}

export const XERO_FAKE_TENANT = '6f3b8a20-1c2d-4e5f-9a8b-7c6d5e4f3a2b';
export const XERO_FAKE_CLIENT_ID = 'FAKE0CLIENT0ID';
export const XERO_FAKE_CLIENT_SECRET = 'fake-client-secret';
/** A PKCE app's client id (no secret). */
export const XERO_FAKE_PKCE_CLIENT_ID = 'FAKE0PKCE0CLIENT';

const API = '/api.xro/2.0';
const MAX_KEY = 128;

interface Tenant {
  readonly id: string;
  readonly contacts: ContactStore;
  readonly invoices: InvoiceStore;
  readonly minute: SlidingWindow;
  readonly day: SlidingWindow;
  inProgress: number;
}

interface CachedAnswer {
  readonly fingerprint: string;
  readonly reply: Reply;
  readonly expiresAt: number;
}

/**
 * A local fake of Xero's Accounting API (api.xro/2.0) for Contacts and Invoices, on node:http.
 *
 * Faithful to XeroAPI/Xero-OpenAPI (xero_accounting.yaml) and Xero's documented behaviour where
 * a writer depends on it:
 * - `Authorization: Bearer` (tokens from `POST /connect/token`: the client-credentials grant, and
 *   OAuth 2.0 apps' authorization_code and rotating refresh_token grants, see XeroOAuth, with
 *   `GET /identity/connect/authorize`; 30 min) and the `xero-tenant-id` header: 401/403 problem
 *   bodies (Detail AuthenticationUnsuccessful, TokenExpired, AuthorizationUnsuccessful for a
 *   scope not granted) otherwise; `GET /connections` lists the tenants;
 * - `PUT /Contacts|/Invoices` creates, `POST` updates or creates, `POST /Contacts/{id}` updates one;
 *   bodies are the plural envelope (`{"Contacts":[…]}`) or a single element;
 * - `summarizeErrors=false`: 200 with every element, failed ones carrying StatusAttributeString
 *   ERROR and ValidationErrors, the valid ones written; otherwise one invalid element makes the
 *   whole call a 400 ValidationException and nothing is written;
 * - `Idempotency-Key` (at most 128 characters) on POST/PUT: the answer is kept 6 minutes and
 *   replayed for the same request; the same key with a different request is a 400; replays still
 *   count against the rate limits;
 * - rate limits per tenant: 60 calls in any minute, 5000 a day, 5 in progress, and 10,000 a minute
 *   per app: 429 with `X-Rate-Limit-Problem` (minute, day, concurrent, appminute) and, for the
 *   minute and day limits, `Retry-After` in seconds; every answer carries X-MinLimit-Remaining,
 *   X-DayLimit-Remaining and X-AppMinLimit-Remaining;
 * - reads: `GET /Contacts|/Invoices` with `page` (+`pageSize` ≤ 1000 and a `pagination` object),
 *   `where` (equality terms joined by AND), `IDs`, `InvoiceNumbers`, `includeArchived`; and
 *   `GET /Contacts/{ContactID|ContactNumber}`, `GET /Invoices/{InvoiceID|InvoiceNumber}`.
 *
 * Plus fault injection and inspection for tests (FakeServer).
 */
export class XeroFake extends FakeServer {
  private readonly opts: XeroFakeOptions;
  private readonly tenants = new Map<string, Tenant>();
  private readonly appMinute: SlidingWindow;
  private readonly tokens = new Map<string, number>();
  /** Connection ids (GET /connections `id`), stable per tenant. */
  private readonly connectionIds = new Map<string, string>();
  private readonly oauth: XeroOAuth;
  private readonly idempotency = new Map<string, CachedAnswer>();
  private replays = 0;
  private rejected429 = 0;

  public constructor(opts: XeroFakeOptions = {}) {
    super({ now: opts.now });
    this.opts = opts;
    const rl = opts.rateLimit === false ? undefined : opts.rateLimit;
    for (const id of opts.tenants ?? [XERO_FAKE_TENANT]) {
      this.tenants.set(id, {
        id,
        contacts: new ContactStore(),
        invoices: new InvoiceStore(),
        minute: new SlidingWindow(rl?.perMinute ?? 60, rl?.minuteMs ?? 60_000),
        day: new SlidingWindow(rl?.perDay ?? 5000, 86_400_000),
        inProgress: 0,
      });
    }
    this.appMinute = new SlidingWindow(rl?.appPerMinute ?? 10_000, rl?.minuteMs ?? 60_000);
    this.oauth = new XeroOAuth({
      apps: opts.oauthApps ?? [
        {
          clientId: opts.clientId ?? XERO_FAKE_CLIENT_ID,
          clientSecret: opts.clientSecret ?? XERO_FAKE_CLIENT_SECRET,
        },
        { clientId: XERO_FAKE_PKCE_CLIENT_ID },
      ],
      ...(opts.tokenTtlSeconds !== undefined ? { accessTokenTtlSeconds: opts.tokenTtlSeconds } : {}),
      ...(opts.refreshGraceMs !== undefined ? { refreshGraceMs: opts.refreshGraceMs } : {}),
      ...(opts.consentScopes ? { consentScopes: opts.consentScopes } : {}),
      now: () => this.now(),
    });
  }

  /** What the OAuth endpoints did: refreshes (and grace retries), invalid_grant answers, codes exchanged. */
  public oauthStats(): XeroOAuthStats {
    return this.oauth.stats();
  }

  /** The user disconnects the app: every refresh token is invalid_grant from now on, access tokens 401. */
  public revokeOAuth(): void {
    this.oauth.revokeAll();
  }

  // ---------------------------------------------------------------- inspection

  /** The default tenant id (the first one). */
  public get tenantId(): string {
    return [...this.tenants.keys()][0]!;
  }

  public get accessToken(): string {
    return this.opts.accessToken ?? 'xero-fake-access-token';
  }

  /** Contacts as the API shows them (archived ones included). */
  public contacts(tenantId = this.tenantId): Record<string, unknown>[] {
    const t = this.tenant(tenantId);
    return t.contacts.all().map((c) => t.contacts.toApi(c, this.roles(t, c.ContactID)));
  }

  /** Contacts holding a ContactNumber: "exactly one record per external id". */
  public contactsByNumber(number: string, tenantId = this.tenantId): Record<string, unknown>[] {
    return this.contacts(tenantId).filter((c) => c.ContactNumber === number);
  }

  public invoices(tenantId = this.tenantId): Record<string, unknown>[] {
    const t = this.tenant(tenantId);
    return t.invoices.all().map((i) => t.invoices.toApi(i, t.contacts, true));
  }

  public invoicesByNumber(number: string, tenantId = this.tenantId): Record<string, unknown>[] {
    return this.invoices(tenantId).filter((i) => i.InvoiceNumber === number);
  }

  /** Inserts a contact directly (no auth, no limits). */
  public seedContact(fields: Record<string, unknown>, tenantId = this.tenantId): Record<string, unknown> {
    const t = this.tenant(tenantId);
    const out = t.contacts.write(fields, 'create', this.now());
    if ('errors' in out) throw new Error(`seedContact: ${out.errors.join('; ')}`);
    return t.contacts.toApi(out.record, this.roles(t, out.record.ContactID));
  }

  /** Calls counted in the minute and day windows, calls in progress, replays and 429s answered. */
  public rateLimitUsage(tenantId = this.tenantId) {
    const t = this.tenant(tenantId);
    const now = this.now();
    return {
      minuteUsed: t.minute.used(now),
      dayUsed: t.day.used(now),
      inProgress: t.inProgress,
      idempotentReplays: this.replays,
      rateLimited: this.rejected429,
    };
  }

  /** Forgets records, calls, faults, tokens, idempotency keys and rate-limit usage. */
  public reset(): void {
    for (const t of this.tenants.values()) {
      t.contacts.clear();
      t.invoices.clear();
      t.minute.clear();
      t.day.clear();
    }
    this.appMinute.clear();
    this.idempotency.clear();
    this.replays = 0;
    this.rejected429 = 0;
    this.resetCalls();
  }

  /** Forgets idempotency keys, as if their 6 minutes had passed. */
  public expireIdempotencyKeys(): void {
    this.idempotency.clear();
  }

  // ---------------------------------------------------------------- pipeline

  protected override enter(call: FakeCall): () => void {
    const t = this.tenants.get(header(call, 'xero-tenant-id') ?? '');
    if (!t || !call.path.startsWith(API)) return () => undefined;
    t.inProgress++;
    return () => {
      t.inProgress--;
    };
  }

  protected override faultReply(f: StatusFault): Reply {
    if (f.status === 429) {
      this.rejected429++;
      return {
        status: 429,
        text: '',
        headers: { 'Retry-After': '1', 'X-Rate-Limit-Problem': 'minute' },
      };
    }
    if (f.status >= 502 && f.status <= 504) {
      const title = { 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' }[f.status];
      return { status: f.status, text: `<html><body><h1>${f.status} ${title}</h1></body></html>` };
    }
    return {
      status: f.status,
      body: {
        ErrorNumber: f.status,
        Type: 'UnknownErrorException',
        Message: 'An error occurred in Xero. Check the API Status page for current service status.',
      },
    };
  }

  protected override process(call: FakeCall, raw: string): Reply {
    if (call.path === '/connect/token' && call.method === 'POST') return this.token(call, raw);
    if (call.path === '/identity/connect/authorize' && call.method === 'GET')
      return this.oauth.authorize(call.query);
    const auth = header(call, 'authorization') ?? '';
    const bearer = auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const oauth = bearer === undefined ? undefined : this.oauth.accessTokens.get(bearer);
    const expiry =
      bearer === undefined
        ? undefined
        : bearer === this.accessToken
          ? Infinity
          : (this.tokens.get(bearer) ?? oauth?.expiresAt);
    if (expiry === undefined) return { status: 401, body: problem(401, 'AuthenticationUnsuccessful') };
    if (expiry <= this.now()) return { status: 401, body: problem(401, 'TokenExpired') };
    if (call.path === '/connections' && call.method === 'GET') {
      return {
        status: 200,
        body: [...this.tenants.keys()].map((id) => ({
          id: this.connectionId(id),
          authEventId: this.connectionId(`auth:${id}`),
          tenantId: id,
          tenantType: 'ORGANISATION',
          tenantName: this.opts.tenantNames?.[id] ?? `Fake organisation ${id.slice(0, 8)}`,
          createdDateUtc: new Date(this.now()).toISOString(),
          updatedDateUtc: new Date(this.now()).toISOString(),
        })),
      };
    }
    // A user's token carries the scopes consented to: Contacts need accounting.contacts, Invoices
    // accounting.transactions (their .read variants for GET).
    if (oauth && !scopeAllows(oauth.scope, call.method, call.path)) {
      return { status: 401, body: problem(401, 'AuthorizationUnsuccessful') };
    }
    const t = this.tenants.get(header(call, 'xero-tenant-id') ?? '');
    if (!t || !call.path.startsWith(API)) {
      return t
        ? { status: 404, text: NOT_FOUND_TEXT }
        : { status: 403, body: problem(403, 'AuthenticationUnsuccessful') };
    }
    const limited = this.admit(t);
    if (limited) return limited;
    const reply = this.withIdempotency(t, call, raw);
    reply.headers = { ...this.limitHeaders(t), ...(reply.headers ?? {}) };
    return reply;
  }

  private token(call: FakeCall, raw: string): Reply {
    const form = new URLSearchParams(raw);
    const basic = (header(call, 'authorization') ?? '').replace(/^Basic\s+/i, '');
    const [id, secret] = Buffer.from(basic, 'base64').toString('utf8').split(':');
    if (form.get('grant_type') !== 'client_credentials') {
      return this.oauth.token(form, header(call, 'authorization'));
    }
    if (
      id !== (this.opts.clientId ?? XERO_FAKE_CLIENT_ID) ||
      secret !== (this.opts.clientSecret ?? XERO_FAKE_CLIENT_SECRET)
    ) {
      return { status: 400, body: { error: 'invalid_client' } };
    }
    const ttl = this.opts.tokenTtlSeconds ?? 1800;
    const token = `fake-${randomUUID()}`;
    this.tokens.set(token, this.now() + ttl * 1000);
    return {
      status: 200,
      body: {
        access_token: token,
        expires_in: ttl,
        token_type: 'Bearer',
        scope: form.get('scope') ?? 'accounting.contacts accounting.transactions',
      },
    };
  }

  /** Counts the call against the tenant's limits, or answers Xero's 429. */
  private admit(t: Tenant): Reply | undefined {
    const rl = this.opts.rateLimit;
    if (rl === false) return undefined;
    const now = this.now();
    let problemName: string | undefined;
    let retryAfter: number | undefined;
    if (t.inProgress > (rl?.concurrent ?? 5)) problemName = 'concurrent';
    else if (t.day.full(now)) {
      problemName = 'day';
      retryAfter = Math.ceil(t.day.retryAfterMs(now) / 1000);
    } else if (t.minute.full(now)) {
      problemName = 'minute';
      retryAfter = Math.max(1, Math.ceil(t.minute.retryAfterMs(now) / 1000));
    } else if (this.appMinute.full(now)) {
      problemName = 'appminute';
      retryAfter = Math.max(1, Math.ceil(this.appMinute.retryAfterMs(now) / 1000));
    }
    if (problemName === undefined) {
      t.minute.record(now);
      t.day.record(now);
      this.appMinute.record(now);
      return undefined;
    }
    this.rejected429++;
    return {
      status: 429,
      text: '',
      headers: {
        ...this.limitHeaders(t),
        'X-Rate-Limit-Problem': problemName,
        ...(retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) }),
      },
    };
  }

  private limitHeaders(t: Tenant): Record<string, string> {
    if (this.opts.rateLimit === false) return {};
    const now = this.now();
    return {
      'X-DayLimit-Remaining': String(t.day.remaining(now)),
      'X-MinLimit-Remaining': String(t.minute.remaining(now)),
      'X-AppMinLimit-Remaining': String(this.appMinute.remaining(now)),
    };
  }

  private withIdempotency(t: Tenant, call: FakeCall, raw: string): Reply {
    const key = header(call, 'idempotency-key');
    if (key === undefined || (call.method !== 'POST' && call.method !== 'PUT'))
      return this.route(t, call, raw);
    if (key.length > MAX_KEY) {
      return { status: 400, body: badRequest(`Idempotency-Key must be ${MAX_KEY} characters or fewer`) };
    }
    const now = this.now();
    const id = `${t.id}:${key}`;
    const fingerprint = createHash('sha256')
      .update(`${call.method} ${call.path}?${new URLSearchParams(call.query)}\n${raw}`)
      .digest('hex');
    const cached = this.idempotency.get(id);
    if (cached && cached.expiresAt > now) {
      if (cached.fingerprint !== fingerprint) {
        return { status: 400, body: badRequest(`Idempotency Key ${key} is used with a different request.`) };
      }
      this.replays++;
      return { ...cached.reply, headers: { ...(cached.reply.headers ?? {}) } };
    }
    const reply = this.route(t, call, raw);
    this.idempotency.set(id, {
      fingerprint,
      reply,
      expiresAt: now + (this.opts.idempotencyTtlMs ?? 360_000),
    });
    return reply;
  }

  // ---------------------------------------------------------------- routing

  private route(t: Tenant, call: FakeCall, raw: string): Reply {
    const m = /^\/api\.xro\/2\.0\/(Contacts|Invoices)(?:\/([^/]+))?\/?$/i.exec(call.path);
    if (!m) return { status: 404, text: NOT_FOUND_TEXT };
    const collection = m[1]!.toLowerCase() === 'contacts' ? 'Contacts' : 'Invoices';
    const id = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    if (call.method === 'GET')
      return id === undefined ? this.list(t, collection, call) : this.getOne(t, collection, id);
    if (call.method !== 'PUT' && call.method !== 'POST') return { status: 405, text: 'Method Not Allowed' };
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return { status: 400, body: badRequest('The request body could not be read as JSON.') };
    }
    const elements = plural(body, collection);
    if (elements === undefined) {
      return { status: 400, body: badRequest(`The request body must hold ${collection}.`) };
    }
    call.elements = elements.length;
    if (id !== undefined) {
      if (call.method !== 'POST' || elements.length !== 1)
        return { status: 400, body: badRequest('Expected one element') };
      const recordId =
        collection === 'Contacts' ? t.contacts.find(id)?.ContactID : t.invoices.find(id)?.InvoiceID;
      if (recordId === undefined) return { status: 404, text: NOT_FOUND_TEXT };
      const idField = collection === 'Contacts' ? 'ContactID' : 'InvoiceID';
      elements[0] = { ...(elements[0] as Record<string, unknown>), [idField]: recordId };
    }
    return this.write(
      t,
      collection,
      elements,
      call.method === 'PUT' ? 'create' : 'upsert',
      call.query.summarizeErrors === 'false',
    );
  }

  private write(
    t: Tenant,
    collection: 'Contacts' | 'Invoices',
    elements: unknown[],
    mode: 'create' | 'upsert',
    perElement: boolean,
  ): Reply {
    const now = this.now();
    const restore = perElement ? undefined : [t.contacts.snapshot(), t.invoices.snapshot()];
    let failed = false;
    const out = elements.map((el) => {
      const res =
        collection === 'Contacts'
          ? t.contacts.write(el, mode, now)
          : t.invoices.write(el, mode, t.contacts, now);
      if ('errors' in res) {
        failed = true;
        const echo = typeof el === 'object' && el !== null ? el : {};
        return {
          ...echo,
          ...(collection === 'Contacts' ? { HasValidationErrors: true } : { HasErrors: true }),
          StatusAttributeString: 'ERROR',
          ValidationErrors: res.errors.map((Message) => ({ Message })),
        };
      }
      const record = res.record;
      const view =
        collection === 'Invoices'
          ? t.invoices.toApi(record as StoredInvoice, t.contacts, true)
          : t.contacts.toApi(record as StoredContact, this.roles(t, record.ContactID));
      return { ...view, StatusAttributeString: 'OK' };
    });
    if (failed && restore) {
      for (const undo of restore) undo();
      return { status: 400, body: validationException(out) };
    }
    return { status: 200, body: envelope(collection, out) };
  }

  private getOne(t: Tenant, collection: 'Contacts' | 'Invoices', id: string): Reply {
    if (collection === 'Contacts') {
      const c = t.contacts.find(id);
      return c
        ? { status: 200, body: envelope('Contacts', [t.contacts.toApi(c, this.roles(t, c.ContactID))]) }
        : { status: 404, text: NOT_FOUND_TEXT };
    }
    const i = t.invoices.find(id);
    return i
      ? { status: 200, body: envelope('Invoices', [t.invoices.toApi(i, t.contacts, true)]) }
      : { status: 404, text: NOT_FOUND_TEXT };
  }

  private list(t: Tenant, collection: 'Contacts' | 'Invoices', call: FakeCall): Reply {
    const q = call.query;
    const paged = q.page !== undefined;
    let items =
      collection === 'Contacts'
        ? t.contacts
            .all()
            .filter((c) => q.includeArchived === 'true' || c.fields.ContactStatus !== 'ARCHIVED')
            .map((c) => t.contacts.toApi(c, this.roles(t, c.ContactID)))
        : t.invoices.all().map((i) => t.invoices.toApi(i, t.contacts, paged));
    const csv = (v: string | undefined) =>
      v === undefined ? undefined : new Set(v.split(',').map((s) => s.trim()));
    const ids = csv(q.IDs ?? q.ids);
    if (ids) items = items.filter((i) => ids.has(String(i.ContactID ?? i.InvoiceID)));
    const numbers = csv(q.InvoiceNumbers);
    if (numbers && collection === 'Invoices')
      items = items.filter((i) => numbers.has(String(i.InvoiceNumber)));
    const statuses = csv(q.Statuses);
    if (statuses && collection === 'Invoices') items = items.filter((i) => statuses.has(String(i.Status)));
    if (q.where !== undefined) {
      const filtered = filterWhere(items, q.where);
      if (typeof filtered === 'string') return { status: 400, body: badRequest(filtered) };
      items = filtered;
    }
    if (!paged) return { status: 200, body: envelope(collection, items) };
    const page = Math.max(1, Number.parseInt(q.page ?? '1', 10) || 1);
    const pageSize = Math.min(1000, Math.max(1, Number.parseInt(q.pageSize ?? '100', 10) || 100));
    const slice = items.slice((page - 1) * pageSize, page * pageSize);
    const pagination = {
      page,
      pageSize,
      pageCount: Math.ceil(items.length / pageSize),
      itemCount: items.length,
    };
    return { status: 200, body: envelope(collection, slice, { pagination }) };
  }

  private roles(t: Tenant, contactId: string): { customer: boolean; supplier: boolean } {
    const mine = t.invoices.all().filter((i) => i.ContactID === contactId);
    return {
      customer: mine.some((i) => i.Type === 'ACCREC'),
      supplier: mine.some((i) => i.Type === 'ACCPAY'),
    };
  }

  private connectionId(key: string): string {
    let id = this.connectionIds.get(key);
    if (!id) {
      id = randomUUID();
      this.connectionIds.set(key, id);
    }
    return id;
  }

  private tenant(id: string): Tenant {
    const t = this.tenants.get(id);
    if (!t) throw new Error(`Xero fake: unknown tenant ${id}`);
    return t;
  }
}

/** The elements of a write body: the plural envelope, or a single element. */
function plural(body: unknown, collection: string): unknown[] | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const b = body as Record<string, unknown>;
  if (Array.isArray(b[collection])) return [...(b[collection] as unknown[])];
  return Object.keys(b).length > 0 ? [b] : undefined;
}

/** Whether a token with these scopes may make this call (Accounting API paths only). */
function scopeAllows(scope: string, method: string, path: string): boolean {
  const m = /^\/api\.xro\/2\.0\/(Contacts|Invoices)/i.exec(path);
  if (!m) return true;
  const needed = m[1]!.toLowerCase() === 'contacts' ? 'accounting.contacts' : 'accounting.transactions';
  const granted = scope.split(' ');
  return granted.includes(needed) || (method === 'GET' && granted.includes(`${needed}.read`));
}

/** Starts the fake and resolves once it listens. */
export async function startXeroFake(opts: XeroFakeOptions = {}): Promise<XeroFake> {
  return new XeroFake(opts).listen(opts.port ?? 0);
}

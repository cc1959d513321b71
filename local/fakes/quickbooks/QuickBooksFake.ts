import { type FakeCall, FakeServer, type Reply } from '../common/FakeServer.ts';
import type { StatusFault } from '../common/faults.ts';
import { SlidingWindow } from '../common/SlidingWindow.ts';
import { authenticationFailed, type FakeQboError, fault, QBO_ERRORS, validationFault } from './qboBodies.ts';
import { parseQuery, passes } from './qboQueryLanguage.ts';
import { companyInfo } from './quickbooksIdentity.ts';

export interface QuickBooksFakeOptions {
  /** The company. @default '9341453172471531' */
  readonly realmId?: string;
  /** The OAuth access token accepted. @default 'qbo-fake-access-token' */
  readonly accessToken?: string;
  /** Intuit's throttles (500 a minute, 40 batches a minute, 10 at once, per realm); false: none. */
  readonly rateLimit?:
    | {
        readonly perMinute?: number;
        readonly batchPerMinute?: number;
        readonly concurrency?: number;
        /** Length of the throttles' "minute" (benchmarks compress time). @default 60000 */
        readonly minuteMs?: number;
      }
    | false;
  readonly now?: () => number;
}

type EntityName = 'Customer' | 'Invoice';
type Entity = Record<string, unknown> & { Id: string; SyncToken: string };
interface QboCall extends FakeCall {
  /** Calls in progress when this one arrived, itself included. */
  concurrent?: number;
}

const ENTITIES: readonly EntityName[] = ['Customer', 'Invoice'];
const MAX_BATCH = 30;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * QuickBooks Online Accounting for one company, after Intuit's API reference: /v3/company/{realmId}/
 * batch (at most 30 items, answered per bId, each item its entity or its Fault), query (the
 * `select … where … in/=/like` subset), and reads by id; Customers (DisplayName unique, 6240) and
 * Invoices (CustomerRef must exist, 2500; Line required, 2020; TotalAmt the sum of its lines);
 * SyncToken optimistic concurrency (5010 on a stale one, sparse updates where "" clears a field);
 * `requestid` answered again without applying twice; minorversion recorded; the throttles with
 * Intuit's ThrottleExceeded fault (429); 401 AuthenticationFailed for a wrong token.
 */
export class QuickBooksFake extends FakeServer<QboCall, StatusFault> {
  private readonly opts: QuickBooksFakeOptions;
  private readonly store = new Map<EntityName, Map<string, Entity>>(ENTITIES.map((e) => [e, new Map()]));
  private readonly answered = new Map<string, Reply>();
  private readonly minute: SlidingWindow | undefined;
  private readonly batchMinute: SlidingWindow | undefined;
  private readonly concurrency: number;
  private inFlightNow = 0;
  private seq = 0;
  private editBehind = 0;
  private counters = { throttled: 0, replays: 0, staleRejected: 0 };

  public constructor(opts: QuickBooksFakeOptions = {}) {
    super({ ...(opts.now ? { now: opts.now } : {}) });
    this.opts = opts;
    const rl = opts.rateLimit === false ? undefined : (opts.rateLimit ?? {});
    this.minute = rl ? new SlidingWindow(rl.perMinute ?? 500, rl.minuteMs ?? 60_000) : undefined;
    this.batchMinute = rl ? new SlidingWindow(rl.batchPerMinute ?? 40, rl.minuteMs ?? 60_000) : undefined;
    this.concurrency = rl ? (rl.concurrency ?? 10) : Number.POSITIVE_INFINITY;
  }

  public get realmId(): string {
    return this.opts.realmId ?? '9341453172471531';
  }
  public get accessToken(): string {
    return this.opts.accessToken ?? 'qbo-fake-access-token';
  }

  /** Entities of a kind as the API shows them. */
  public entities(name: EntityName): Entity[] {
    return [...this.store.get(name)!.values()];
  }

  /** Entities whose `field` holds `value` ("exactly one record per external id"). */
  public findBy(name: EntityName, field: string, value: string): Entity[] {
    return this.entities(name).filter((e) => String(e[field]) === value);
  }

  /** The next batch finds each record it updates edited by someone else first (its SyncToken moved on). */
  public editBehindNextBatch(times = 1): void {
    this.editBehind += times;
  }

  /** The minorversion of every call, in order (undefined where none was sent). */
  public minorVersions(): (string | undefined)[] {
    return this.calls().map((c) => c.query.minorversion);
  }

  public stats(): { throttled: number; replays: number; staleRejected: number } {
    return { ...this.counters };
  }

  public reset(): void {
    for (const m of this.store.values()) m.clear();
    this.answered.clear();
    this.minute?.clear();
    this.batchMinute?.clear();
    this.editBehind = 0;
    this.counters = { throttled: 0, replays: 0, staleRejected: 0 };
    this.resetCalls();
  }

  protected override enter(call: QboCall): () => void {
    call.concurrent = ++this.inFlightNow;
    return () => {
      this.inFlightNow--;
    };
  }

  protected override finish(reply: Reply): Reply {
    return {
      ...reply,
      headers: { intuit_tid: `1-${(++this.seq).toString(16)}-fake`, ...(reply.headers ?? {}) },
    };
  }

  protected override faultReply(f: StatusFault): Reply {
    const now = this.now();
    if (f.status === 429) return { status: 429, body: fault('SERVICE', [QBO_ERRORS.throttled()], now) };
    return { status: f.status, body: fault('SystemFault', [QBO_ERRORS.systemFailure()], now) };
  }

  protected override process(call: QboCall, raw: string): Reply {
    const now = this.now();
    if ((call.headers.authorization ?? '') !== `Bearer ${this.accessToken}`) return authenticationFailed(now);
    const info = companyInfo(call, this.realmId, now);
    if (info) return info;
    const m = /^\/v3\/company\/([^/]+)\/(batch|query|customer|invoice)(?:\/([^/]+))?$/.exec(call.path);
    if (!m) return { status: 404, text: 'Not Found' };
    const [, realm, resource, id] = m;
    if (realm !== this.realmId) {
      return {
        status: 403,
        body: fault(
          'AUTHORIZATION',
          [{ Message: 'message=AuthorizationFailed; errorCode=003100; statusCode=403', code: '3100' }],
          now,
        ),
      };
    }
    const throttled = this.throttle(call, resource === 'batch', now);
    if (throttled) return throttled;
    if (resource === 'query' && call.method === 'GET') return this.query(call.query.query ?? '', now);
    if (resource === 'batch' && call.method === 'POST') {
      const requestId = call.query.requestid;
      const key = requestId ? `batch:${requestId}` : undefined;
      const saved = key ? this.answered.get(key) : undefined;
      if (saved) {
        this.counters.replays++;
        return saved;
      }
      const reply = this.batch(call, raw, now);
      if (key && reply.status === 200) this.answered.set(key, reply);
      return reply;
    }
    if (call.method === 'GET' && id) {
      const name: EntityName = resource === 'customer' ? 'Customer' : 'Invoice';
      const e = this.store.get(name)!.get(id);
      return e
        ? { status: 200, body: { [name]: e, time: new Date(now).toISOString() } }
        : validationFault(QBO_ERRORS.objectNotFound(), now);
    }
    return { status: 405, text: 'Method Not Allowed' };
  }

  /** Intuit's throttles: 10 at once, 500 a minute (batches count), 40 batches a minute. */
  private throttle(call: QboCall, isBatch: boolean, now: number): Reply | undefined {
    const over =
      (call.concurrent ?? 0) > this.concurrency ||
      this.minute?.full(now) === true ||
      (isBatch && this.batchMinute?.full(now) === true);
    if (over) {
      this.counters.throttled++;
      return { status: 429, body: fault('SERVICE', [QBO_ERRORS.throttled()], now) };
    }
    this.minute?.record(now);
    if (isBatch) this.batchMinute?.record(now);
    return undefined;
  }

  private query(statement: string, now: number): Reply {
    const q = parseQuery(statement);
    if (!q || !ENTITIES.includes(q.entity as EntityName)) {
      return validationFault(
        {
          Message: 'Error parsing query',
          Detail: `QueryParserError: Encountered an unsupported statement: ${statement}`,
          code: '4000',
        },
        now,
      );
    }
    const rows = this.entities(q.entity as EntityName)
      .filter((e) => e.Active !== false)
      .filter((e) => !q.where || passes(e[q.where.field], q.where));
    const page = rows.slice(q.start - 1, q.start - 1 + q.max);
    const body =
      page.length === 0 ? {} : { [q.entity]: page, startPosition: q.start, maxResults: page.length };
    return { status: 200, body: { QueryResponse: body, time: new Date(now).toISOString() } };
  }

  private batch(call: QboCall, raw: string, now: number): Reply {
    const items = (JSON.parse(raw || '{}') as { BatchItemRequest?: Record<string, unknown>[] })
      .BatchItemRequest;
    if (!Array.isArray(items)) return validationFault(QBO_ERRORS.requiredParam('BatchItemRequest'), now);
    if (items.length > MAX_BATCH) {
      return validationFault(
        QBO_ERRORS.businessValidation(`batch has ${items.length} items, at most ${MAX_BATCH}`),
        now,
      );
    }
    call.elements = items.length;
    const behind = this.editBehind > 0;
    if (behind) this.editBehind--;
    const responses = items.map((item) => {
      const bId = String(item.bId ?? '');
      const name = ENTITIES.find((e) => item[e] !== undefined);
      if (!name)
        return { bId, Fault: fault('ValidationFault', [QBO_ERRORS.requiredParam('entity')], now).Fault };
      const body = item[name] as Record<string, unknown>;
      if (behind && item.operation === 'update') this.touch(name, String(body.Id));
      const out = item.operation === 'update' ? this.update(name, body, now) : this.create(name, body, now);
      return 'error' in out
        ? { bId, Fault: { Error: [{ element: '', ...out.error }], type: 'ValidationFault' } }
        : { bId, [name]: out.entity };
    });
    return { status: 200, body: { BatchItemResponse: responses, time: new Date(now).toISOString() } };
  }

  /** Someone else saved the record: its SyncToken moves on. */
  private touch(name: EntityName, id: string): void {
    const e = this.store.get(name)!.get(id);
    if (e) e.SyncToken = String(Number(e.SyncToken) + 1);
  }

  private create(
    name: EntityName,
    body: Record<string, unknown>,
    now: number,
  ): { entity: Entity } | { error: FakeQboError } {
    const fields = clean(body);
    const problem = this.validate(name, fields, undefined);
    if (problem) return { error: problem };
    const stamp = new Date(now).toISOString();
    const entity: Entity = {
      ...fields,
      ...(name === 'Customer' ? { DisplayName: displayName(fields), Active: true } : {}),
      ...(name === 'Invoice' ? { TotalAmt: total(fields.Line) } : {}),
      Id: String(++this.seq),
      SyncToken: '0',
      domain: 'QBO',
      sparse: false,
      MetaData: { CreateTime: stamp, LastUpdatedTime: stamp },
    };
    this.store.get(name)!.set(entity.Id, entity);
    return { entity };
  }

  private update(
    name: EntityName,
    body: Record<string, unknown>,
    now: number,
  ): { entity: Entity } | { error: FakeQboError } {
    const current = this.store.get(name)!.get(String(body.Id));
    if (!current) return { error: QBO_ERRORS.objectNotFound() };
    if (String(body.SyncToken) !== current.SyncToken) {
      this.counters.staleRejected++;
      return { error: QBO_ERRORS.staleObject() };
    }
    const { Id: _i, SyncToken: _s, sparse, MetaData: _m, ...given } = body;
    // A sparse update changes the fields sent ("" clears one); a full one replaces every writable field.
    const base =
      sparse === true
        ? { ...current }
        : { Id: current.Id, SyncToken: current.SyncToken, MetaData: current.MetaData };
    const next: Record<string, unknown> = { ...base, ...given };
    for (const [k, v] of Object.entries(given)) if (v === '') delete next[k];
    const problem = this.validate(name, next, current.Id);
    if (problem) return { error: problem };
    const entity: Entity = {
      ...next,
      ...(name === 'Customer' ? { DisplayName: displayName(next) } : {}),
      ...(name === 'Invoice' ? { TotalAmt: total(next.Line) } : {}),
      Id: current.Id,
      SyncToken: String(Number(current.SyncToken) + 1),
      domain: 'QBO',
      sparse: false,
      MetaData: { ...(current.MetaData as object), LastUpdatedTime: new Date(now).toISOString() },
    };
    this.store.get(name)!.set(entity.Id, entity);
    return { entity };
  }

  private validate(
    name: EntityName,
    e: Record<string, unknown>,
    id: string | undefined,
  ): FakeQboError | undefined {
    if (name === 'Customer') {
      const shown = displayName(e);
      if (!shown) return QBO_ERRORS.noName();
      const email = (e.PrimaryEmailAddr as { Address?: unknown } | undefined)?.Address;
      if (email !== undefined && email !== '' && !EMAIL.test(String(email))) {
        return QBO_ERRORS.businessValidation(
          'Email Address does not conform to the syntax rules of RFC 822.',
        );
      }
      if (this.entities('Customer').some((c) => c.Id !== id && c.DisplayName === shown))
        return QBO_ERRORS.duplicateName();
      return undefined;
    }
    const ref = (e.CustomerRef as { value?: unknown } | undefined)?.value;
    if (ref === undefined) return QBO_ERRORS.requiredParam('CustomerRef');
    if (!this.store.get('Customer')!.has(String(ref))) return QBO_ERRORS.invalidReference('Customer');
    if (!Array.isArray(e.Line) || e.Line.length === 0) return QBO_ERRORS.requiredParam('Line');
    for (const line of e.Line as Record<string, unknown>[]) {
      if (typeof line.Amount !== 'number') return QBO_ERRORS.requiredParam('Line.Amount');
    }
    return undefined;
  }
}

/** A create's body without what QuickBooks sets itself. */
function clean(body: Record<string, unknown>): Record<string, unknown> {
  const { Id: _i, SyncToken: _s, MetaData: _m, sparse: _p, ...rest } = body;
  for (const [k, v] of Object.entries(rest)) if (v === '' || v === null) delete rest[k];
  return rest;
}

/** DisplayName, or QuickBooks' default from the name parts. */
function displayName(e: Record<string, unknown>): string {
  if (typeof e.DisplayName === 'string' && e.DisplayName) return e.DisplayName;
  return [e.Title, e.GivenName, e.MiddleName, e.FamilyName, e.Suffix]
    .filter((p) => typeof p === 'string' && p)
    .join(' ');
}

function total(lines: unknown): number {
  if (!Array.isArray(lines)) return 0;
  const cents = lines
    .filter((l: Record<string, unknown>) => l.DetailType !== 'SubTotalLineDetail')
    .reduce((n: number, l: Record<string, unknown>) => n + Math.round(Number(l.Amount ?? 0) * 100), 0);
  return cents / 100;
}

export async function startQuickBooksFake(opts: QuickBooksFakeOptions = {}): Promise<QuickBooksFake> {
  return new QuickBooksFake(opts).listen(0);
}

import { createHash } from 'node:crypto';
import { fromStripeForm } from '../../../shared/connectors/stripe/formEncoding.ts';
import { type FakeCall, FakeServer, header, type Reply } from '../common/FakeServer.ts';
import type { StatusFault } from '../common/faults.ts';
import { SlidingWindow } from '../common/SlidingWindow.ts';
import {
  applyCustomerParams,
  applyInvoiceParams,
  customerView,
  invoiceView,
  newId,
  parseSearchQuery,
  type StoredObject,
  StripeInputError,
  stripeError,
} from './resources.ts';
import { StripeIdentity, type StripeIdentityOptions } from './stripeIdentity.ts';

export type { FakeCall } from '../common/FakeServer.ts';
export type { CallMatch, Fault } from '../common/faults.ts';

export interface StripeFakeOptions {
  /** @default 0 (any free port) */
  readonly port?: number;
  /** The secret key accepted (Bearer or Basic user). @default 'sk_test_fake_writeback' */
  readonly apiKey?: string;
  /** Requests per second; false: unlimited. Defaults follow Stripe: 25 in test mode (100 live), 25 per endpoint, 20 for search. */
  readonly rateLimit?:
    | { readonly global?: number; readonly perEndpoint?: number; readonly search?: number }
    | false;
  /** How long until a write is visible to search. @default 5_000 (Stripe: under a minute, up to an hour in outages) */
  readonly searchLagMs?: number;
  /** How long an Idempotency-Key's answer is kept. @default 86_400_000 (at least 24 h) */
  readonly idempotencyTtlMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** The account, and restricted keys with their permissions (stripeIdentity.ts). */
  readonly identity?: StripeIdentityOptions;
}

interface Saved {
  readonly fingerprint: string;
  readonly reply: Reply | undefined;
  readonly expiresAt: number;
}

const OBJECTS = { customers: 'cus', invoices: 'in' } as const;
type Kind = keyof typeof OBJECTS;

/**
 * A local fake of Stripe's API v1 for Customers and Invoices, faithful to stripe/openapi and
 * Stripe's docs where a writer depends on it:
 * - form-encoded bodies (`metadata[key]=value`), `Authorization: Bearer sk_…` (401 "Invalid API
 *   Key provided" with the key masked otherwise); unknown parameters → 400 parameter_unknown;
 * - `POST /v1/customers` creates, `POST /v1/customers/{id}` updates ('' unsets a field, metadata
 *   merges, `metadata[k]=''` deletes a key, ≤ 50 keys of ≤ 40 characters, values ≤ 500),
 *   `GET /v1/customers/{id}` (404 resource_missing; deleted objects answer `deleted: true`),
 *   `DELETE`, `GET /v1/customers` (newest first, `limit` ≤ 100, `starting_after`, `created[gte|gt|lte|lt]`,
 *   `email`), `GET /v1/customers/search` (`metadata['k']:'v'`, `field:'v'`, AND) — and the same
 *   for invoices (customer required and existing, metadata-only updates once not a draft);
 * - search is eventually consistent: a write becomes searchable `searchLagMs` later, while list
 *   and retrieve are consistent at once (Stripe: use list APIs for read-after-write);
 * - `Idempotency-Key` (≤ 255 characters) on POST: the first answer is saved once the endpoint
 *   ran, replayed for the same parameters with `Idempotent-Replayed: true`; other parameters under
 *   the key → 400 idempotency_error; the same key while the first is still running → 409
 *   idempotency_key_in_use; validation failures are not saved;
 * - rate limits per second: global (25 test / 100 live), per endpoint (25), search (20): 429
 *   with `code: rate_limit`.
 */
export class StripeFake extends FakeServer {
  private readonly opts: StripeFakeOptions;
  private readonly store: Record<Kind, Map<string, StoredObject>> = {
    customers: new Map(),
    invoices: new Map(),
  };
  private readonly saved = new Map<string, Saved>();
  private readonly global: SlidingWindow | undefined;
  private readonly endpoints = new Map<string, SlidingWindow>();
  private replays = 0;
  private limited = 0;
  public readonly identity: StripeIdentity;

  public constructor(opts: StripeFakeOptions = {}) {
    super({ now: opts.now });
    this.opts = opts;
    this.identity = new StripeIdentity(opts.identity);
    const live = this.apiKey.startsWith('sk_live_');
    this.global =
      opts.rateLimit === false
        ? undefined
        : new SlidingWindow(opts.rateLimit?.global ?? (live ? 100 : 25), 1000);
  }

  public get apiKey(): string {
    return this.opts.apiKey ?? 'sk_test_fake_writeback';
  }

  /** Live (not deleted) objects of a kind, as the API shows them. */
  public objects(kind: Kind): Record<string, unknown>[] {
    const view = kind === 'customers' ? customerView : invoiceView;
    return [...this.store[kind].values()].filter((o) => !o.deleted).map(view);
  }

  /** Live objects whose metadata[key] equals value: "exactly one record per external id". */
  public byMetadata(kind: Kind, key: string, value: string): Record<string, unknown>[] {
    return this.objects(kind).filter((o) => (o.metadata as Record<string, string>)[key] === value);
  }

  public stats(): { idempotentReplays: number; rateLimited: number } {
    return { idempotentReplays: this.replays, rateLimited: this.limited };
  }

  public reset(): void {
    this.store.customers.clear();
    this.store.invoices.clear();
    this.saved.clear();
    this.global?.clear();
    this.endpoints.clear();
    this.replays = 0;
    this.limited = 0;
    this.resetCalls();
  }

  protected override faultReply(f: StatusFault): Reply {
    if (f.status === 429) {
      this.limited++;
      return { status: 429, body: rateLimitBody() };
    }
    return { status: f.status, body: stripeError('api_error', 'An unknown error occurred') };
  }

  protected override process(call: FakeCall, raw: string): Reply {
    const auth = header(call, 'authorization') ?? '';
    const key = auth.startsWith('Bearer ')
      ? auth.slice(7)
      : auth.startsWith('Basic ')
        ? Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')[0]
        : undefined;
    if (key !== this.apiKey && !this.identity.knows(key)) {
      const masked = key ? `${key.slice(0, 8)}****${key.slice(-4)}` : '';
      return {
        status: 401,
        body: stripeError(
          'invalid_request_error',
          key ? `Invalid API Key provided: ${masked}` : 'You did not provide an API key.',
        ),
      };
    }
    const account = this.identity.account(call, key!);
    if (account) return account;
    const route = this.routeOf(call);
    const denied = route && this.identity.deny(call, key!, route.kind);
    if (denied) return denied;
    if (!route)
      return {
        status: 404,
        body: stripeError(
          'invalid_request_error',
          `Unrecognized request URL (${call.method}: ${call.path}).`,
        ),
      };
    const limited = this.admit(route.endpoint);
    if (limited) return limited;
    const ikey = header(call, 'idempotency-key');
    if (call.method !== 'POST' || ikey === undefined) return this.answer(route, call, raw);
    if (ikey.length > 255) {
      return {
        status: 400,
        body: stripeError('invalid_request_error', 'Idempotency-Key must be 255 characters or fewer', {
          param: 'Idempotency-Key',
        }),
      };
    }
    const fingerprint = createHash('sha256').update(`${call.path}\n${raw}`).digest('hex');
    const saved = this.saved.get(ikey);
    if (saved && saved.expiresAt > this.now()) {
      if (saved.fingerprint !== fingerprint) {
        return {
          status: 400,
          body: stripeError(
            'idempotency_error',
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${ikey}' if you meant to execute a different request.`,
          ),
        };
      }
      if (saved.reply === undefined) {
        return {
          status: 409,
          body: stripeError(
            'idempotency_error',
            `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${ikey}. Please try again later.`,
            { code: 'idempotency_key_in_use' },
          ),
        };
      }
      this.replays++;
      return {
        ...saved.reply,
        headers: {
          ...(saved.reply.headers ?? {}),
          'Idempotent-Replayed': 'true',
          'Original-Request': 'req_fake',
        },
      };
    }
    const expiresAt = this.now() + (this.opts.idempotencyTtlMs ?? 86_400_000);
    this.saved.set(ikey, { fingerprint, reply: undefined, expiresAt });
    const reply = this.answer(route, call, raw);
    // Saved once the endpoint ran; validation failures are not.
    if (reply.status === 400) this.saved.delete(ikey);
    else this.saved.set(ikey, { fingerprint, reply, expiresAt });
    return reply;
  }

  private routeOf(
    call: FakeCall,
  ): { kind: Kind; id?: string; search?: boolean; endpoint: string } | undefined {
    const m = /^\/v1\/(customers|invoices)(?:\/([^/]+))?$/.exec(call.path);
    if (!m) return undefined;
    const kind = m[1] as Kind;
    const id = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    if (id === 'search')
      return call.method === 'GET' ? { kind, search: true, endpoint: `GET /v1/${kind}/search` } : undefined;
    return { kind, ...(id ? { id } : {}), endpoint: `${call.method} /v1/${kind}${id ? '/:id' : ''}` };
  }

  private admit(endpoint: string): Reply | undefined {
    const rl = this.opts.rateLimit;
    if (rl === false || !this.global) return undefined;
    const now = this.now();
    let w = this.endpoints.get(endpoint);
    if (!w) {
      w = new SlidingWindow(
        endpoint.endsWith('/search') ? (rl?.search ?? 20) : (rl?.perEndpoint ?? 25),
        1000,
      );
      this.endpoints.set(endpoint, w);
    }
    if (this.global.full(now) || w.full(now)) {
      this.limited++;
      return { status: 429, body: rateLimitBody() };
    }
    this.global.record(now);
    w.record(now);
    return undefined;
  }

  private answer(route: { kind: Kind; id?: string; search?: boolean }, call: FakeCall, raw: string): Reply {
    const { kind } = route;
    const view = kind === 'customers' ? customerView : invoiceView;
    const map = this.store[kind];
    const now = this.now();
    try {
      if (route.search) return this.search(kind, call.query);
      if (route.id === undefined) {
        if (call.method === 'GET') return this.list(kind, call);
        if (call.method !== 'POST')
          return { status: 405, body: stripeError('invalid_request_error', 'Method not allowed') };
        const params = fromStripeForm(raw);
        const fields =
          kind === 'customers'
            ? applyCustomerParams({}, params)
            : applyInvoiceParams(
                { status: 'draft' },
                params,
                true,
                (id) => this.store.customers.get(id)?.deleted === false,
              );
        const o: StoredObject = {
          id: newId(OBJECTS[kind]),
          created: now,
          fields,
          deleted: false,
          history: [{ at: now, fields }],
        };
        map.set(o.id, o);
        return { status: 200, body: view(o) };
      }
      const o = map.get(route.id);
      if (!o || (o.deleted && call.method !== 'GET')) {
        return {
          status: 404,
          body: stripeError('invalid_request_error', `No such ${kind.slice(0, -1)}: '${route.id}'`, {
            code: 'resource_missing',
            param: 'id',
          }),
        };
      }
      if (call.method === 'GET') return { status: 200, body: view(o) };
      if (call.method === 'DELETE') {
        o.deleted = true;
        return { status: 200, body: view(o) };
      }
      const params = fromStripeForm(raw);
      o.fields =
        kind === 'customers'
          ? applyCustomerParams(o.fields, params)
          : applyInvoiceParams(o.fields, params, false, () => true);
      o.history.push({ at: now, fields: o.fields });
      if (o.history.length > 5) o.history.shift();
      return { status: 200, body: view(o) };
    } catch (err) {
      if (err instanceof StripeInputError) return { status: err.status, body: err.body };
      throw err;
    }
  }

  private list(kind: Kind, call: FakeCall): Reply {
    const q = call.query;
    const limit = Math.min(100, Math.max(1, Number(q.limit ?? 10) || 10));
    const view = kind === 'customers' ? customerView : invoiceView;
    let all = [...this.store[kind].values()]
      .filter((o) => !o.deleted)
      .sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
    const created = (op: string) => q[`created[${op}]`];
    const s = (v: string | undefined) => (v === undefined ? undefined : Number(v) * 1000);
    const [gte, gt, lte, lt] = [s(created('gte')), s(created('gt')), s(created('lte')), s(created('lt'))];
    all = all.filter(
      (o) =>
        (gte === undefined || o.created >= gte) &&
        (gt === undefined || o.created > gt) &&
        (lte === undefined || o.created <= lte + 999) &&
        (lt === undefined || o.created < lt),
    );
    if (q.email !== undefined && kind === 'customers') all = all.filter((o) => o.fields.email === q.email);
    if (q.customer !== undefined && kind === 'invoices')
      all = all.filter((o) => o.fields.customer === q.customer);
    const start = q.starting_after === undefined ? 0 : all.findIndex((o) => o.id === q.starting_after) + 1;
    const page = all.slice(start, start + limit);
    return {
      status: 200,
      body: {
        object: 'list',
        data: page.map(view),
        has_more: start + limit < all.length,
        url: `/v1/${kind}`,
      },
    };
  }

  private search(kind: Kind, q: Readonly<Record<string, string>>): Reply {
    const test = parseSearchQuery(q.query ?? '');
    if (typeof test === 'string')
      return { status: 400, body: stripeError('invalid_request_error', test, { param: 'query' }) };
    const limit = Math.min(100, Math.max(1, Number(q.limit ?? 10) || 10));
    const horizon = this.now() - (this.opts.searchLagMs ?? 5_000);
    const view = kind === 'customers' ? customerView : invoiceView;
    const hits: Record<string, unknown>[] = [];
    for (const o of this.store[kind].values()) {
      if (o.deleted) continue;
      // The index holds the newest snapshot old enough to have propagated.
      const indexed = [...o.history].reverse().find((h) => h.at <= horizon);
      if (indexed && test(indexed.fields)) hits.push(view({ ...o, fields: indexed.fields }));
    }
    return {
      status: 200,
      body: {
        object: 'search_result',
        data: hits.slice(0, limit),
        has_more: hits.length > limit,
        next_page: null,
        url: `/v1/${kind}/search`,
      },
    };
  }
}

function rateLimitBody() {
  return stripeError(
    'invalid_request_error',
    'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
    { code: 'rate_limit' },
  );
}

/** Starts the fake and resolves once it listens. */
export async function startStripeFake(opts: StripeFakeOptions = {}): Promise<StripeFake> {
  return new StripeFake(opts).listen(opts.port ?? 0);
}

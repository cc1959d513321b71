import { randomUUID } from 'node:crypto';
import { type FakeCall as BaseCall, FakeServer, header, type Reply } from '../common/FakeServer.ts';
import type { Fault as BaseFault, StatusFault } from '../common/faults.ts';
import {
  Associations,
  type FakeAssociation,
  type FakeAssociationType,
  isBurstExempt,
  SINGULAR_ALIASES,
} from './associations.ts';
import { AUTH_MISSING_MESSAGE, errorBody, type RateLimitPolicy, rateLimitBody } from './bodies.ts';
import { HubSpotIdentity, type HubSpotIdentityOptions } from './hubspotIdentity.ts';
import { type HubSpotFakeApp, HubSpotOAuthFake } from './hubspotOAuthFake.ts';
import { type HubSpotFakeRateLimit, HubSpotLimits } from './limits.ts';
import { CrmObjects, isRecord } from './objects.ts';
import { buildObjectTypes, type FakeObjectTypeOptions, storedValue } from './objectTypes.ts';
import { type FakeRecord, ObjectStore, toFakeRecord } from './store.ts';

export type { CallMatch } from '../common/faults.ts';
export type { AssociationCategory, FakeAssociation, FakeAssociationType } from './associations.ts';
export type { HubSpotFakeRateLimit } from './limits.ts';
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
 * Plus what tests need: fault injection and call inspection (FakeServer), and the stored records
 * and associations.
 */

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
  /** The account the token belongs to and the scopes of its private app (hubspotIdentity.ts). */
  readonly identity?: HubSpotIdentityOptions;
  /** Public (OAuth) apps, the scopes the user grants and the access token lifetime (hubspotOAuthFake.ts). */
  readonly oauth?: {
    readonly apps?: readonly HubSpotFakeApp[];
    readonly consentScopes?: readonly string[];
    readonly accessTokenTtlSeconds?: number;
  };
}

/** A status fault: a 429 names `policy` in its body. */
export interface HubSpotStatusFault extends StatusFault {
  /** For status 429: which policy the body names. @default TEN_SECONDLY_ROLLING */
  readonly policy?: RateLimitPolicy;
}

export type Fault = BaseFault<HubSpotStatusFault>;

/** A call as the fake saw it; HubSpot calls a batch's elements inputs. */
export interface FakeCall extends Omit<BaseCall, 'elements'> {
  /** Inputs in a batch body. */
  inputs?: number;
}

const JSON_TYPE = 'application/json;charset=utf-8';

export class HubSpotFake extends FakeServer<FakeCall, HubSpotStatusFault> {
  private token: string;
  private readonly types = new Map<string, ObjectStore>();
  private readonly objects: CrmObjects;
  private readonly assoc: Associations;
  private readonly limits: HubSpotLimits | undefined;
  public readonly identity: HubSpotIdentity;
  public readonly oauth: HubSpotOAuthFake;

  public constructor(opts: HubSpotFakeOptions = {}) {
    super({ now: opts.now, maxBodyBytes: 5 * 1024 * 1024 });
    this.identity = new HubSpotIdentity(opts.identity);
    this.oauth = new HubSpotOAuthFake({ ...opts.oauth, portalId: this.identity.portalId, now: this.now });
    this.token = opts.token ?? 'pat-fake-hubspot-token';
    this.limits = opts.rateLimit === false ? undefined : new HubSpotLimits(opts.rateLimit);
    for (const model of buildObjectTypes(opts.objects)) {
      const store = new ObjectStore(model);
      this.types.set(model.name, store);
      this.types.set(model.objectTypeId, store);
    }
    this.objects = new CrmObjects({
      resolve: (name) => this.types.get(name),
      now: this.now,
      baseUrl: () => this.url,
      allowUnknownProperties: opts.allowUnknownProperties,
      multiStatus: opts.multiStatus,
      maxBatchSize: opts.maxBatchSize,
      firstId: opts.firstId,
    });
    this.assoc = new Associations({
      resolve: (name) => this.types.get(name) ?? this.types.get(SINGULAR_ALIASES[name] ?? ''),
      now: this.now,
      baseUrl: () => this.url,
      ...(opts.associationTypes ? { types: opts.associationTypes } : {}),
      ...(opts.associationErrors ? { errors: opts.associationErrors } : {}),
      ...(opts.maxAssociationBatchSize ? { maxBatchSize: opts.maxAssociationBatchSize } : {}),
    });
  }

  // ---------------------------------------------------------------- inspection

  public get accessToken(): string {
    return this.token;
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
    return toFakeRecord(store.write(undefined, this.objects.newId(), values, this.now()));
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
    return this.limits?.usage(this.now()) ?? { windowUsed: 0, dailyUsed: 0 };
  }

  // ---------------------------------------------------------------- control

  public setToken(token: string): void {
    this.token = token;
  }

  public resetRateLimits(): void {
    this.limits?.reset();
  }

  /** Forgets records, calls, faults and rate-limit usage. */
  public reset(): void {
    for (const s of new Set(this.types.values())) s.clear();
    this.assoc.clear();
    this.resetCalls();
    this.resetRateLimits();
  }

  // ---------------------------------------------------------------- pipeline

  /**
   * An injected status: 429 with HubSpot's rate-limit body naming `policy`, 502/503/504 with a
   * gateway's HTML page (HubSpot's edge answers those, not the API), anything else a JSON error.
   */
  protected override faultReply(f: HubSpotStatusFault): Reply {
    if (f.status === 429) {
      return {
        status: 429,
        body: rateLimitBody(f.policy ?? 'TEN_SECONDLY_ROLLING'),
        headers: this.rateHeaders(),
      };
    }
    if (f.status >= 502 && f.status <= 504) {
      const title = { 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' }[f.status];
      return {
        status: f.status,
        text: `<html><head><title>${f.status} ${title}</title></head><body><h1>${title}</h1></body></html>`,
        headers: { 'Content-Type': 'text/html' },
      };
    }
    return {
      status: f.status,
      body: errorBody('internal error', f.status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_ERROR'),
    };
  }

  /** HubSpot's JSON content type, and its correlation id repeated as a header (clients log that one). */
  protected override finish(reply: Reply): Reply {
    const headers = { ...(reply.headers ?? {}) };
    if (reply.text !== undefined) {
      headers['Content-Type'] ??= 'text/plain';
    } else if (reply.body !== undefined) {
      headers['Content-Type'] ??= JSON_TYPE;
      const correlationId = isRecord(reply.body) ? reply.body.correlationId : undefined;
      if (typeof correlationId === 'string') headers['x-hubspot-correlation-id'] = correlationId;
    }
    return { ...reply, headers };
  }

  protected override tooLargeReply(): Reply {
    return { status: 413, body: errorBody('Request body too large', 'VALIDATION_ERROR') };
  }

  protected override crashReply(err: unknown): Reply {
    return { status: 500, body: errorBody(`fake crashed: ${String(err)}`, 'INTERNAL_ERROR') };
  }

  protected override process(call: FakeCall, raw: string, url: URL): Reply {
    const unauthenticated = this.identity.tokenInfo(call, raw, this.token) ?? this.oauth.answer(call, raw);
    if (unauthenticated) return unauthenticated;
    const bearer = /^Bearer (.+)$/.exec(header(call, 'authorization') ?? '')?.[1] ?? '';
    const privateApp = bearer === this.token;
    if (!privateApp && !this.oauth.accepts(bearer)) {
      return { status: 401, body: errorBody(AUTH_MISSING_MESSAGE, 'INVALID_AUTHENTICATION') };
    }
    const missingScope = this.identity.scopeRefusal(
      call,
      privateApp ? this.identity.scopes : this.oauth.scopesOf(bearer),
      (t) => (this.types.get(t) ?? this.types.get(SINGULAR_ALIASES[t] ?? ''))?.model.name,
    );
    if (missingScope) return missingScope;
    const refused = this.limits?.admit(isBurstExempt(call.method, call.path), this.now());
    if (refused) return refused;
    const reply = this.identity.details(call) ?? this.route(call, url, raw);
    reply.headers = { ...this.rateHeaders(), ...(reply.headers ?? {}) };
    return reply;
  }

  private rateHeaders(): Record<string, string> {
    return this.limits?.headers(this.now()) ?? {};
  }

  // ---------------------------------------------------------------- routing

  private route(call: FakeCall, url: URL, raw: string): Reply {
    const { method } = call;
    if (url.pathname.startsWith('/crm/v4/')) {
      const parsed = method === 'POST' || method === 'PUT' ? readJson(call, raw) : { json: undefined };
      if (!('json' in parsed)) return parsed;
      return this.assoc.route(method, url, parsed.json) ?? notFound(method, url.pathname);
    }
    const props = /^\/crm\/v3\/properties\/([^/]+)(?:\/([^/]+))?\/?$/.exec(url.pathname);
    if (props && method === 'GET') return this.objects.readProperties(props[1] ?? '', props[2]);

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
    const parsed = method === 'POST' || method === 'PATCH' ? readJson(call, raw) : { json: undefined };
    if (!('json' in parsed)) return parsed;
    return this.objects.route(method, store, m[2], url, parsed.json) ?? notFound(method, url.pathname);
  }

  private store(objectType: string): ObjectStore {
    const s = this.types.get(objectType);
    if (!s) throw new Error(`HubSpot fake: unknown object type ${objectType}`);
    return s;
  }
}

function notFound(method: string, path: string): Reply {
  return {
    status: 404,
    body: errorBody(`No route for ${method} ${path} in the HubSpot fake`, 'OBJECT_NOT_FOUND'),
  };
}

/** The JSON body of a call, its inputs counted; the 400 HubSpot answers when it is not JSON. */
function readJson(call: FakeCall, raw: string): { json: unknown } | Reply {
  let json: unknown;
  try {
    json = raw === '' ? undefined : JSON.parse(raw);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { status: 400, body: errorBody(`Invalid input JSON: ${reason}`, 'VALIDATION_ERROR') };
  }
  if (isRecord(json) && Array.isArray(json.inputs)) call.inputs = json.inputs.length;
  return { json };
}

/** Starts the fake on `port` (default: any free port) and resolves once it listens. */
export async function startHubSpotFake(opts: HubSpotFakeOptions = {}): Promise<HubSpotFake> {
  return new HubSpotFake(opts).listen(opts.port ?? 0, opts.host);
}

/** A fresh correlation id, for tests that build HubSpot-shaped bodies by hand. */
export const newCorrelationId = (): string => randomUUID();

import { randomUUID } from 'node:crypto';
import { type FakeCall, FakeServer, header, type Reply } from '../common/FakeServer.ts';
import type { StatusFault } from '../common/faults.ts';
import { SlidingWindow } from '../common/SlidingWindow.ts';
import { snapshotMap } from '../common/snapshot.ts';
import { SalesforceIdentity, type SalesforceIdentityOptions } from './salesforceIdentity.ts';
import { type SalesforceFakeApp, SalesforceOAuthFake } from './salesforceOAuthFake.ts';

export type { FakeCall } from '../common/FakeServer.ts';
export type { CallMatch, Fault } from '../common/faults.ts';

/** One field of a fake sObject type. */
export interface FakeSObjectField {
  readonly name: string;
  readonly required?: boolean;
  /** An External ID field (unique, case-insensitive here). */
  readonly externalId?: boolean;
  readonly email?: boolean;
  readonly maxLength?: number;
}

export interface SalesforceFakeOptions {
  /** @default 0 (any free port) */
  readonly port?: number;
  /** A bearer token accepted as is. @default '00DFAKE!session' */
  readonly accessToken?: string;
  /** Client credentials the token endpoint accepts. */
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** API requests per rolling 24 h (the org's allocation); false: unlimited. @default 100_000 */
  readonly dailyLimit?: number | false;
  /** Extra sObject types or fields. Account (Name) and Contact (LastName, Email) exist, each with Ext_Id__c. */
  readonly objects?: Readonly<Record<string, readonly FakeSObjectField[]>>;
  /** @default Date.now */
  readonly now?: () => number;
  /** The org, the user its tokens act as, the scopes and object permissions (salesforceIdentity.ts). */
  readonly identity?: SalesforceIdentityOptions;
  /**
   * Web-server flow apps and the scopes the user approves (salesforceOAuthFake.ts).
   * @default the client-credentials app (clientId, clientSecret) also enabled for the web-server flow
   */
  readonly oauth?: {
    readonly apps?: readonly SalesforceFakeApp[];
    readonly consentScopes?: readonly string[];
  };
}

export const SALESFORCE_FAKE_CLIENT_ID = '3MVG9FAKECLIENTID';
export const SALESFORCE_FAKE_CLIENT_SECRET = 'fake-sf-client-secret';

interface SObjectType {
  readonly name: string;
  readonly prefix: string;
  readonly fields: Map<string, FakeSObjectField>;
}

interface StoredSObject {
  readonly Id: string;
  fields: Record<string, unknown>;
  systemModstamp: number;
}

type SfError = { statusCode: string; message: string; fields: string[] };

const BUILT_IN: Record<string, { prefix: string; fields: FakeSObjectField[] }> = {
  Account: {
    prefix: '001',
    fields: [
      { name: 'Name', required: true, maxLength: 255 },
      { name: 'Phone', maxLength: 40 },
      { name: 'Website', maxLength: 255 },
      { name: 'Industry' },
      { name: 'NumberOfEmployees' },
      { name: 'Description', maxLength: 32_000 },
      { name: 'Ext_Id__c', externalId: true, maxLength: 255 },
    ],
  },
  Contact: {
    prefix: '003',
    fields: [
      { name: 'LastName', required: true, maxLength: 80 },
      { name: 'FirstName', maxLength: 40 },
      { name: 'Email', email: true, maxLength: 80 },
      { name: 'Phone', maxLength: 40 },
      { name: 'Title', maxLength: 128 },
      { name: 'Ext_Id__c', externalId: true, maxLength: 255 },
    ],
  },
};

const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const API = /^\/services\/data\/v(\d+)\.(\d+)(\/.*)$/;
const errorList = (errorCode: string, message: string) => [{ message, errorCode }];

/**
 * A local fake of the Salesforce REST API (sObjects) on node:http, faithful to the REST API
 * developer guide where a writer depends on it:
 * - `PATCH /services/data/vXX.X/composite/sobjects/{SObject}/{ExternalIdField}` (API 46.0+):
 *   upsert of up to 200 records (more: 400 EXCEEDED_ID_LIMIT), each with `attributes.type`,
 *   processed in order; 200 with one UpsertResult per record (`id`, `success`, `errors`
 *   [{statusCode, message, fields}], `created`); `allOrNone: true` rolls every record back when one
 *   fails (ALL_OR_NONE_OPERATION_ROLLED_BACK); a JSON null clears a field; an unknown field fails
 *   the whole call (400 INVALID_FIELD);
 * - `GET …/sobjects/{SObject}/{ExternalIdField}/{value}` and `…/sobjects/{SObject}/{Id}` (404
 *   NOT_FOUND), `GET …/query?q=SELECT f, … FROM SObject` with `nextRecordsUrl` pages of 2000;
 * - `Authorization: Bearer`, 401 `INVALID_SESSION_ID` otherwise; `POST /services/oauth2/token`
 *   (client-credentials grant, client id and secret in the form or as Basic auth);
 * - the org's rolling 24-hour API request allocation: `Sforce-Limit-Info: api-usage=n/limit` on
 *   every answer, and 403 `REQUEST_LIMIT_EXCEEDED` "TotalRequests Limit exceeded." past it.
 * Record errors: REQUIRED_FIELD_MISSING, INVALID_EMAIL_ADDRESS, STRING_TOO_LONG.
 */
export class SalesforceFake extends FakeServer {
  private readonly opts: SalesforceFakeOptions;
  private readonly types = new Map<string, SObjectType>();
  private readonly records = new Map<string, Map<string, StoredSObject>>();
  private readonly tokens = new Set<string>();
  private readonly day: SlidingWindow | undefined;
  private readonly cursors = new Map<string, { rows: Record<string, unknown>[]; at: number }>();
  private nextId = 1;
  public readonly identity: SalesforceIdentity;
  public readonly oauth: SalesforceOAuthFake;

  public constructor(opts: SalesforceFakeOptions = {}) {
    super({ now: opts.now });
    this.opts = opts;
    this.identity = new SalesforceIdentity(opts.identity);
    this.oauth = new SalesforceOAuthFake({
      apps: opts.oauth?.apps ?? [
        {
          clientId: opts.clientId ?? SALESFORCE_FAKE_CLIENT_ID,
          clientSecret: opts.clientSecret ?? SALESFORCE_FAKE_CLIENT_SECRET,
        },
      ],
      ...(opts.oauth?.consentScopes ? { consentScopes: opts.oauth.consentScopes } : {}),
      organizationId: this.identity.organizationId,
      now: this.now,
    });
    const limit = opts.dailyLimit ?? 100_000;
    this.day = limit === false ? undefined : new SlidingWindow(limit, 86_400_000);
    let custom = 0;
    for (const name of new Set([...Object.keys(BUILT_IN), ...Object.keys(opts.objects ?? {})])) {
      const fields = new Map<string, FakeSObjectField>();
      for (const f of [
        ...(BUILT_IN[name]?.fields ?? [{ name: 'Name', required: true }]),
        ...(opts.objects?.[name] ?? []),
      ]) {
        fields.set(f.name, { ...fields.get(f.name), ...f });
      }
      this.types.set(name, { name, prefix: BUILT_IN[name]?.prefix ?? `a0${custom++}`, fields });
      this.records.set(name, new Map());
    }
  }

  public get accessToken(): string {
    return this.opts.accessToken ?? '00DFAKE!session';
  }

  /** Live records of a type, as stored (fields plus Id). */
  public all(type: string): Record<string, unknown>[] {
    return [...(this.records.get(type)?.values() ?? [])].map((r) => ({ Id: r.Id, ...r.fields }));
  }

  /** Records of `type` whose `field` equals `value`: "exactly one record per external id". */
  public findBy(type: string, field: string, value: string): Record<string, unknown>[] {
    return this.all(type).filter((r) => String(r[field] ?? '').toLowerCase() === value.toLowerCase());
  }

  public apiUsage(): number {
    return this.day?.used(this.now()) ?? 0;
  }

  public reset(): void {
    for (const m of this.records.values()) m.clear();
    this.day?.clear();
    this.cursors.clear();
    this.resetCalls();
  }

  protected override faultReply(f: StatusFault): Reply {
    if (f.status === 403) {
      return {
        status: 403,
        body: errorList('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'),
      };
    }
    if (f.status === 503) {
      return {
        status: 503,
        body: errorList('SERVER_UNAVAILABLE', 'Server is temporarily unavailable'),
      };
    }
    return {
      status: f.status,
      body: errorList(
        'UNKNOWN_EXCEPTION',
        'An unexpected error occurred. Please include this ErrorId if you contact support',
      ),
    };
  }

  protected override process(call: FakeCall, raw: string): Reply {
    const flow = this.oauth.answer(call, raw, this.url);
    if (flow) return flow;
    if (call.path === '/services/oauth2/token' && call.method === 'POST') return this.token(call, raw);
    const auth = header(call, 'authorization') ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (token !== this.accessToken && !this.tokens.has(token) && !this.oauth.accepts(token)) {
      return { status: 401, body: errorList('INVALID_SESSION_ID', 'Session expired or invalid') };
    }
    const now = this.now();
    if (this.day?.full(now)) {
      return {
        status: 403,
        body: errorList('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'),
        headers: this.limitHeader(),
      };
    }
    this.day?.record(now);
    const reply =
      this.identity.answer(call, this.url, (name) => {
        const type = this.types.get(name);
        return type && [...type.fields.values()];
      }) ?? this.route(call, raw);
    reply.headers = { ...this.limitHeader(), ...(reply.headers ?? {}) };
    return reply;
  }

  private limitHeader(): Record<string, string> {
    return this.day
      ? { 'Sforce-Limit-Info': `api-usage=${this.day.used(this.now())}/${this.day.limit}` }
      : {};
  }

  private token(call: FakeCall, raw: string): Reply {
    const form = new URLSearchParams(raw);
    const basic = (header(call, 'authorization') ?? '').replace(/^Basic\s+/i, '');
    const [bid, bsecret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
    const id = form.get('client_id') ?? bid;
    const secret = form.get('client_secret') ?? bsecret;
    if (form.get('grant_type') !== 'client_credentials') {
      return {
        status: 400,
        body: { error: 'unsupported_grant_type', error_description: 'grant type not supported' },
      };
    }
    if (
      id !== (this.opts.clientId ?? SALESFORCE_FAKE_CLIENT_ID) ||
      secret !== (this.opts.clientSecret ?? SALESFORCE_FAKE_CLIENT_SECRET)
    ) {
      return {
        status: 400,
        body: { error: 'invalid_client', error_description: 'invalid client credentials' },
      };
    }
    const access = `00DFAKE!${randomUUID()}`;
    this.tokens.add(access);
    return {
      status: 200,
      body: {
        access_token: access,
        signature: randomUUID(),
        scope: this.identity.scope,
        instance_url: this.url,
        token_type: 'Bearer',
        issued_at: String(this.now()),
        id: `${this.url}/id/00D/005`,
      },
    };
  }

  private route(call: FakeCall, raw: string): Reply {
    const m = API.exec(call.path);
    if (!m) return { status: 404, body: errorList('NOT_FOUND', 'The requested resource does not exist') };
    const version = Number(`${m[1]}.${m[2]}`);
    const rest = m[3] ?? '';
    const collection = /^\/composite\/sobjects\/([^/]+)\/([^/]+)$/.exec(rest);
    if (collection && call.method === 'PATCH') {
      if (version < 46)
        return { status: 404, body: errorList('NOT_FOUND', 'The requested resource does not exist') };
      return this.upsertCollection(
        call,
        decodeURIComponent(collection[1]!),
        decodeURIComponent(collection[2]!),
        raw,
      );
    }
    const byExt = /^\/sobjects\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(rest);
    if (byExt && call.method === 'GET')
      return this.getByExternalId(
        decodeURIComponent(byExt[1]!),
        decodeURIComponent(byExt[2]!),
        decodeURIComponent(byExt[3]!),
      );
    const byId = /^\/sobjects\/([^/]+)\/([^/]+)$/.exec(rest);
    if (byId && call.method === 'GET')
      return this.getById(decodeURIComponent(byId[1]!), decodeURIComponent(byId[2]!));
    if (rest === '/query' && call.method === 'GET') return this.query(call.query.q ?? '', `v${m[1]}.${m[2]}`);
    const more = /^\/query\/([^/]+)$/.exec(rest);
    if (more && call.method === 'GET') return this.queryMore(more[1]!, `v${m[1]}.${m[2]}`);
    return { status: 404, body: errorList('NOT_FOUND', 'The requested resource does not exist') };
  }

  private upsertCollection(call: FakeCall, typeName: string, extField: string, raw: string): Reply {
    const type = this.types.get(typeName);
    if (!type) return { status: 404, body: errorList('NOT_FOUND', `The requested resource does not exist`) };
    const ext = type.fields.get(extField);
    if (!ext?.externalId) {
      return {
        status: 400,
        body: errorList(
          'INVALID_FIELD',
          `Field ${extField} is not an External ID or indexed field for ${typeName}`,
        ),
      };
    }
    let body: { allOrNone?: boolean; records?: unknown[] };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return {
        status: 400,
        body: errorList('JSON_PARSER_ERROR', 'Unexpected character in the request body'),
      };
    }
    if (!Array.isArray(body.records))
      return { status: 400, body: errorList('INVALID_INPUT', 'records is required') };
    call.elements = body.records.length;
    if (body.records.length > 200) {
      return {
        status: 400,
        body: errorList(
          'EXCEEDED_ID_LIMIT',
          'record limit reached. cannot submit more than 200 records into this call',
        ),
      };
    }
    for (const r of body.records) {
      const rec = (r ?? {}) as Record<string, unknown>;
      const attrType = (rec.attributes as { type?: string } | undefined)?.type;
      if (attrType !== typeName) {
        return {
          status: 400,
          body: errorList('INVALID_TYPE', `Each record must carry attributes.type ${typeName}`),
        };
      }
      for (const k of Object.keys(rec)) {
        if (k !== 'attributes' && !type.fields.has(k)) {
          return {
            status: 400,
            body: errorList('INVALID_FIELD', `No such column '${k}' on sobject of type ${typeName}`),
          };
        }
      }
    }
    const store = this.records.get(typeName)!;
    const restore = snapshotMap(store);
    const results = body.records.map((r) => this.upsertOne(type, extField, r as Record<string, unknown>));
    if (body.allOrNone === true && results.some((r) => !r.success)) {
      restore();
      return {
        status: 200,
        body: results.map((r) =>
          r.success
            ? {
                id: null,
                success: false,
                errors: [
                  {
                    statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
                    message:
                      'Record rolled back because not all records were valid and the request was using AllOrNone header',
                    fields: [],
                  },
                ],
                created: false,
              }
            : r,
        ),
      };
    }
    return { status: 200, body: results };
  }

  private upsertOne(
    type: SObjectType,
    extField: string,
    rec: Record<string, unknown>,
  ): { id: string | null; success: boolean; errors: SfError[]; created: boolean } {
    const fail = (statusCode: string, message: string, fields: string[]) => ({
      id: null,
      success: false,
      errors: [{ statusCode, message, fields }],
      created: false,
    });
    const value = rec[extField];
    if (typeof value !== 'string' || value === '') {
      return fail('MISSING_ARGUMENT', `${extField} not specified`, [extField]);
    }
    const store = this.records.get(type.name)!;
    const existing = [...store.values()].find(
      (r) => String(r.fields[extField] ?? '').toLowerCase() === value.toLowerCase(),
    );
    const next: Record<string, unknown> = { ...(existing?.fields ?? {}) };
    for (const [k, v] of Object.entries(rec)) {
      if (k === 'attributes') continue;
      if (v === null) delete next[k];
      else next[k] = v;
    }
    const missing = [...type.fields.values()]
      .filter((f) => f.required && (next[f.name] === undefined || next[f.name] === ''))
      .map((f) => f.name);
    if (missing.length > 0)
      return fail('REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing);
    for (const f of type.fields.values()) {
      const v = next[f.name];
      if (typeof v !== 'string') continue;
      if (f.email && !EMAIL.test(v))
        return fail('INVALID_EMAIL_ADDRESS', `${f.name}: invalid email address: ${v}`, [f.name]);
      if (f.maxLength !== undefined && v.length > f.maxLength) {
        return fail(
          'STRING_TOO_LONG',
          `${f.name}: data value too large: ${v.slice(0, 40)} (max length=${f.maxLength})`,
          [f.name],
        );
      }
    }
    const record = existing ?? { Id: this.newId(type), fields: {}, systemModstamp: 0 };
    record.fields = next;
    record.systemModstamp = this.now();
    store.set(record.Id, record);
    return { id: record.Id, success: true, errors: [], created: existing === undefined };
  }

  private newId(type: SObjectType): string {
    return `${type.prefix}FK${String(this.nextId++).padStart(10, '0')}AAA`.slice(0, 18);
  }

  private view(type: string, r: StoredSObject, version = 'v62.0'): Record<string, unknown> {
    return {
      attributes: { type, url: `/services/data/${version}/sobjects/${type}/${r.Id}` },
      Id: r.Id,
      ...r.fields,
      SystemModstamp: new Date(r.systemModstamp).toISOString().replace('Z', '+0000'),
    };
  }

  private getByExternalId(typeName: string, field: string, value: string): Reply {
    const store = this.records.get(typeName);
    if (!store) return { status: 404, body: errorList('NOT_FOUND', 'The requested resource does not exist') };
    const hits = [...store.values()].filter(
      (r) => String(r.fields[field] ?? '').toLowerCase() === value.toLowerCase(),
    );
    if (hits.length === 0)
      return { status: 404, body: errorList('NOT_FOUND', 'The requested resource does not exist') };
    if (hits.length > 1)
      return { status: 300, body: hits.map((r) => `/services/data/v62.0/sobjects/${typeName}/${r.Id}`) };
    return { status: 200, body: this.view(typeName, hits[0]!) };
  }

  private getById(typeName: string, id: string): Reply {
    const r = this.records.get(typeName)?.get(id);
    return r
      ? { status: 200, body: this.view(typeName, r) }
      : { status: 404, body: errorList('NOT_FOUND', 'The requested resource does not exist') };
  }

  private query(q: string, version: string): Reply {
    const m = /^\s*SELECT\s+(.+?)\s+FROM\s+(\w+)\s*$/i.exec(q);
    if (!m)
      return { status: 400, body: errorList('MALFORMED_QUERY', `unexpected token in: ${q.slice(0, 80)}`) };
    const type = this.types.get(m[2]!);
    if (!type)
      return { status: 400, body: errorList('INVALID_TYPE', `sObject type '${m[2]}' is not supported.`) };
    const fields = m[1]!.split(',').map((f) => f.trim());
    for (const f of fields) {
      if (f !== 'Id' && f !== 'SystemModstamp' && !type.fields.has(f)) {
        return {
          status: 400,
          body: errorList('INVALID_FIELD', `No such column '${f}' on entity '${type.name}'.`),
        };
      }
    }
    const rows = [...this.records.get(type.name)!.values()].map((r) => {
      const v = this.view(type.name, r, version);
      return Object.fromEntries([['attributes', v.attributes], ...fields.map((f) => [f, v[f] ?? null])]);
    });
    return this.page(rows, version);
  }

  private queryMore(cursor: string, version: string): Reply {
    const c = this.cursors.get(cursor);
    if (!c) return { status: 400, body: errorList('INVALID_QUERY_LOCATOR', 'invalid query locator') };
    this.cursors.delete(cursor);
    return this.page(c.rows, version, c.at);
  }

  private page(rows: Record<string, unknown>[], version: string, offset = 0): Reply {
    const size = 2000;
    const slice = rows.slice(offset, offset + size);
    const done = offset + size >= rows.length;
    const body: Record<string, unknown> = { totalSize: rows.length, done, records: slice };
    if (!done) {
      const id = `01gFAKE${randomUUID().slice(0, 8)}-${offset + size}`;
      this.cursors.set(id, { rows, at: offset + size });
      body.nextRecordsUrl = `/services/data/${version}/query/${id}`;
    }
    return { status: 200, body };
  }
}

/** Starts the fake and resolves once it listens. */
export async function startSalesforceFake(opts: SalesforceFakeOptions = {}): Promise<SalesforceFake> {
  return new SalesforceFake(opts).listen(opts.port ?? 0);
}

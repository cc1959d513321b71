import { type FakeCall, FakeServer, type Reply } from '../common/FakeServer.ts';
import type { StatusFault } from '../common/faults.ts';

export interface HttpApiFakeOptions {
  /** Bearer token accepted. @default 'http-fake-token' */
  readonly token?: string;
  /** Basic credentials accepted. @default { username: 'writeback', password: 'http-fake-password' } */
  readonly basic?: { readonly username: string; readonly password: string };
  /** `X-Api-Key` accepted. @default 'http-fake-api-key' */
  readonly apiKey?: string;
  /** Client credentials the token endpoint (POST /oauth/token) accepts. @default writeback / http-fake-client-secret */
  readonly client?: { readonly id: string; readonly secret: string };
  /** Records per batch call. @default 100 */
  readonly maxBatch?: number;
  readonly now?: () => number;
}

interface StoredRecord {
  id: string;
  external_id: string;
  [field: string]: unknown;
}

const PAGE = 100;

/**
 * A typical internal REST API, the shape the generic HTTP connector's sample connection
 * describes: batch upsert by `external_id` with a result per record (POST /api/{object}/batch),
 * upsert of one (PUT /api/{object}/{externalId}, 201 on create), lookup by external id, listing by
 * cursor; bearer, basic, API-key and OAuth client-credentials auth; 422 for a record it refuses.
 */
export class HttpApiFake extends FakeServer<FakeCall, StatusFault> {
  private readonly opts: HttpApiFakeOptions;
  private readonly objects = new Map<string, Map<string, StoredRecord>>();
  private readonly issuedTokens = new Set<string>();
  private seq = 0;

  public constructor(opts: HttpApiFakeOptions = {}) {
    super({ ...(opts.now ? { now: opts.now } : {}) });
    this.opts = opts;
  }

  public get token(): string {
    return this.opts.token ?? 'http-fake-token';
  }
  public get basic(): { username: string; password: string } {
    return this.opts.basic ?? { username: 'writeback', password: 'http-fake-password' };
  }
  public get apiKey(): string {
    return this.opts.apiKey ?? 'http-fake-api-key';
  }
  public get client(): { id: string; secret: string } {
    return this.opts.client ?? { id: 'writeback', secret: 'http-fake-client-secret' };
  }

  /** The records of an object held under an external id ("exactly one per external id"). */
  public byExternalId(object: string, externalId: string): StoredRecord[] {
    const r = this.objects.get(object)?.get(externalId);
    return r ? [r] : [];
  }

  public reset(): void {
    this.objects.clear();
    this.resetCalls();
  }

  protected override faultReply(f: StatusFault): Reply {
    return { status: f.status, body: { error: f.status === 429 ? 'rate limited' : 'server error' } };
  }

  protected override process(call: FakeCall, raw: string, url: URL): Reply {
    if (call.method === 'POST' && call.path === '/oauth/token') return this.issueToken(call, raw);
    if (!this.authorized(call)) return { status: 401, body: { error: 'unauthorized' } };
    const parts = call.path.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'api' || !parts[1]) return { status: 404, body: { error: 'no such route' } };
    const object = parts[1];
    const body = raw ? (JSON.parse(raw) as unknown) : undefined;
    if (call.method === 'POST' && parts[2] === 'batch' && parts.length === 3)
      return this.batch(call, object, body);
    if (call.method === 'PUT' && parts.length === 3) {
      const out = this.upsert(object, parts[2]!, body as Record<string, unknown>);
      if ('error' in out) return { status: 422, body: { error: out.error } };
      return { status: out.created ? 201 : 200, body: { data: out.record } };
    }
    if (call.method === 'GET' && parts[2] === 'by-external-id' && parts[3]) {
      const r = this.objects.get(object)?.get(parts[3]);
      return r ? { status: 200, body: { data: r } } : { status: 404, body: { error: 'not found' } };
    }
    if (call.method === 'GET' && parts.length === 2) {
      const all = [...(this.objects.get(object)?.values() ?? [])];
      const from = Number(url.searchParams.get('cursor') ?? 0);
      const next = from + PAGE < all.length ? String(from + PAGE) : null;
      return { status: 200, body: { data: all.slice(from, from + PAGE), next_cursor: next } };
    }
    return { status: 404, body: { error: 'no such route' } };
  }

  private batch(call: FakeCall, object: string, body: unknown): Reply {
    const records = (body as { records?: unknown } | undefined)?.records;
    if (!Array.isArray(records)) return { status: 400, body: { error: 'expected {"records": [...]}' } };
    const max = this.opts.maxBatch ?? 100;
    if (records.length > max) return { status: 400, body: { error: `at most ${max} records per call` } };
    call.elements = records.length;
    const results = records.map((r: Record<string, unknown>) => {
      const ext = r.external_id;
      if (typeof ext !== 'string' || ext === '')
        return { external_id: ext ?? null, error: 'external_id is required' };
      const { external_id: _, ...fields } = r;
      const out = this.upsert(object, ext, fields);
      return 'error' in out
        ? { external_id: ext, error: out.error }
        : { ...out.record, created: out.created };
    });
    return { status: 200, body: { results } };
  }

  private upsert(
    object: string,
    externalId: string,
    fields: Record<string, unknown>,
  ): { record: StoredRecord; created: boolean } | { error: string } {
    const store = this.objects.get(object) ?? new Map<string, StoredRecord>();
    this.objects.set(object, store);
    const existing = store.get(externalId);
    const merged: Record<string, unknown> = { ...existing, ...fields };
    for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
    if (typeof merged.name !== 'string' || merged.name === '') return { error: 'name is required' };
    if (merged.email !== undefined && !/^[^@\s]+@[^@\s]+$/.test(String(merged.email))) {
      return { error: `email '${String(merged.email)}' is not an address` };
    }
    const record: StoredRecord = {
      ...merged,
      id: existing?.id ?? `rec_${++this.seq}`,
      external_id: externalId,
    };
    store.set(externalId, record);
    return { record, created: existing === undefined };
  }

  private authorized(call: FakeCall): boolean {
    const auth = header(call, 'authorization') ?? '';
    if (auth === `Bearer ${this.token}`) return true;
    if (auth.startsWith('Bearer ') && this.issuedTokens.has(auth.slice(7))) return true;
    const b = this.basic;
    if (auth === `Basic ${Buffer.from(`${b.username}:${b.password}`).toString('base64')}`) return true;
    return header(call, 'x-api-key') === this.apiKey;
  }

  /** RFC 6749 §4.4: client_credentials, the client authenticated by Basic or in the form. */
  private issueToken(call: FakeCall, raw: string): Reply {
    const form = new URLSearchParams(raw);
    const auth = header(call, 'authorization') ?? '';
    const [id, secret] = auth.startsWith('Basic ')
      ? Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')
      : [form.get('client_id') ?? '', form.get('client_secret') ?? ''];
    if (form.get('grant_type') !== 'client_credentials')
      return { status: 400, body: { error: 'unsupported_grant_type' } };
    if (id !== this.client.id || secret !== this.client.secret)
      return { status: 401, body: { error: 'invalid_client' } };
    const token = `tok_${++this.seq}`;
    this.issuedTokens.add(token);
    return { status: 200, body: { access_token: token, token_type: 'Bearer', expires_in: 3600 } };
  }
}

function header(call: FakeCall, name: string): string | undefined {
  const v = call.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export async function startHttpApiFake(opts: HttpApiFakeOptions = {}): Promise<HttpApiFake> {
  return new HttpApiFake(opts).listen(0);
}

import { TargetError } from '../../errors.ts';
import { chunks } from '../batching.ts';
import type {
  AssociatedRecord,
  AssociateOptions,
  AssociationPair,
  AssociationResult,
  AssociationTypeSpec,
} from '../Connector.ts';
import { type HubSpotErrorBody, HubSpotErrorCode, parseErrorBody, stringList } from './hubspotErrors.ts';

/**
 * Pairs per association batch call. HubSpot's own MCP server documents "max 100 associations per
 * batch" for `batch/create` (a third-party connector states 2000): 100 is safe under both.
 */
export const HUBSPOT_ASSOCIATION_BATCH_SIZE = 100;
/**
 * Inputs per `…/associations/{from}/{to}/batch/read` call. HubSpot's developer changelog ("Batch
 * Read Limit for HubSpot Associations API", v3 and v4): at most 1000 ids per request body from
 * February 10th, 2025 (first announced as 100 from January 6th, then raised before it took effect).
 */
export const HUBSPOT_ASSOCIATION_READ_BATCH_SIZE = 1000;
/** `GET /crm/v4/objects/{type}/{id}/associations/{toType}`: "Limit 500 per call" (spec). */
const LIST_PAGE = 500;
/** Extra calls one associate() may spend isolating the pairs a whole-batch 400 named. */
const ISOLATE_BUDGET = 8;
const V4 = '/crm/v4';

/** What one HTTP exchange produced (HubSpotConnector's transport). */
export type HubSpotExchange =
  | { ok: true; status: number; headers: Headers; text: string }
  | { ok: false; error: TargetError };

/** The connector's transport and error classification, shared with the upsert path. */
export interface HubSpotAssociationsTransport {
  exchange(method: 'GET' | 'POST', path: string, body?: unknown): Promise<HubSpotExchange>;
  classifyResponse(ex: Extract<HubSpotExchange, { ok: true }>, route: string): TargetError;
  classifyItemError(e: HubSpotErrorBody, status: number): TargetError;
  redact(text: string): string;
}

interface Pair {
  readonly id: string;
  readonly fromId: string;
  readonly toId: string;
}

type Outcome = { readonly ok: true } | { readonly ok: false; readonly error: TargetError };

/** One record of a batch read, and the paging cursor to read its next associations from. */
interface ReadInput {
  readonly id: string;
  readonly after?: string;
}

/** `BatchResponsePublicAssociationMultiWithErrors`: 200, or 207 with per-input errors. */
interface BatchReadAnswer {
  results?: {
    from?: unknown;
    to?: unknown[];
    paging?: { next?: { after?: unknown } };
  }[];
  errors?: (HubSpotErrorBody & { subCategory?: unknown })[];
}

/** A record id an error names, with its side or object type when the error says. */
export interface NamedId {
  readonly id: string;
  readonly side?: 'from' | 'to';
  readonly objectType?: string;
}

const pairId = (fromId: string, toId: string): string => `${fromId}\u0000${toId}`;

/**
 * HubSpot associations v4 for HubSpotConnector: default (or typed) associations in batches, their
 * removal and their reads. See docs/connectors.md (HubSpot → Associations).
 */
export class HubSpotAssociations {
  private readonly t: HubSpotAssociationsTransport;

  public constructor(transport: HubSpotAssociationsTransport) {
    this.t = transport;
  }

  /**
   * `POST /crm/v4/associations/{from}/{to}/batch/associate/default` (or `batch/create` with
   * `opts.types`), in calls of at most 100 distinct pairs. One result per pair, in order.
   */
  public async associate(
    fromObject: string,
    toObject: string,
    pairs: readonly AssociationPair[],
    opts: AssociateOptions = {},
  ): Promise<AssociationResult[]> {
    const outcomes = new Map<string, Outcome>();
    const unique = new Map<string, Pair>();
    for (const p of pairs) {
      const id = pairId(p.fromId, p.toId);
      if (p.fromId === '' || p.toId === '') {
        outcomes.set(id, {
          ok: false,
          error: new TargetError(HubSpotErrorCode.validation, 'association pair with an empty record id', {
            disposition: 'permanent',
          }),
        });
      } else if (!unique.has(id)) unique.set(id, { id, fromId: p.fromId, toId: p.toId });
    }
    const budget = { calls: ISOLATE_BUDGET };
    for (const chunk of chunks([...unique.values()], HUBSPOT_ASSOCIATION_BATCH_SIZE)) {
      await this.associateChunk(fromObject, toObject, chunk, opts.types, outcomes, budget);
    }
    return pairs.map((p) => result(p, outcomes.get(pairId(p.fromId, p.toId))));
  }

  private async associateChunk(
    fromObject: string,
    toObject: string,
    pairs: readonly Pair[],
    types: readonly AssociationTypeSpec[] | undefined,
    outcomes: Map<string, Outcome>,
    budget: { calls: number },
  ): Promise<void> {
    const typed = types !== undefined && types.length > 0;
    const op = typed ? 'batch/create' : 'batch/associate/default';
    const route = `POST ${V4}/associations/${fromObject}/${toObject}/${op}`;
    const inputs = pairs.map((p) => ({
      from: { id: p.fromId },
      to: { id: p.toId },
      ...(typed
        ? { types: types.map((s) => ({ associationCategory: s.category, associationTypeId: s.typeId })) }
        : {}),
    }));
    const path = `${V4}/associations/${encodeURIComponent(fromObject)}/${encodeURIComponent(toObject)}/${op}`;
    const ex = await this.t.exchange('POST', path, { inputs });
    const failAll = (error: TargetError, of: readonly Pair[] = pairs) => {
      for (const p of of) outcomes.set(p.id, { ok: false, error });
    };
    if (!ex.ok) return failAll(ex.error);
    if (ex.status >= 200 && ex.status < 300) {
      return this.mapAnswer(fromObject, toObject, pairs, ex, route, outcomes);
    }
    const error = this.t.classifyResponse(ex, route);
    const body = parseErrorBody(ex.text);
    const named = ex.status === 400 ? namedIds(body) : [];
    const bad = pairs.filter((p) => names(named, p, fromObject, toObject));
    // A whole batch refused for ids it names (all-or-nothing validation): those pairs fail, the
    // others were not written and go again without them (associating is idempotent).
    if (bad.length === 0) return failAll(error);
    failAll(this.itemError(body ?? {}, ex.status), bad);
    const rest = pairs.filter((p) => !bad.includes(p));
    if (rest.length === 0) return;
    if (budget.calls <= 0) {
      const notIsolated = new TargetError(
        error.code,
        `${error.message} (batch refused as a whole; pair not isolated)`,
        { disposition: 'retryable', httpStatus: ex.status },
      );
      return failAll(notIsolated, rest);
    }
    budget.calls--;
    await this.associateChunk(fromObject, toObject, rest, types, outcomes, budget);
  }

  /** Results and per-input errors of a 2xx, matched back to pairs; pairs mentioned by neither are retryable. */
  private mapAnswer(
    fromObject: string,
    toObject: string,
    pairs: readonly Pair[],
    ex: Extract<HubSpotExchange, { ok: true }>,
    route: string,
    outcomes: Map<string, Outcome>,
  ): void {
    let answer: { results?: unknown[]; errors?: HubSpotErrorBody[] };
    try {
      answer = JSON.parse(ex.text) as typeof answer;
    } catch {
      const error = new TargetError(
        HubSpotErrorCode.badResponse,
        `HubSpot answered ${ex.status} to ${route} with a body that is not JSON; the association may exist`,
        { disposition: 'retryable', httpStatus: ex.status },
      );
      for (const p of pairs) outcomes.set(p.id, { ok: false, error });
      return;
    }
    const inChunk = new Map(pairs.map((p) => [p.id, p]));
    const done = new Set<string>();
    for (const r of answer.results ?? []) {
      const ids = resultIds(r);
      // Default-association answers also list the inverse direction; only the asked one counts.
      if (ids && inChunk.has(pairId(ids.fromId, ids.toId))) done.add(pairId(ids.fromId, ids.toId));
    }
    for (const id of done) outcomes.set(id, { ok: true });
    const unattributed: TargetError[] = [];
    for (const e of answer.errors ?? []) {
      const error = this.itemError(e, ex.status);
      const named = namedIds(e);
      let matched = false;
      for (const p of pairs) {
        if (!done.has(p.id) && names(named, p, fromObject, toObject)) {
          outcomes.set(p.id, { ok: false, error });
          matched = true;
        }
      }
      if (!matched) unattributed.push(error);
    }
    for (const p of pairs) {
      if (outcomes.has(p.id)) continue;
      const hint = unattributed[0] ? `; unattributed error: ${unattributed[0].message}` : '';
      outcomes.set(p.id, {
        ok: false,
        error: new TargetError(
          HubSpotErrorCode.badResponse,
          this.t.redact(`HubSpot's answer to ${route} (${ex.status}) did not mention this pair${hint}`),
          { disposition: 'retryable', httpStatus: ex.status },
        ),
      });
    }
  }

  /** An unknown (or deleted) record is HUBSPOT_NOT_FOUND, permanent; other errors as upserts classify them. */
  private itemError(e: HubSpotErrorBody, status: number): TargetError {
    const invalid = stringList(e.context?.INVALID_OBJECT_IDS);
    if (invalid.length === 0 && e.category !== 'OBJECT_NOT_FOUND') return this.t.classifyItemError(e, status);
    const what =
      invalid.length > 0 ? `${e.message ?? 'invalid association'}: ${invalid.join(', ')}` : e.message;
    const corr = e.correlationId ? ` [correlationId ${e.correlationId}]` : '';
    return new TargetError(
      HubSpotErrorCode.notFound,
      this.t.redact(`HubSpot ${e.category ?? 'VALIDATION_ERROR'}: ${what ?? 'record not found'}${corr}`),
      { disposition: 'permanent', httpStatus: status === 207 || status < 300 ? 400 : status },
    );
  }

  /**
   * `POST /crm/v4/associations/{from}/{to}/batch/archive`: removes every association between each
   * pair (absent ones too: idempotent), in calls of at most 100 pairs. One result per pair.
   */
  public async dissociate(
    fromObject: string,
    toObject: string,
    pairs: readonly AssociationPair[],
  ): Promise<AssociationResult[]> {
    const outcomes = new Map<string, Outcome>();
    const unique = new Map<string, Pair>();
    for (const p of pairs) {
      const id = pairId(p.fromId, p.toId);
      if (!unique.has(id)) unique.set(id, { id, fromId: p.fromId, toId: p.toId });
    }
    const route = `POST ${V4}/associations/${fromObject}/${toObject}/batch/archive`;
    const path = `${V4}/associations/${encodeURIComponent(fromObject)}/${encodeURIComponent(toObject)}/batch/archive`;
    for (const chunk of chunks([...unique.values()], HUBSPOT_ASSOCIATION_BATCH_SIZE)) {
      const byFrom = new Map<string, string[]>();
      for (const p of chunk) byFrom.set(p.fromId, [...(byFrom.get(p.fromId) ?? []), p.toId]);
      const inputs = [...byFrom].map(([fromId, toIds]) => ({
        from: { id: fromId },
        to: toIds.map((id) => ({ id })),
      }));
      const ex = await this.t.exchange('POST', path, { inputs });
      const outcome: Outcome = !ex.ok
        ? { ok: false, error: ex.error }
        : ex.status >= 200 && ex.status < 300
          ? { ok: true }
          : { ok: false, error: this.t.classifyResponse(ex, route) };
      for (const p of chunk) outcomes.set(p.id, outcome);
    }
    return pairs.map((p) => result(p, outcomes.get(pairId(p.fromId, p.toId))));
  }

  /** `GET /crm/v4/objects/{from}/{id}/associations/{to}`, every page; throws a TargetError on failure. */
  public async list(fromObject: string, fromId: string, toObject: string): Promise<AssociatedRecord[]> {
    const out: AssociatedRecord[] = [];
    const base = `${V4}/objects/${encodeURIComponent(fromObject)}/${encodeURIComponent(fromId)}/associations/${encodeURIComponent(toObject)}`;
    let after: string | undefined;
    do {
      const q = new URLSearchParams({ limit: String(LIST_PAGE) });
      if (after !== undefined) q.set('after', after);
      const ex = await this.t.exchange('GET', `${base}?${q}`);
      if (!ex.ok) throw ex.error;
      if (ex.status !== 200) {
        throw this.t.classifyResponse(ex, `GET ${V4}/objects/${fromObject}/{id}/associations/${toObject}`);
      }
      const page = parseAnswer<{ results?: unknown[]; paging?: { next?: { after?: string } } }>(ex);
      for (const r of page.results ?? []) {
        const a = associatedRecord(r);
        if (a) out.push(a);
      }
      after = page.paging?.next?.after;
    } while (after !== undefined && after !== '');
    return out;
  }

  /**
   * `POST /crm/v4/associations/{from}/{to}/batch/read` for each record of `fromIds`, 1000 records
   * per call; a record with more associations than one answer holds is asked again from its `after`
   * cursor in a later call. One entry per distinct id, [] for a record without associations; throws
   * when any id's associations could not be read (HubSpotConnector.readAssociations).
   */
  public async read(
    fromObject: string,
    fromIds: readonly string[],
    toObject: string,
  ): Promise<Map<string, AssociatedRecord[]>> {
    const out = new Map<string, AssociatedRecord[]>();
    for (const id of fromIds) if (id !== '') out.set(id, []);
    const route = `POST ${V4}/associations/${fromObject}/${toObject}/batch/read`;
    const path = `${V4}/associations/${encodeURIComponent(fromObject)}/${encodeURIComponent(toObject)}/batch/read`;
    let pending: ReadInput[] = [...out.keys()].map((id) => ({ id }));
    while (pending.length > 0) {
      const next: ReadInput[] = [];
      for (const chunk of chunks(pending, HUBSPOT_ASSOCIATION_READ_BATCH_SIZE)) {
        next.push(...(await this.readChunk(route, path, chunk, out)));
      }
      pending = next;
    }
    return out;
  }

  /**
   * One batch read call: adds each record's associations to `out` and returns the records to ask
   * again from their paging cursor. HubSpot answers a record without associations with a per-input
   * error (207, NO_ASSOCIATIONS_FOUND): that record is answered, with none. Any other per-input
   * error, or a record the answer does not mention, throws: an unread association is not an absent one.
   */
  private async readChunk(
    route: string,
    path: string,
    chunk: readonly ReadInput[],
    out: Map<string, AssociatedRecord[]>,
  ): Promise<ReadInput[]> {
    const ex = await this.t.exchange('POST', path, { inputs: chunk });
    if (!ex.ok) throw ex.error;
    if (ex.status !== 200 && ex.status !== 207) throw this.t.classifyResponse(ex, route);
    const answer = parseAnswer<BatchReadAnswer>(ex);
    const asked = new Map(chunk.map((i) => [i.id, i]));
    const answered = new Set<string>();
    const next: ReadInput[] = [];
    for (const r of answer.results ?? []) {
      const id = isRecord(r.from) ? idText(r.from.id) : undefined;
      const input = id === undefined ? undefined : asked.get(id);
      if (id === undefined || input === undefined) continue;
      answered.add(id);
      const list = out.get(id)!;
      for (const to of Array.isArray(r.to) ? r.to : []) {
        const a = associatedRecord(to);
        if (a) list.push(a);
      }
      const after = r.paging?.next?.after;
      if (typeof after !== 'string' || after === '') continue;
      // A cursor that does not move would page forever.
      if (after === input.after) {
        throw new TargetError(
          HubSpotErrorCode.badResponse,
          `HubSpot's answer to ${route} repeated the paging cursor of record ${id}`,
          { disposition: 'retryable', httpStatus: ex.status },
        );
      }
      next.push({ id, after });
    }
    for (const e of answer.errors ?? []) {
      const ids = idList(e.context?.fromObjectId).filter((id) => asked.has(id));
      if (!isNoAssociations(e) || ids.length === 0) throw this.t.classifyItemError(e, ex.status);
      for (const id of ids) answered.add(id);
    }
    const unanswered = chunk.find((i) => !answered.has(i.id));
    if (unanswered) {
      throw new TargetError(
        HubSpotErrorCode.badResponse,
        `HubSpot's answer to ${route} (${ex.status}) did not mention record ${unanswered.id}`,
        { disposition: 'retryable', httpStatus: ex.status },
      );
    }
    return next;
  }
}

/** A 2xx answer's JSON body; a body that is not JSON is a retryable bad response. */
export function parseAnswer<T>(ex: Extract<HubSpotExchange, { ok: true }>): T {
  try {
    return JSON.parse(ex.text) as T;
  } catch {
    throw new TargetError(
      HubSpotErrorCode.badResponse,
      `HubSpot answered ${ex.status} with a body that is not JSON`,
      {
        disposition: 'retryable',
        httpStatus: ex.status,
      },
    );
  }
}

// ---------------------------------------------------------------- pure helpers (exported for unit tests)

function result(p: AssociationPair, o: Outcome | undefined): AssociationResult {
  const key = p.key ?? `${p.fromId}->${p.toId}`;
  if (o === undefined) {
    const error = new TargetError(HubSpotErrorCode.badResponse, 'association pair was not sent', {
      disposition: 'retryable',
    });
    return { key, fromId: p.fromId, toId: p.toId, ok: false, error };
  }
  return o.ok
    ? { key, fromId: p.fromId, toId: p.toId, ok: true }
    : { key, fromId: p.fromId, toId: p.toId, ok: false, error: o.error };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Ids come as strings or numbers depending on the endpoint and its version. */
const idText = (v: unknown): string | undefined =>
  typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;

function idList(v: unknown): string[] {
  return Array.isArray(v) ? v.map(idText).filter((id): id is string => id !== undefined) : [];
}

/**
 * HubSpot's answer for a record without associations of that type: `OBJECT_NOT_FOUND` with
 * subCategory `crm.associations.NO_ASSOCIATIONS_FOUND` and the record in `context.fromObjectId`.
 */
function isNoAssociations(e: HubSpotErrorBody & { subCategory?: unknown }): boolean {
  return e.subCategory === 'crm.associations.NO_ASSOCIATIONS_FOUND' || e.category === 'OBJECT_NOT_FOUND';
}

/**
 * The pair a result names: `{from:{id}, to:{id}}` (default associations) or `{fromObjectId,
 * toObjectId}` (labelled ones); ids come as strings or numbers depending on the endpoint.
 */
export function resultIds(r: unknown): { fromId: string; toId: string } | undefined {
  if (!isRecord(r)) return undefined;
  const fromId = isRecord(r.from) ? idText(r.from.id) : idText(r.fromObjectId);
  const toId = isRecord(r.to) ? idText(r.to.id) : idText(r.toObjectId);
  return fromId !== undefined && toId !== undefined ? { fromId, toId } : undefined;
}

/**
 * The record ids an error body names: `INVALID_OBJECT_IDS: ["LINE_ITEM=12 is not valid"]`,
 * `objectId` with `objectType` (parallel lists), `fromObjectId`, `toObjectId`, `ids`.
 */
export function namedIds(e: HubSpotErrorBody | undefined): NamedId[] {
  const ctx = e?.context ?? {};
  const out: NamedId[] = [];
  for (const s of stringList(ctx.INVALID_OBJECT_IDS)) {
    const m = /^([^=\s]+)=(\S+)/.exec(s);
    if (m?.[1] && m[2]) out.push({ id: m[2], objectType: m[1] });
  }
  const types = stringList(ctx.objectType);
  stringList(ctx.objectId).forEach((id, i) => {
    const objectType = types[i];
    out.push(objectType === undefined ? { id } : { id, objectType });
  });
  for (const id of stringList(ctx.fromObjectId)) out.push({ id, side: 'from' });
  for (const id of stringList(ctx.toObjectId)) out.push({ id, side: 'to' });
  for (const id of stringList(ctx.ids)) out.push({ id });
  return out;
}

const CANONICAL: Readonly<Record<string, string>> = {
  contacts: 'contact',
  '0-1': 'contact',
  companies: 'company',
  '0-2': 'company',
  deals: 'deal',
  '0-3': 'deal',
  tickets: 'ticket',
  '0-5': 'ticket',
  products: 'product',
  '0-7': 'product',
  line_items: 'line_item',
  '0-8': 'line_item',
};

const canonical = (t: string): string | undefined => {
  const k = t.toLowerCase();
  return CANONICAL[k] ?? (Object.values(CANONICAL).includes(k) ? k : undefined);
};

/** Whether an error's object type (LINE_ITEM, 0-8…) is `object`; unknown names match any type. */
export function sameObjectType(errorType: string | undefined, object: string): boolean {
  if (errorType === undefined) return true;
  const a = canonical(errorType);
  const b = canonical(object);
  return a === undefined || b === undefined || a === b;
}

function names(named: readonly NamedId[], p: Pair, fromObject: string, toObject: string): boolean {
  return named.some(
    (n) =>
      (n.side !== 'to' && n.id === p.fromId && sameObjectType(n.objectType, fromObject)) ||
      (n.side !== 'from' && n.id === p.toId && sameObjectType(n.objectType, toObject)),
  );
}

/** One `to` entry of a list or batch read: `{toObjectId, associationTypes: [{category, typeId, label}]}`. */
function associatedRecord(r: unknown): AssociatedRecord | undefined {
  if (!isRecord(r)) return undefined;
  const toId = idText(r.toObjectId);
  if (toId === undefined) return undefined;
  const types = (Array.isArray(r.associationTypes) ? r.associationTypes : []).filter(isRecord).map((t) => ({
    category: String(t.category) as AssociationTypeSpec['category'],
    typeId: Number(t.typeId),
    label: typeof t.label === 'string' ? t.label : null,
  }));
  return { toId, types };
}

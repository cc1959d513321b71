import { batchReply, batchTooLargeMessage, errorBody, standardError } from './bodies.ts';
import { iso, type ObjectStore } from './store.ts';

/**
 * The HubSpot fake's associations v4 API: association definitions (type ids by direction), the
 * associations between records, and the v4 endpoints.
 *
 * Facts, from HubSpot/HubSpot-public-api-spec-collection `CRM/Associations/Rollouts/130902/v4`
 * (and the older `50914/v4` rollout and its Postman collection) unless marked otherwise:
 * - `PUT /crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/default/{toObjectType}/{toObjectId}`
 *   (200, BatchResponsePublicDefaultAssociation), `PUT|DELETE /crm/v4/objects/{objectType}/{objectId}/
 *   associations/{toObjectType}/{toObjectId}` (201 LabelsBetweenObjectPair, body `[AssociationSpec]` /
 *   204), `GET /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}` (`limit` default
 *   and maximum 500, `after`; `paging` only when there is a next page);
 * - `POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/associate/default` (inputs
 *   `{from:{id},to:{id}}`), `…/batch/create` (inputs add `types: [{associationCategory,
 *   associationTypeId}]`, 201 / 207), `…/batch/read` (inputs `{id, after?}`, 200 / 207), `…/batch/archive`
 *   (inputs `{from:{id}, to:[{id}]}`, 204), `…/batch/labels/archive` (204; removing the unlabeled type
 *   removes every label between the two records);
 * - the batch endpoints carry `x-hubspot-rate-limit-exemptions: ["ten-secondly"]`: they are not
 *   counted in the burst window (the fake still counts them against the daily limit);
 * - `toObjectId`, `fromObjectId` in reads and batch/create results are integers (older spec and its
 *   Postman examples; the newer spec says string — clients must accept both);
 * - associations are stored in both directions: line item → deal (20) also makes deal → line item (19).
 *   Default-association answers list both directions (the Postman example of one default association
 *   shows two results; that they are the two directions is our reading);
 * - an unknown record id: `VALIDATION_ERROR` "One or more associations are invalid" with context
 *   `INVALID_OBJECT_IDS: ["CONTACT=… is not valid"], objectId, objectType` (a real answer quoted in
 *   HubSpot/hubspot-api-nodejs#646). In a batch it fails that input (207) by default; with
 *   `associationErrors: 'reject-batch'` it fails the whole batch (400, nothing written) — HubSpot's
 *   documentation does not say which, so the connector handles both;
 * - batch read: at most 1000 inputs (HubSpot changelog, February 2025). Other batches: 100 inputs
 *   (HubSpot's own MCP server documents "max 100 associations per batch"; a third-party connector
 *   states 2000 — the fake takes the stricter, configurable with `maxAssociationBatchSize`);
 * - HUBSPOT_DEFINED type ids: contact↔company 279/280 (primary 1/2), deal↔contact 3/4, deal↔company
 *   341/342 (primary 5/6), ticket↔contact 16/15, ticket↔company 339/340 (primary 26/25),
 *   deal↔ticket 27/28, deal↔line item 19/20 (HubSpot's association type table; checked: 279 on
 *   HubSpot's associations overview, 16/339 by a HubSpot SDK maintainer in hubspot-api-php#227,
 *   19/20 and 341 in public integrations — see docs/connectors.md).
 * - batch read of a record without associations of that type: a per-input error, 207 (also when no
 *   input has any), `OBJECT_NOT_FOUND` with subCategory `crm.associations.NO_ASSOCIATIONS_FOUND`,
 *   "No company is associated with deal 515690208449." and context `fromObjectId, fromObjectType,
 *   toObjectType` (answers quoted in public integrations that read HubSpot associations; the fake's
 *   context has `fromObjectId` only, which is what clients match the input by);
 * Ours (no source found): the singular names of line items and custom objects in that message, the
 * wording of a refused type, and that a type the two object types do not have (or no default type)
 * fails the whole call (400).
 * An input that is not an object fails the call; one without `from`/`to` ids fails like an unknown record.
 */

export type AssociationCategory = 'HUBSPOT_DEFINED' | 'USER_DEFINED' | 'INTEGRATOR_DEFINED';

/** One association type between two object types, with the type id of the opposite direction. */
export interface FakeAssociationType {
  /** Object type names (contacts, line_items, a custom object's name). */
  readonly from: string;
  readonly to: string;
  readonly typeId: number;
  readonly inverseTypeId: number;
  /** @default 'USER_DEFINED' (the built-ins are HUBSPOT_DEFINED) */
  readonly category?: AssociationCategory;
  /** null for the unlabeled type. @default null */
  readonly label?: string | null;
  /** The type `associate/default` writes (one per direction). @default false */
  readonly default?: boolean;
}

/** An association as tests see it: the other record, and the type ids from this side. */
export interface FakeAssociation {
  readonly toObjectType: string;
  readonly toId: string;
  readonly typeIds: readonly number[];
}

interface Definition {
  readonly from: string;
  readonly to: string;
  readonly typeId: number;
  readonly inverseTypeId: number;
  readonly category: AssociationCategory;
  readonly label: string | null;
}

const HS = 'HUBSPOT_DEFINED' as const;

const BUILT_IN_TYPES: readonly FakeAssociationType[] = [
  { from: 'contacts', to: 'companies', typeId: 279, inverseTypeId: 280, category: HS, default: true },
  { from: 'contacts', to: 'companies', typeId: 1, inverseTypeId: 2, category: HS, label: 'Primary' },
  { from: 'deals', to: 'contacts', typeId: 3, inverseTypeId: 4, category: HS, default: true },
  { from: 'deals', to: 'companies', typeId: 341, inverseTypeId: 342, category: HS, default: true },
  { from: 'deals', to: 'companies', typeId: 5, inverseTypeId: 6, category: HS, label: 'Primary' },
  { from: 'tickets', to: 'contacts', typeId: 16, inverseTypeId: 15, category: HS, default: true },
  { from: 'tickets', to: 'companies', typeId: 339, inverseTypeId: 340, category: HS, default: true },
  { from: 'tickets', to: 'companies', typeId: 26, inverseTypeId: 25, category: HS, label: 'Primary' },
  { from: 'deals', to: 'tickets', typeId: 27, inverseTypeId: 28, category: HS, default: true },
  { from: 'deals', to: 'line_items', typeId: 19, inverseTypeId: 20, category: HS, default: true },
];

/** Singular names HubSpot also accepts in v4 paths (`/crm/v4/objects/contact/…`). */
export const SINGULAR_ALIASES: Readonly<Record<string, string>> = {
  contact: 'contacts',
  company: 'companies',
  deal: 'deals',
  ticket: 'tickets',
  product: 'products',
  line_item: 'line_items',
};

/** A batch association call: not counted in the ten-secondly window (spec: rate-limit exemption). */
export function isBurstExempt(method: string, path: string): boolean {
  return method === 'POST' && /^\/crm\/v4\/associations\/[^/]+\/[^/]+\/batch\//.test(path);
}

export interface AssociationsReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface AssociationsOptions {
  /** Resolves an object type name, id or alias to its store. */
  readonly resolve: (name: string) => ObjectStore | undefined;
  readonly now: () => number;
  /** The fake's URL, known once it listens. */
  readonly baseUrl: () => string;
  readonly types?: readonly FakeAssociationType[];
  /** @default 'multi-status' */
  readonly errors?: 'multi-status' | 'reject-batch';
  /** @default 100 */
  readonly maxBatchSize?: number;
  /** @default 1000 */
  readonly maxReadBatchSize?: number;
}

interface InputError {
  readonly category: string;
  readonly message: string;
  readonly context: Record<string, string[]>;
}

const PAGE_MAX = 500;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{ id: '12' }` or `{ id: 12 }` → '12'; anything else ''. */
function objectId(v: unknown): string {
  if (!isRecord(v)) return '';
  return typeof v.id === 'string' || typeof v.id === 'number' ? String(v.id) : '';
}

/** HubSpot's own numeric ids as JSON numbers, anything else as the string it is. */
function asNumberIfNumeric(id: string): number | string {
  return /^\d{1,15}$/.test(id) ? Number(id) : id;
}

function objectTypeLabel(store: ObjectStore): string {
  return store.model.label.toUpperCase().replace(/ /g, '_');
}

/** The associations between the fake's records, and the v4 endpoints that read and write them. */
export class Associations {
  private readonly opts: AssociationsOptions;
  /** `${from}>${to}` → type id → definition. */
  private readonly defs = new Map<string, Map<number, Definition>>();
  private readonly defaults = new Map<string, Definition>();
  /** `${type}:${id}` → `${toType}:${toId}` → type ids. */
  private readonly links = new Map<string, Map<string, Set<number>>>();

  public constructor(opts: AssociationsOptions) {
    this.opts = opts;
    for (const t of [...BUILT_IN_TYPES, ...(opts.types ?? [])]) this.define(t);
  }

  private define(t: FakeAssociationType): void {
    const category = t.category ?? 'USER_DEFINED';
    const label = t.label ?? null;
    const forward: Definition = {
      from: t.from,
      to: t.to,
      typeId: t.typeId,
      inverseTypeId: t.inverseTypeId,
      category,
      label,
    };
    const inverse: Definition = {
      from: t.to,
      to: t.from,
      typeId: t.inverseTypeId,
      inverseTypeId: t.typeId,
      category,
      label,
    };
    for (const d of [forward, inverse]) {
      const key = `${d.from}>${d.to}`;
      let m = this.defs.get(key);
      if (m === undefined) {
        m = new Map();
        this.defs.set(key, m);
      }
      m.set(d.typeId, d);
      if (t.default) this.defaults.set(key, d);
    }
  }

  // ---------------------------------------------------------------- store

  /** Adds `typeId` from → to and its inverse to → from; adding twice keeps one. */
  public add(from: string, fromId: string, to: string, toId: string, def: Definition): void {
    this.typeSet(from, fromId, to, toId, true)?.add(def.typeId);
    this.typeSet(to, toId, from, fromId, true)?.add(def.inverseTypeId);
  }

  /** Removes the given types (both directions), or every type when `typeIds` is undefined. */
  public remove(from: string, fromId: string, to: string, toId: string, typeIds?: readonly number[]): void {
    const forward = this.typeSet(from, fromId, to, toId, false);
    if (forward === undefined) return;
    const defs = this.defs.get(`${from}>${to}`);
    const removesAll =
      typeIds === undefined || typeIds.some((t) => defs?.get(t) !== undefined && defs.get(t)?.label === null);
    const drop = removesAll ? [...forward] : typeIds;
    for (const t of drop) {
      forward.delete(t);
      const inverse = defs?.get(t)?.inverseTypeId;
      if (inverse !== undefined) this.typeSet(to, toId, from, fromId, false)?.delete(inverse);
    }
    this.prune(from, fromId, to, toId);
    this.prune(to, toId, from, fromId);
  }

  /** Associations of a live record to live records of `to` (every type when omitted), by ascending id. */
  public list(from: string, fromId: string, to?: string): FakeAssociation[] {
    const out: FakeAssociation[] = [];
    for (const [key, types] of this.links.get(`${from}:${fromId}`) ?? []) {
      const i = key.lastIndexOf(':');
      const toType = key.slice(0, i);
      const toId = key.slice(i + 1);
      if (to !== undefined && toType !== to) continue;
      if (types.size === 0 || !this.live(toType, toId)) continue;
      out.push({ toObjectType: toType, toId, typeIds: [...types].sort((a, b) => a - b) });
    }
    return out.sort((a, b) => Number(a.toId) - Number(b.toId) || a.toId.localeCompare(b.toId));
  }

  public clear(): void {
    this.links.clear();
  }

  /** The default definition from → to, if HubSpot (or the options) define one. */
  public defaultType(from: string, to: string): Definition | undefined {
    return this.defaults.get(`${from}>${to}`);
  }

  public definition(from: string, to: string, typeId: number): Definition | undefined {
    return this.defs.get(`${from}>${to}`)?.get(typeId);
  }

  private typeSet(from: string, fromId: string, to: string, toId: string, create: boolean) {
    const k1 = `${from}:${fromId}`;
    let m = this.links.get(k1);
    if (m === undefined) {
      if (!create) return undefined;
      m = new Map();
      this.links.set(k1, m);
    }
    const k2 = `${to}:${toId}`;
    let s = m.get(k2);
    if (s === undefined) {
      if (!create) return undefined;
      s = new Set();
      m.set(k2, s);
    }
    return s;
  }

  private prune(from: string, fromId: string, to: string, toId: string): void {
    const m = this.links.get(`${from}:${fromId}`);
    if (m?.get(`${to}:${toId}`)?.size === 0) m.delete(`${to}:${toId}`);
    if (m?.size === 0) this.links.delete(`${from}:${fromId}`);
  }

  private live(type: string, id: string): boolean {
    return this.opts.resolve(type)?.findUnique('hs_object_id', id) !== undefined;
  }

  // ---------------------------------------------------------------- routing

  /** Answers a `/crm/v4/…` call; undefined when the path is not one of the v4 association paths. */
  public route(method: string, url: URL, body: unknown): AssociationsReply | undefined {
    const path = url.pathname;
    const batch =
      /^\/crm\/v4\/associations\/([^/]+)\/([^/]+)\/batch\/(associate\/default|create|read|archive|labels\/archive)\/?$/.exec(
        path,
      );
    if (batch && method === 'POST') {
      const types = this.pathTypes(batch[1] ?? '', batch[2] ?? '');
      if ('status' in types) return types;
      switch (batch[3]) {
        case 'associate/default':
          return this.batchWrite(types.from, types.to, body, 'default');
        case 'create':
          return this.batchWrite(types.from, types.to, body, 'create');
        case 'read':
          return this.batchRead(types.from, types.to, body);
        case 'archive':
          return this.batchArchive(types.from, types.to, body, false);
        default:
          return this.batchArchive(types.from, types.to, body, true);
      }
    }
    const labels = /^\/crm\/v4\/associations\/([^/]+)\/([^/]+)\/labels\/?$/.exec(path);
    if (labels && method === 'GET') {
      const types = this.pathTypes(labels[1] ?? '', labels[2] ?? '');
      if ('status' in types) return types;
      const defs = [...(this.defs.get(`${types.from.model.name}>${types.to.model.name}`)?.values() ?? [])];
      return {
        status: 200,
        body: { results: defs.map((d) => ({ category: d.category, typeId: d.typeId, label: d.label })) },
      };
    }
    const single = /^\/crm\/v4\/objects\/([^/]+)\/([^/]+)\/associations\/default\/([^/]+)\/([^/]+)\/?$/.exec(
      path,
    );
    if (single && method === 'PUT') {
      const types = this.pathTypes(single[1] ?? '', single[3] ?? '');
      if ('status' in types) return types;
      const inputs = [{ from: { id: dec(single[2]) }, to: { id: dec(single[4]) } }];
      return this.singleWrite(types.from, types.to, inputs, 'default', 200);
    }
    const pair = /^\/crm\/v4\/objects\/([^/]+)\/([^/]+)\/associations\/([^/]+)\/([^/]+)\/?$/.exec(path);
    if (pair && (method === 'PUT' || method === 'DELETE')) {
      const types = this.pathTypes(pair[1] ?? '', pair[3] ?? '');
      if ('status' in types) return types;
      const fromId = dec(pair[2]);
      const toId = dec(pair[4]);
      if (method === 'DELETE') {
        this.remove(types.from.model.name, fromId, types.to.model.name, toId);
        return { status: 204 };
      }
      if (!Array.isArray(body)) {
        return {
          status: 400,
          body: errorBody('Invalid input JSON: a list of association specs was expected', 'VALIDATION_ERROR'),
        };
      }
      return this.singleWrite(
        types.from,
        types.to,
        [{ from: { id: fromId }, to: { id: toId }, types: body }],
        'create',
        201,
      );
    }
    const list = /^\/crm\/v4\/objects\/([^/]+)\/([^/]+)\/associations\/([^/]+)\/?$/.exec(path);
    if (list && method === 'GET') {
      const types = this.pathTypes(list[1] ?? '', list[3] ?? '');
      if ('status' in types) return types;
      return this.readOne(types.from, dec(list[2]), types.to, url);
    }
    return undefined;
  }

  private pathTypes(a: string, b: string): { from: ObjectStore; to: ObjectStore } | AssociationsReply {
    const from = this.opts.resolve(dec(a));
    const to = this.opts.resolve(dec(b));
    const unknown = from === undefined ? dec(a) : to === undefined ? dec(b) : undefined;
    if (from === undefined || to === undefined) {
      return {
        status: 400,
        body: errorBody(`Unable to infer object type from: ${unknown}`, 'VALIDATION_ERROR'),
      };
    }
    return { from, to };
  }

  // ---------------------------------------------------------------- writes

  private inputs(body: unknown, max: number): unknown[] | AssociationsReply {
    if (!isRecord(body) || !Array.isArray(body.inputs)) {
      return {
        status: 400,
        body: errorBody('Invalid input JSON: inputs must be an array', 'VALIDATION_ERROR'),
      };
    }
    if (body.inputs.length > max) {
      return { status: 400, body: errorBody(batchTooLargeMessage(max), 'VALIDATION_ERROR') };
    }
    return body.inputs;
  }

  /** Records of `from` and `to` that do not exist (or are archived), as HubSpot's INVALID_OBJECT_IDS. */
  private invalidIds(
    from: ObjectStore,
    fromId: string,
    to: ObjectStore,
    toId: string,
  ): InputError | undefined {
    const bad: { store: ObjectStore; id: string }[] = [];
    if (fromId === '' || from.findUnique('hs_object_id', fromId) === undefined)
      bad.push({ store: from, id: fromId });
    if (toId === '' || to.findUnique('hs_object_id', toId) === undefined) bad.push({ store: to, id: toId });
    if (bad.length === 0) return undefined;
    return {
      category: 'VALIDATION_ERROR',
      message: 'One or more associations are invalid',
      context: {
        INVALID_OBJECT_IDS: bad.map((b) => `${objectTypeLabel(b.store)}=${b.id} is not valid`),
        objectId: bad.map((b) => b.id),
        objectType: bad.map((b) => objectTypeLabel(b.store)),
      },
    };
  }

  /** The definitions an input asks for: the pair's default, or its `types`. */
  private requestedTypes(
    from: ObjectStore,
    to: ObjectStore,
    input: Record<string, unknown>,
    mode: 'default' | 'create',
  ): Definition[] | InputError {
    const f = from.model.name;
    const t = to.model.name;
    if (mode === 'default') {
      const d = this.defaultType(f, t);
      if (d) return [d];
      return {
        category: 'VALIDATION_ERROR',
        message: `There is no default association type from ${f} to ${t}`,
        context: { fromObjectType: [f], toObjectType: [t] },
      };
    }
    const specs = Array.isArray(input.types) ? input.types : [];
    if (specs.length === 0) {
      return { category: 'VALIDATION_ERROR', message: 'types must not be empty', context: {} };
    }
    const out: Definition[] = [];
    for (const s of specs) {
      const typeId = isRecord(s) ? Number(s.associationTypeId) : Number.NaN;
      const category = isRecord(s) ? s.associationCategory : undefined;
      const d = Number.isInteger(typeId) ? this.definition(f, t, typeId) : undefined;
      if (d === undefined || d.category !== category) {
        return {
          category: 'VALIDATION_ERROR',
          message: `${String(category)} association type ${String(isRecord(s) ? s.associationTypeId : s)} is not valid from ${f} to ${t}`,
          context: { associationTypeId: [String(isRecord(s) ? s.associationTypeId : '')] },
        };
      }
      out.push(d);
    }
    return out;
  }

  private checkInput(
    from: ObjectStore,
    to: ObjectStore,
    input: unknown,
    mode: 'default' | 'create',
  ):
    | { fromId: string; toId: string; defs: Definition[] }
    | { error: InputError; fromId: string; toId: string; ofRequest?: boolean } {
    const fromId = isRecord(input) ? objectId(input.from) : '';
    const toId = isRecord(input) ? objectId(input.to) : '';
    if (!isRecord(input)) {
      return {
        error: {
          category: 'VALIDATION_ERROR',
          message: 'Invalid input JSON: each input needs from and to',
          context: {},
        },
        fromId,
        toId,
        ofRequest: true,
      };
    }
    const defs = this.requestedTypes(from, to, input, mode);
    if (!Array.isArray(defs)) return { error: defs, fromId, toId, ofRequest: true };
    const invalid = this.invalidIds(from, fromId, to, toId);
    if (invalid) return { error: invalid, fromId, toId };
    return { fromId, toId, defs };
  }

  private batchWrite(from: ObjectStore, to: ObjectStore, body: unknown, mode: 'default' | 'create') {
    const inputs = this.inputs(body, this.opts.maxBatchSize ?? 100);
    if (!Array.isArray(inputs)) return inputs;
    return this.write(
      from,
      to,
      inputs,
      mode,
      mode === 'default' ? 200 : 201,
      this.opts.errors ?? 'multi-status',
    );
  }

  /** One pair by path: an invalid id fails the call (400). */
  private singleWrite(
    from: ObjectStore,
    to: ObjectStore,
    inputs: unknown[],
    mode: 'default' | 'create',
    ok: number,
  ) {
    const reply = this.write(from, to, inputs, mode, ok, 'reject-batch');
    if (reply.status !== ok || mode === 'default') return reply;
    // PUT …/{toObjectType}/{toObjectId} answers the one LabelsBetweenObjectPair, not a batch.
    const results = isRecord(reply.body) && Array.isArray(reply.body.results) ? reply.body.results : [];
    return { status: ok, body: results[0] };
  }

  private write(
    from: ObjectStore,
    to: ObjectStore,
    inputs: readonly unknown[],
    mode: 'default' | 'create',
    okStatus: number,
    errors: 'multi-status' | 'reject-batch',
  ): AssociationsReply {
    const startedAt = iso(this.opts.now());
    const checked = inputs.map((i) => this.checkInput(from, to, i, mode));
    const failed = checked.filter((c): c is Extract<typeof c, { error: InputError }> => 'error' in c);
    // A type the two object types do not have is about the request, not one record: the call fails.
    const ofRequest = failed.find((f) => f.ofRequest)?.error;
    if (ofRequest) {
      return {
        status: 400,
        body: errorBody(ofRequest.message, ofRequest.category, { context: ofRequest.context }),
      };
    }
    if (errors === 'reject-batch' && failed.length > 0) {
      // All or nothing: the first refusal answers for the call, naming every invalid id.
      const first = failed[0]?.error;
      const merged: Record<string, string[]> = {};
      for (const f of failed) {
        for (const [k, v] of Object.entries(f.error.context)) merged[k] = [...(merged[k] ?? []), ...v];
      }
      return {
        status: 400,
        body: errorBody(first?.message ?? 'invalid', first?.category ?? 'VALIDATION_ERROR', {
          context: merged,
        }),
      };
    }
    const results: unknown[] = [];
    const errorList: unknown[] = [];
    const f = from.model.name;
    const t = to.model.name;
    for (const c of checked) {
      if ('error' in c) {
        errorList.push(standardError(c.error.category, c.error.message, c.error.context));
        continue;
      }
      for (const d of c.defs) this.add(f, c.fromId, t, c.toId, d);
      if (mode === 'default') {
        const d = c.defs[0] as Definition;
        results.push(
          {
            from: { id: c.fromId },
            to: { id: c.toId },
            associationSpec: { associationCategory: d.category, associationTypeId: d.typeId },
          },
          {
            from: { id: c.toId },
            to: { id: c.fromId },
            associationSpec: { associationCategory: d.category, associationTypeId: d.inverseTypeId },
          },
        );
      } else {
        const labels = this.list(f, c.fromId, t)
          .find((a) => a.toId === c.toId)
          ?.typeIds.map((id) => this.definition(f, t, id)?.label)
          .filter((l): l is string => typeof l === 'string');
        results.push({
          fromObjectTypeId: from.model.objectTypeId,
          fromObjectId: asNumberIfNumeric(c.fromId),
          toObjectTypeId: to.model.objectTypeId,
          toObjectId: asNumberIfNumeric(c.toId),
          labels: labels ?? [],
        });
      }
    }
    return batchReply(results, errorList, startedAt, iso(this.opts.now()), okStatus);
  }

  private batchArchive(
    from: ObjectStore,
    to: ObjectStore,
    body: unknown,
    labelsOnly: boolean,
  ): AssociationsReply {
    const inputs = this.inputs(body, this.opts.maxBatchSize ?? 100);
    if (!Array.isArray(inputs)) return inputs;
    const f = from.model.name;
    const t = to.model.name;
    for (const input of inputs) {
      if (!isRecord(input)) continue;
      const fromId = objectId(input.from);
      if (labelsOnly) {
        const typeIds = (Array.isArray(input.types) ? input.types : [])
          .map((s) => (isRecord(s) ? Number(s.associationTypeId) : Number.NaN))
          .filter((n) => Number.isInteger(n));
        this.remove(f, fromId, t, objectId(input.to), typeIds);
      } else {
        for (const target of Array.isArray(input.to) ? input.to : [])
          this.remove(f, fromId, t, objectId(target));
      }
    }
    return { status: 204 };
  }

  // ---------------------------------------------------------------- reads

  private withLabels(from: string, to: string, a: FakeAssociation) {
    return {
      toObjectId: asNumberIfNumeric(a.toId),
      associationTypes: a.typeIds.map((id) => {
        const d = this.definition(from, to, id);
        return { category: d?.category ?? 'USER_DEFINED', typeId: id, label: d?.label ?? null };
      }),
    };
  }

  /** A page of at most `limit` associations from `after` (a token naming the first id of the page). */
  private page(
    from: ObjectStore,
    fromId: string,
    to: ObjectStore,
    limit: number,
    after: string | undefined,
  ): { items: FakeAssociation[]; next: string | undefined } | AssociationsReply {
    let startId: number | undefined;
    if (after !== undefined) {
      startId = decodeAfter(after);
      if (startId === undefined) {
        return { status: 400, body: errorBody(`Invalid paging cursor: ${after}`, 'VALIDATION_ERROR') };
      }
    }
    const all = this.list(from.model.name, fromId, to.model.name).filter(
      (a) => startId === undefined || Number(a.toId) >= startId,
    );
    const nextItem = all[limit];
    return {
      items: all.slice(0, limit),
      next: nextItem ? encodeAfter(to.model.objectTypeId, nextItem.toId) : undefined,
    };
  }

  private readOne(from: ObjectStore, fromId: string, to: ObjectStore, url: URL): AssociationsReply {
    const raw = url.searchParams.get('limit');
    const limit = raw === null ? PAGE_MAX : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX) {
      return {
        status: 400,
        body: errorBody(`limit must be an integer between 1 and ${PAGE_MAX}, got ${raw}`, 'VALIDATION_ERROR'),
      };
    }
    const page = this.page(from, fromId, to, limit, url.searchParams.get('after') ?? undefined);
    if ('status' in page) return page;
    const body: Record<string, unknown> = {
      results: page.items.map((a) => this.withLabels(from.model.name, to.model.name, a)),
    };
    if (page.next !== undefined) {
      const link = new URL(url.pathname, this.opts.baseUrl());
      link.searchParams.set('after', page.next);
      body.paging = { next: { after: page.next, link: link.toString() } };
    }
    return { status: 200, body };
  }

  private batchRead(from: ObjectStore, to: ObjectStore, body: unknown): AssociationsReply {
    const inputs = this.inputs(body, this.opts.maxReadBatchSize ?? 1000);
    if (!Array.isArray(inputs)) return inputs;
    const startedAt = iso(this.opts.now());
    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const input of inputs) {
      const id = objectId(input);
      const after = isRecord(input) && typeof input.after === 'string' ? input.after : undefined;
      const page = this.page(from, id, to, PAGE_MAX, after);
      if ('status' in page) return page;
      if (page.items.length === 0) {
        errors.push({
          ...standardError(
            'OBJECT_NOT_FOUND',
            `No ${singular(to)} is associated with ${singular(from)} ${id}.`,
            { fromObjectId: [id] },
          ),
          subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
        });
        continue;
      }
      results.push({
        from: { id },
        to: page.items.map((a) => this.withLabels(from.model.name, to.model.name, a)),
        ...(page.next === undefined ? {} : { paging: { next: { after: page.next } } }),
      });
    }
    return batchReply(results, errors, startedAt, iso(this.opts.now()));
  }
}

/** The singular name HubSpot's association errors use ("No company is associated with deal 5…"). */
function singular(store: ObjectStore): string {
  const name = store.model.name;
  return Object.entries(SINGULAR_ALIASES).find(([, plural]) => plural === name)?.[0] ?? name;
}

function dec(s: string | undefined): string {
  try {
    return decodeURIComponent(s ?? '');
  } catch {
    return s ?? '';
  }
}

/** Paging tokens like HubSpot's: base64 of `{toObjectTypeId}-{id}`, URL-encoded ("MC0yLTc1MDI%3D"). */
function encodeAfter(toObjectTypeId: string, id: string): string {
  return encodeURIComponent(Buffer.from(`${toObjectTypeId}-${id}`).toString('base64'));
}

function decodeAfter(token: string): number | undefined {
  const text = Buffer.from(dec(token), 'base64').toString('utf8');
  const m = /^\d+-\d+-(\d+)$/.exec(text);
  return m ? Number(m[1]) : undefined;
}

import type { Reply } from '../common/FakeServer.ts';
import { batchReply, batchTooLargeMessage, type ErrorDetail, errorBody, standardError } from './bodies.ts';
import {
  type ObjectTypeModel,
  type PropertyValidationResult,
  storedValue,
  validateValue,
} from './objectTypes.ts';
import { iso, type ObjectStore, type StoredRecord } from './store.ts';

export interface CrmObjectsOptions {
  /** Resolves an object type name or id to its store. */
  readonly resolve: (name: string) => ObjectStore | undefined;
  readonly now: () => number;
  /** The fake's URL, known once it listens. */
  readonly baseUrl: () => string;
  readonly allowUnknownProperties?: boolean;
  readonly multiStatus?: 'with-trace-id' | 'always' | 'never';
  readonly maxBatchSize?: number;
  /** @default 100001 */
  readonly firstId?: number;
}

type ItemError = {
  /** HTTP status when this error fails a whole call. */
  readonly status: number;
  readonly category: string;
  readonly message: string;
  readonly details?: readonly ErrorDetail[];
  readonly context?: Record<string, string[]>;
};

export function isRecord(v: unknown): v is Record<string, unknown> {
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

/**
 * The HubSpot fake's CRM v3 objects and properties endpoints over its object stores: create,
 * update, archive and read one record, list, batch upsert/update/read/archive, and property definitions
 * (see HubSpotFake.ts for the rules they follow).
 */
export class CrmObjects {
  private readonly opts: CrmObjectsOptions;
  private nextId: number;

  public constructor(opts: CrmObjectsOptions) {
    this.opts = opts;
    this.nextId = opts.firstId ?? 100001;
  }

  /** The next record id: HubSpot's are ascending numbers. */
  public newId(): string {
    return String(this.nextId++);
  }

  /** `…/objects/{objectType}/{rest}`; undefined when no endpoint answers `method` there. */
  public route(
    method: string,
    store: ObjectStore,
    rest: string | undefined,
    url: URL,
    body: unknown,
  ): Reply | undefined {
    const q = url.searchParams;
    if (rest === undefined) {
      if (method === 'GET') return this.list(store, q, url);
      if (method === 'POST') return this.createOne(store, body);
    } else if (rest === 'batch/upsert' && method === 'POST') {
      const idProperty = q.get('idProperty') ?? undefined;
      return this.batchWrite(store, body, (input) => this.upsertOne(store, input, idProperty), true);
    } else if (rest === 'batch/update' && method === 'POST') {
      return this.batchWrite(store, body, (input) => this.updateInput(store, input), false);
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
    return undefined;
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
    const record = store.write(existing, existing?.id ?? this.newId(), values, this.opts.now());
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

  /**
   * One input of `batch/update`: `{id, properties, idProperty?}`, the record found by its id (or
   * the unique property named), never created: an unknown id is OBJECT_NOT_FOUND.
   */
  private updateInput(
    store: ObjectStore,
    input: unknown,
  ): { record: StoredRecord; created: boolean } | { error: ItemError } {
    if (
      !isRecord(input) ||
      !isRecord(input.properties) ||
      (typeof input.id !== 'string' && typeof input.id !== 'number')
    ) {
      return {
        error: { status: 400, category: 'VALIDATION_ERROR', message: 'Each input needs id and properties' },
      };
    }
    const id = String(input.id);
    const found = this.lookup(store, id, typeof input.idProperty === 'string' ? input.idProperty : undefined);
    if ('status' in found) {
      return {
        error: {
          status: 404,
          category: 'OBJECT_NOT_FOUND',
          message: `No ${store.model.label} with id ${id} exists`,
        },
      };
    }
    const err = this.checkWrite(store, found.record, input.properties);
    if (err) return { error: err };
    const values = new Map(Object.entries(input.properties).map(([k, v]) => [k, storedValue(v)]));
    return { record: store.write(found.record, found.record.id, values, this.opts.now()), created: false };
  }

  /** `batch/upsert` and `batch/update`: duplicate ids refused, then each input written, multi-status or all or nothing. */
  private batchWrite(
    store: ObjectStore,
    body: unknown,
    writeOne: (input: unknown) => { record: StoredRecord; created: boolean } | { error: ItemError },
    upsert: boolean,
  ): Reply {
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
    const startedAt = iso(this.opts.now());
    const restore = multi ? undefined : store.snapshot();
    const results: Record<string, unknown>[] = [];
    const errors: Record<string, unknown>[] = [];
    for (const [i, input] of inputs.entries()) {
      const outcome = writeOne(input);
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
        // An upsert's result says whether it created the record; an update's has no `new`.
        ...(upsert ? { new: outcome.created } : {}),
        ...(traceId ? { objectWriteTraceId: traceId } : {}),
      });
    }
    return batchReply(results, errors, startedAt, iso(this.opts.now()));
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
    const record = store.write(undefined, this.newId(), values, this.opts.now());
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
    const record = store.write(found.record, found.record.id, values, this.opts.now());
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
    if (r) store.archive(r, this.opts.now());
    return { status: 204 };
  }

  private batchArchive(store: ObjectStore, body: unknown): Reply {
    const inputs = this.batchInputs(body);
    if (!Array.isArray(inputs)) return inputs;
    for (const input of inputs) {
      const r = isRecord(input) ? store.findUnique('hs_object_id', String(input.id)) : undefined;
      if (r) store.archive(r, this.opts.now());
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
      const link = new URL(url.pathname, this.opts.baseUrl());
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
    const startedAt = iso(this.opts.now());
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
    const label = store.model.label.toUpperCase().replace(/ /g, '_');
    // HubSpot reports every missing id in one error, not one error per input.
    const errors =
      missing.length === 0
        ? []
        : [
            standardError(
              'OBJECT_NOT_FOUND',
              `Could not get some ${label} objects, they may be deleted or not exist. Check that ids are valid.`,
              { ids: missing },
            ),
          ];
    return batchReply(results, errors, startedAt, iso(this.opts.now()));
  }

  public readProperties(objectType: string, name: string | undefined): Reply {
    const store = this.opts.resolve(decodeURIComponent(objectType));
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

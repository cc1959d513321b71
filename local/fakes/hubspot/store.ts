import type { ObjectTypeModel } from './objectTypes.ts';

/** A record as the fake holds it: every property value is a string, an empty value is absent. */
export interface StoredRecord {
  readonly id: string;
  properties: Map<string, string>;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt?: number;
}

/** A record as handed to tests (plain JSON, ISO timestamps). */
export interface FakeRecord {
  readonly id: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly archived: boolean;
}

export const iso = (ms: number): string => new Date(ms).toISOString();

export function toFakeRecord(r: StoredRecord): FakeRecord {
  return {
    id: r.id,
    properties: Object.fromEntries(r.properties),
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
    archived: r.archived,
  };
}

/** The records of one object type, with an index per unique property over live (unarchived) records. */
export class ObjectStore {
  readonly model: ObjectTypeModel;
  private records = new Map<string, StoredRecord>();
  private unique = new Map<string, Map<string, string>>();

  public constructor(model: ObjectTypeModel) {
    this.model = model;
  }

  public all(): StoredRecord[] {
    return [...this.records.values()].sort((a, b) => Number(a.id) - Number(b.id));
  }

  public byId(id: string): StoredRecord | undefined {
    return this.records.get(id);
  }

  /** Live record holding `value` in the unique property `property` (hs_object_id: the record id). */
  public findUnique(property: string, value: string): StoredRecord | undefined {
    if (property === 'hs_object_id') {
      const r = this.records.get(value);
      return r && !r.archived ? r : undefined;
    }
    const id = this.unique.get(property)?.get(value);
    return id === undefined ? undefined : this.records.get(id);
  }

  /** Live records whose `property` equals `value` (any property, unique or not). */
  public findBy(property: string, value: string): StoredRecord[] {
    return this.all().filter((r) => !r.archived && r.properties.get(property) === value);
  }

  private uniqueNames(): string[] {
    return [...this.model.properties.values()]
      .filter((d) => d.hasUniqueValue && d.name !== 'hs_object_id')
      .map((d) => d.name);
  }

  private unindex(r: StoredRecord): void {
    for (const name of this.uniqueNames()) {
      const v = r.properties.get(name);
      if (v !== undefined && this.unique.get(name)?.get(v) === r.id) this.unique.get(name)?.delete(v);
    }
  }

  private index(r: StoredRecord): void {
    if (r.archived) return;
    for (const name of this.uniqueNames()) {
      const v = r.properties.get(name);
      if (v === undefined) continue;
      let m = this.unique.get(name);
      if (m === undefined) {
        m = new Map();
        this.unique.set(name, m);
      }
      m.set(v, r.id);
    }
  }

  /**
   * Creates (no `existing`) or updates a record with already validated string values; '' clears.
   * Returns the record.
   */
  public write(
    existing: StoredRecord | undefined,
    id: string,
    values: Map<string, string>,
    now: number,
  ): StoredRecord {
    const r: StoredRecord = existing ?? {
      id,
      properties: new Map([
        ['hs_object_id', id],
        ['createdate', iso(now)],
      ]),
      createdAt: now,
      updatedAt: now,
      archived: false,
    };
    this.unindex(r);
    for (const [k, v] of values) {
      if (v === '') r.properties.delete(k);
      else r.properties.set(k, v);
    }
    r.updatedAt = now;
    r.properties.set(this.model.modifiedProperty, iso(now));
    this.records.set(r.id, r);
    this.index(r);
    return r;
  }

  public archive(r: StoredRecord, now: number): void {
    this.unindex(r);
    r.archived = true;
    r.archivedAt = now;
  }

  /** Copies the state so an all-or-nothing batch can be undone. */
  public snapshot(): () => void {
    const records = new Map(
      [...this.records].map(([k, r]) => [k, { ...r, properties: new Map(r.properties) }]),
    );
    const unique = new Map([...this.unique].map(([k, m]) => [k, new Map(m)]));
    return () => {
      this.records = records;
      this.unique = unique;
    };
  }

  public clear(): void {
    this.records.clear();
    this.unique.clear();
  }
}

import type { Payload } from '../../shared/config/schema.ts';
import type {
  Connector,
  ConnectorCapabilities,
  TargetRecord,
  UpsertRecord,
  UpsertResult,
} from '../../shared/connectors/Connector.ts';
import { TargetError } from '../../shared/errors.ts';

/**
 * How the target avoids duplicates, which decides the write protocol's recovery path:
 * - native: upsert by external id (HubSpot idProperty, Postgres ON CONFLICT);
 * - idempotency: plain creates, deduplicated by an idempotency key; a replayed key answers with
 *   the record created the first time and does not apply the new payload (as Stripe does);
 * - lookup: plain creates and updates by id only; a second create makes a second record.
 */
export type TargetMode = 'native' | 'idempotency' | 'lookup';

/** What a fault does to one call: refuse it (nothing written), or apply it and lose the answer. */
export type CallFault =
  | { readonly kind: 'refuse'; readonly error: TargetError }
  | { readonly kind: 'lose-answer'; readonly error: TargetError };

export interface MemoryTargetOptions {
  readonly mode: TargetMode;
  /** @default 100 */
  readonly maxBatchSize?: number;
  /** Decides a fault for each call (chaos); undefined: the call goes through. */
  readonly fault?: (call: 'upsert' | 'lookup', records: number) => CallFault | undefined;
  /** Milliseconds each call takes, so concurrent writers interleave. @default 0 */
  readonly latencyMs?: () => number;
  /**
   * Refuses one record of a call with this error, nothing written, while the call's other records
   * go through (a target answering per record, as HubSpot's multi-status or Salesforce's
   * collections do); undefined: the record is written. @default none
   */
  readonly refuse?: (record: UpsertRecord) => TargetError | undefined;
}

interface Stored {
  readonly id: string;
  externalId: string;
  fields: Payload;
}

/**
 * An in-memory target for the write protocol's tests: nothing enforces one record per external
 * id (except the native mode's upsert), so every duplicate the protocol lets through is visible.
 * A payload whose `email` has no @ is refused per record (permanent, as a validation error).
 */
export class MemoryTarget implements Connector {
  public readonly type = 'memory';
  public readonly capabilities: ConnectorCapabilities;
  /** Calls received, by kind (faulted ones included). */
  public readonly calls = { upsert: 0, lookup: 0, creates: 0, updates: 0 };
  private readonly opts: MemoryTargetOptions;
  private readonly records = new Map<string, Stored>();
  private readonly idempotency = new Map<string, string>();
  private nextId = 1;

  public constructor(opts: MemoryTargetOptions) {
    this.opts = opts;
    this.capabilities = {
      nativeUpsert: opts.mode === 'native',
      idempotencyKey: opts.mode === 'idempotency',
      maxBatchSize: opts.maxBatchSize ?? 100,
      partialSuccess: 'per-record',
      rateLimits: undefined,
      children: 'none',
      versionToken: undefined,
      nulls: 'clear',
    };
  }

  public async upsertBatch(_object: string, records: readonly UpsertRecord[]): Promise<UpsertResult[]> {
    this.calls.upsert++;
    await this.pause();
    const fault = this.opts.fault?.('upsert', records.length);
    if (fault?.kind === 'refuse') throw fault.error;
    const results = records.map((r) => this.write(r));
    if (fault?.kind === 'lose-answer') throw fault.error;
    return results;
  }

  public async lookup(_object: string, externalId: string): Promise<TargetRecord | undefined> {
    this.calls.lookup++;
    await this.pause();
    const fault = this.opts.fault?.('lookup', 1);
    if (fault) throw fault.error;
    const found = [...this.records.values()].find((r) => r.externalId === externalId);
    return found ? toTargetRecord(found) : undefined;
  }

  public async *list(): AsyncIterable<TargetRecord> {
    for (const r of this.records.values()) yield toTargetRecord(r);
  }

  public async close(): Promise<void> {}

  /** Every stored record, for assertions. */
  public all(): TargetRecord[] {
    return [...this.records.values()].map(toTargetRecord);
  }

  /** Records holding this external id: exactly one when the protocol did its job. */
  public byExternalId(externalId: string): TargetRecord[] {
    return this.all().filter((r) => r.externalId === externalId);
  }

  private write(r: UpsertRecord): UpsertResult {
    const refused = this.opts.refuse?.(r);
    if (refused) return { key: r.key, ok: false, error: refused };
    const email = r.payload.email;
    if (typeof email === 'string' && !email.includes('@')) {
      return {
        key: r.key,
        ok: false,
        error: new TargetError('MEMORY_VALIDATION_ERROR', `email ${email} is not an email address`, {
          disposition: 'permanent',
          httpStatus: 400,
        }),
      };
    }
    if (this.opts.mode === 'native') {
      const existing = [...this.records.values()].find((s) => s.externalId === r.externalId);
      if (existing) return this.update(r.key, existing.id, r.payload);
      return this.create(r);
    }
    if (r.targetId !== undefined) return this.update(r.key, r.targetId, r.payload);
    if (this.opts.mode === 'idempotency') {
      const replayed = this.idempotency.get(r.idempotencyKey);
      if (replayed !== undefined) return { key: r.key, ok: true, targetId: replayed, created: false };
      const created = this.create(r);
      if (created.ok) this.idempotency.set(r.idempotencyKey, created.targetId);
      return created;
    }
    return this.create(r);
  }

  private create(r: UpsertRecord): UpsertResult {
    this.calls.creates++;
    const id = String(this.nextId++);
    this.records.set(id, { id, externalId: r.externalId, fields: { ...r.payload } });
    return { key: r.key, ok: true, targetId: id, created: true };
  }

  private update(key: string, id: string, payload: Payload): UpsertResult {
    this.calls.updates++;
    const stored = this.records.get(id);
    if (!stored) {
      return {
        key,
        ok: false,
        error: new TargetError('MEMORY_NOT_FOUND', `record ${id} does not exist`, {
          disposition: 'permanent',
          httpStatus: 404,
        }),
      };
    }
    stored.fields = { ...stored.fields, ...payload };
    return { key, ok: true, targetId: id, created: false };
  }

  private async pause(): Promise<void> {
    const ms = this.opts.latencyMs?.() ?? 0;
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  }
}

function toTargetRecord(r: Stored): TargetRecord {
  return { targetId: r.id, externalId: r.externalId, fields: { ...r.fields } };
}

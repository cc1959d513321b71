import type { Payload } from '../../config/schema.ts';
import { describeError, TargetError } from '../../errors.ts';
import type { Connector, UpsertRecord, UpsertResult } from '../Connector.ts';
import type { ContractSample } from '../ConnectorDefinition.ts';
import type { ContractFaults } from './ContractTarget.ts';

/** What each property is run with. */
export interface ContractContext {
  readonly connector: Connector;
  readonly sample: ContractSample;
  /** Undefined against a sandbox: the properties that need faults are skipped. */
  readonly faults: ContractFaults | undefined;
  /** A fresh record key (and number for the sample's payloads), unique to this run. */
  next(): { readonly key: string; readonly i: number };
}

/** One behaviour every connector must have; `run` throws ContractViolation when it does not. */
export interface ContractProperty {
  readonly name: string;
  /** 'faults': needs a fake that can be asked to fail (rate limits, server errors). */
  readonly needs?: 'faults';
  run(ctx: ContractContext): Promise<void>;
}

/** A property that does not hold, with what was seen. */
export class ContractViolation extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'ContractViolation';
  }
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ContractViolation(message);
}

/** A record as the write protocol sends it: the external id and idempotency key derive from the key. */
export function contractRecord(key: string, payload: Payload, version = 1): UpsertRecord {
  return { key, externalId: `ext-${key}`, idempotencyKey: `contract:${key}:${version}`, payload };
}

function ok(r: UpsertResult | undefined, what: string): Extract<UpsertResult, { ok: true }> {
  check(r !== undefined, `${what}: no result`);
  check(
    r.ok,
    `${what}: expected success, got ${r.ok ? '' : `${describeError(r.error).code} ${describeError(r.error).message}`}`,
  );
  return r;
}

function failed(r: UpsertResult | undefined, what: string): TargetError {
  check(r !== undefined, `${what}: no result`);
  check(!r.ok, `${what}: expected a failure, got success (target id ${r.ok ? r.targetId : ''})`);
  check(r.error instanceof TargetError, `${what}: the error is not a TargetError`);
  return r.error;
}

async function write(ctx: ContractContext, records: UpsertRecord[]): Promise<Map<string, UpsertResult>> {
  const results = await ctx.connector.upsertBatch(ctx.sample.object, records);
  return new Map(results.map((r) => [r.key, r]));
}

/** Records the target holds under an external id, as list() reports them. */
async function count(ctx: ContractContext, externalId: string): Promise<number> {
  let n = 0;
  for await (const r of ctx.connector.list(ctx.sample.object)) if (r.externalId === externalId) n++;
  return n;
}

async function read(ctx: ContractContext, externalId: string, field: string): Promise<unknown> {
  return (await ctx.connector.lookup(ctx.sample.object, externalId))?.fields[field];
}

const empty = (v: unknown): boolean => v === null || v === undefined || v === '';

/**
 * The connector contract as runnable properties (test/contract/connectorContract.ts checks the
 * same against each fake's internals): what the write protocol relies on, checked through the
 * connector's own upsertBatch, lookup and list, so it runs against a sandbox as well as a fake.
 */
export const CONTRACT_PROPERTIES: readonly ContractProperty[] = [
  {
    name: 'declares its capabilities',
    run: async ({ connector }) => {
      const c = connector.capabilities;
      check(c.maxBatchSize > 0, `maxBatchSize ${c.maxBatchSize}`);
      check(
        ['per-record', 'all-or-nothing'].includes(c.partialSuccess),
        `partialSuccess ${c.partialSuccess}`,
      );
      check(['embedded', 'associated', 'none'].includes(c.children), `children ${c.children}`);
      check(['clear', 'keep'].includes(c.nulls), `nulls ${c.nulls}`);
      for (const w of c.rateLimits?.windows ?? []) {
        check(
          w.limit > 0 && w.intervalMs > 0,
          `rate-limit window ${w.name}: ${w.limit} per ${w.intervalMs} ms`,
        );
      }
    },
  },
  {
    name: 'upsert creates, then updates the same record',
    run: async (ctx) => {
      const { key, i } = ctx.next();
      const other = ctx.next().i;
      const field = ctx.sample.clearable;
      const [first] = await ctx.connector.upsertBatch(ctx.sample.object, [
        contractRecord(key, ctx.sample.valid(i)),
      ]);
      const created = ok(first, 'create');
      // As the write protocol sends a linked record: with the target id the create answered.
      const changed = { ...ctx.sample.valid(i), [field]: ctx.sample.valid(other)[field] };
      const [second] = await ctx.connector.upsertBatch(ctx.sample.object, [
        { ...contractRecord(key, changed, 2), targetId: created.targetId },
      ]);
      const updated = ok(second, 'update');
      check(created.created, 'the first write did not report a creation');
      check(!updated.created, 'the second write reported a creation, not an update');
      check(
        updated.targetId === created.targetId,
        `update went to ${updated.targetId}, created ${created.targetId}`,
      );
      const now = await read(ctx, `ext-${key}`, field);
      check(
        String(now) === String(changed[field]),
        `${field} reads ${JSON.stringify(now)} after the update, expected ${JSON.stringify(changed[field])}`,
      );
      check((await count(ctx, `ext-${key}`)) === 1, 'more than one record holds the external id');
    },
  },
  {
    name: 'looks a record up by external id, and finds nothing for an unknown one',
    run: async (ctx) => {
      const { key, i } = ctx.next();
      const [w] = await ctx.connector.upsertBatch(ctx.sample.object, [
        contractRecord(key, ctx.sample.valid(i)),
      ]);
      const found = await ctx.connector.lookup(ctx.sample.object, `ext-${key}`);
      const missing = await ctx.connector.lookup(ctx.sample.object, `ext-missing-${key}`);
      check(found !== undefined, 'lookup found nothing for a record just written');
      check(found.targetId === ok(w, 'write').targetId, `lookup found ${found.targetId}`);
      check(found.externalId === `ext-${key}`, `lookup's record has external id ${found.externalId}`);
      check(missing === undefined, `lookup of an unknown id found ${missing?.targetId}`);
    },
  },
  {
    name: 'gives one result per record in a partial batch: the refused one fails permanently, the others land',
    run: async (ctx) => {
      const [a, b, c] = [ctx.next(), ctx.next(), ctx.next()];
      const results = await write(ctx, [
        contractRecord(a.key, ctx.sample.valid(a.i)),
        contractRecord(b.key, ctx.sample.invalid(b.i)),
        contractRecord(c.key, ctx.sample.valid(c.i)),
      ]);
      check(results.size === 3, `${results.size} results for 3 records`);
      ok(results.get(a.key), 'first valid record');
      ok(results.get(c.key), 'second valid record');
      const error = failed(results.get(b.key), 'invalid record');
      check(error.disposition === 'permanent', `the refused record is ${error.disposition} (${error.code})`);
      check((await count(ctx, `ext-${b.key}`)) === 0, 'the refused record was written');
      check((await count(ctx, `ext-${a.key}`)) === 1, 'the first valid record is not there once');
    },
  },
  {
    name: 'writes more records than maxBatchSize in several calls, one result per record',
    run: async (ctx) => {
      const n = Math.min(ctx.connector.capabilities.maxBatchSize + 3, 1003);
      const records = Array.from({ length: n }, () => {
        const { key, i } = ctx.next();
        return contractRecord(key, ctx.sample.valid(i));
      });
      const results = await ctx.connector.upsertBatch(ctx.sample.object, records);
      check(results.length === n, `${results.length} results for ${n} records`);
      const keys = new Set(results.map((r) => r.key));
      check(
        records.every((r) => keys.has(r.key)),
        'some records have no result',
      );
      const bad = results.find((r) => !r.ok);
      check(bad === undefined, `a record failed: ${bad && !bad.ok ? describeError(bad.error).message : ''}`);
    },
  },
  {
    name: 'replays an upsert without making a second record',
    run: async (ctx) => {
      const { key, i } = ctx.next();
      const record = contractRecord(key, ctx.sample.valid(i));
      const [first] = await ctx.connector.upsertBatch(ctx.sample.object, [record]);
      const [again] = await ctx.connector.upsertBatch(ctx.sample.object, [record]);
      check(
        ok(again, 'replay').targetId === ok(first, 'first').targetId,
        'the replay went to another record',
      );
      check((await count(ctx, `ext-${key}`)) === 1, 'the replay made a second record');
    },
  },
  {
    name: 'applies its null semantics: a null clears the field (or keeps it, as declared)',
    run: async (ctx) => {
      const { key, i } = ctx.next();
      const field = ctx.sample.clearable;
      await ctx.connector.upsertBatch(ctx.sample.object, [contractRecord(key, ctx.sample.valid(i))]);
      const before = await read(ctx, `ext-${key}`, field);
      check(!empty(before), `${field} reads ${JSON.stringify(before)} after a write that set it`);
      const [r] = await ctx.connector.upsertBatch(ctx.sample.object, [
        contractRecord(key, { ...ctx.sample.valid(i), [field]: null }, 2),
      ]);
      ok(r, 'write with null');
      const after = await read(ctx, `ext-${key}`, field);
      if (ctx.connector.capabilities.nulls === 'clear')
        check(empty(after), `${field} reads ${JSON.stringify(after)} after a null`);
      else
        check(
          String(after) === String(before),
          `${field} changed to ${JSON.stringify(after)} after a null it must keep`,
        );
    },
  },
  {
    name: 'hands a rate-limit answer (429) back as retryable with the wait asked for; the retry lands once',
    needs: 'faults',
    run: async (ctx) => {
      const { key, i } = ctx.next();
      const record = contractRecord(key, ctx.sample.valid(i));
      ctx.faults!.rateLimitNext(30);
      const [limited] = await ctx.connector.upsertBatch(ctx.sample.object, [record]);
      const error = failed(limited, 'rate-limited write');
      check(error.disposition === 'retryable', `a 429 is ${error.disposition} (${error.code})`);
      check((error.retryAfterSeconds ?? 0) >= 30, `retryAfterSeconds ${error.retryAfterSeconds}, asked 30`);
      const [later] = await ctx.connector.upsertBatch(ctx.sample.object, [record]);
      ok(later, 'retry after the wait');
      check((await count(ctx, `ext-${key}`)) === 1, 'the retry did not leave exactly one record');
    },
  },
  {
    name: 'retries a server error (5xx) or hands it back as retryable, never permanent; the record lands once',
    needs: 'faults',
    run: async (ctx) => {
      const { key, i } = ctx.next();
      const record = contractRecord(key, ctx.sample.valid(i));
      // More 503s than the client retries inline: the last one reaches the connector's verdict.
      for (let n = 0; n < 4; n++) ctx.faults!.serverErrorNext(503);
      const [first] = await ctx.connector.upsertBatch(ctx.sample.object, [record]);
      if (first && !first.ok) {
        check(
          first.error.disposition === 'retryable',
          `a 503 is ${first.error.disposition} (${first.error.code})`,
        );
      }
      let last = first;
      for (let attempt = 0; attempt < 4 && !(last?.ok ?? false); attempt++) {
        [last] = await ctx.connector.upsertBatch(ctx.sample.object, [record]);
      }
      ok(last, 'write once the server recovered');
      check((await count(ctx, `ext-${key}`)) === 1, 'the retries did not leave exactly one record');
    },
  },
];

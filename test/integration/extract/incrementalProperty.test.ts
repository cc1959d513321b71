import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExtract } from '../../../shared/extract/runExtract.ts';
import { SqsEnqueuer } from '../../../shared/queue/SqsEnqueuer.ts';
import { type ItemsPipeline, itemsConfig, startItemsPipeline } from '../../helpers/itemsPipeline.ts';

/** A change to the source. `tick` false stamps the rows with the same cursor value as the previous change. */
type Op =
  | { kind: 'insert'; count: number; tick: boolean }
  | { kind: 'update'; pick: number; count: number; tick: boolean }
  | { kind: 'delete'; pick: number }
  | { kind: 'run'; pageSize: number; during: Op[] };

const change = fc.oneof(
  fc.record({
    kind: fc.constant('insert' as const),
    count: fc.integer({ min: 1, max: 6 }),
    tick: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('update' as const),
    pick: fc.nat(),
    count: fc.integer({ min: 1, max: 4 }),
    tick: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: change },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('run' as const),
      pageSize: fc.integer({ min: 1, max: 7 }),
      during: fc.array(change, { maxLength: 3 }),
    }),
  },
);

describe('Property: incremental extraction', () => {
  let p: ItemsPipeline;
  const config = itemsConfig();
  const sync = config.syncs[0]!;
  let round = 0;

  beforeAll(async () => {
    p = await startItemsPipeline(config);
    p.stack.startWriters();
  });
  afterAll(async () => p?.stop());

  it('after the last run and drain, the target equals the mapped source, whatever the interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
        // Each round uses its own key range, so links of earlier rounds never interfere.
        round++;
        const base = round * 100_000;
        let nextId = base;
        let clock = round * 1_000_000;
        const live: number[] = [];
        const deleted = new Set<number>();
        const stamp = (tick: boolean) => {
          if (tick) clock++;
          return new Date(Date.UTC(2026, 0, 1) + clock).toISOString();
        };
        const apply = async (c: Exclude<Op, { kind: 'run' }>) => {
          if (c.kind === 'insert') {
            const at = stamp(true);
            for (let i = 0; i < c.count; i++) {
              const id = ++nextId;
              live.push(id);
              await p.stack.dwh`insert into src.items values (${id}, ${`v${clock}`}, ${id % 7}, ${at})`;
              if (c.tick && i < c.count - 1) stamp(true);
            }
          } else if (c.kind === 'update' && live.length > 0) {
            const at = stamp(true);
            for (let i = 0; i < c.count; i++) {
              const id = live[(c.pick + i) % live.length]!;
              await p.stack
                .dwh`update src.items set name = ${`v${clock}`}, qty = qty + 1, loaded_at = ${c.tick ? stamp(true) : at} where id = ${id}`;
            }
          } else if (c.kind === 'delete' && live.length > 0) {
            const [id] = live.splice(c.pick % live.length, 1);
            deleted.add(id!);
            await p.stack.dwh`delete from src.items where id = ${id!}`;
          }
        };
        const extract = async (pageSize: number, during: Exclude<Op, { kind: 'run' }>[] = []) => {
          const pending = [...during];
          return runExtract(
            { ...sync, source: { ...sync.source, pageSize } },
            {
              sql: p.stack.dwh,
              state: p.stack.state,
              links: p.stack.links,
              enqueuer: new SqsEnqueuer(p.stack.aws.sqs, p.stack.resources.queues.items!.url),
              now: Date.now,
              // Changes made while the run is between pages.
              onProgress: () => {
                const next = pending.shift();
                if (next) void apply(next);
              },
            },
            { runId: crypto.randomUUID(), remainingMs: () => 600_000 },
          );
        };

        for (const o of ops) {
          if (o.kind === 'run') await extract(o.pageSize, o.during as Exclude<Op, { kind: 'run' }>[]);
          else await apply(o);
        }
        await new Promise((r) => setTimeout(r, 20)); // let changes made during the last run land
        const last = await extract(5);
        expect(last.outcome).toBe('succeeded');
        await p.stack.drain();

        const source = await p.stack.dwh<{ id: number; name: string; qty: number }[]>`
          select id, name, qty from src.items where id > ${base} and id < ${base + 100_000}`;
        const target = await p.targetRows();
        for (const row of source) {
          expect(target.get(String(row.id)), `item ${row.id}`).toEqual({ name: row.name, qty: row.qty });
        }
        const extra = [...target.keys()]
          .map(Number)
          .filter(
            (id) => id > base && id < base + 100_000 && !source.some((r) => r.id === id) && !deleted.has(id),
          );
        expect(extra).toEqual([]);
      }),
      { numRuns: 12, seed: Number(process.env.WB_PROPERTY_SEED ?? Date.now() % 2 ** 31) },
    );
  });
});

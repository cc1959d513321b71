import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NORMALIZERS } from '../../../shared/pair/normalize.ts';
import { type Crash, type Field, OWNER, PairWorld, type Side } from '../../helpers/pairWorld.ts';

/** Values that differ in form but not in meaning, and values that differ. */
const EMAILS = ['ann@x.io', ' ANN@x.io', 'bo@y.io', 'Bo@Y.io ', 'cy@z.io', null];
const NAMES = ['Ann', ' Ann ', 'Bo', 'Cy', null];
const ACCOUNTS = ['A-1', 'A-2', ' A-2', null];

const side = fc.constantFrom<Side>('a', 'b');
const valueFor = (field: Field) =>
  fc.constantFrom(...(field === 'email' ? EMAILS : field === 'first' ? NAMES : ACCOUNTS));
/** An edit a side may make: its own fields and the shared one (an edit of a field the other side owns is overwritten by design). */
const edit = side.chain((s) =>
  fc
    .constantFrom<Field>(
      ...(['email', 'first', 'acct'] as const).filter((f) => OWNER[f] === 'both' || OWNER[f] === s),
    )
    .chain((field) =>
      fc.record({
        kind: fc.constant('edit' as const),
        side: fc.constant(s),
        field: fc.constant(field),
        n: fc.nat(9),
        value: valueFor(field),
      }),
    ),
);
const step = fc.oneof(
  fc.record({
    kind: fc.constant('create' as const),
    side,
    email: valueFor('email'),
    first: valueFor('first'),
    acct: valueFor('acct'),
  }),
  edit,
  fc.record({ kind: fc.constant('load' as const), side }),
  fc.record({ kind: fc.constant('extract' as const), side }),
  fc.record({
    kind: fc.constant('deliver' as const),
    side,
    n: fc.nat(9),
    crash: fc.constantFrom<Crash>('none', 'none', 'none', 'after-target-call', 'after-pair-record'),
  }),
);

type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

async function play(world: PairWorld, steps: readonly Step[]): Promise<void> {
  for (const s of steps) {
    if (s.kind === 'create') {
      // A record is created with what its side may set.
      const fields: Record<string, string | null> = { email: s.email };
      if (OWNER.first === s.side) fields.first = s.first;
      if (OWNER.acct === s.side) fields.acct = s.acct;
      world.create(s.side, fields);
    } else if (s.kind === 'edit') world.edit(s.side, s.n, s.field, s.value);
    else if (s.kind === 'load') world.load(s.side);
    else if (s.kind === 'extract') await world.extract(s.side);
    else world.deliver(s.side, s.n, s.crash);
  }
}

const norm = (field: Field, v: unknown) => (field === 'email' ? NORMALIZERS.email(v) : NORMALIZERS.text(v));

describe('Two-way protocol (property): random edits on both sides, ELT reloads, runs, crashes and redeliveries', () => {
  it('ends with one record per entity in each app, owned fields at their owner’s value, shared ones agreed, and no further call', () => {
    fc.assert(
      // Phases of random steps, each followed by runs until quiet: edits land on records both apps hold.
      fc.asyncProperty(
        fc.array(fc.array(step, { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 3 }),
        async (phases) => {
          const world = new PairWorld();
          for (const steps of phases) {
            await play(world, steps);
            await world.settle();
          }

          // One record per entity in each app: every record of a has exactly one counterpart in b.
          const pairs = world.counterparts();
          expect(pairs.every((p) => p.matches === 1)).toBe(true);
          expect(world.apps.b.records.size).toBe(world.apps.a.records.size);
          for (const { a, b } of pairs) {
            // Owned fields: the owner's current value (only the owner edits them); the shared one agreed.
            expect(norm('first', b!.fields.first)).toBe(norm('first', a.fields.first));
            expect(norm('acct', a.fields.acct)).toBe(norm('acct', b!.fields.acct));
            expect(norm('email', b!.fields.email)).toBe(norm('email', a.fields.email));
          }
          // No loop: another round of loads and runs makes no target call.
          const writes = world.apps.a.writes + world.apps.b.writes;
          expect(await world.settle()).toBe(1);
          expect(world.apps.a.writes + world.apps.b.writes).toBe(writes);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never takes a copy row loaded before our write into its app for an edit: the newer value is not reverted', async () => {
    const world = new PairWorld();
    world.create('a', { email: 'old@x.io', first: 'Ann' });
    await world.settle();
    // App b changes its own field and is loaded; then app a's address changes and is written to b.
    world.edit('b', 0, 'acct', 'A-9');
    world.load('b');
    world.edit('a', 0, 'email', 'new@x.io');
    world.load('a');
    await world.extract('a');
    world.deliver('a', 0);
    // b's copy row predates that write: read now, it still shows the old address.
    await world.extract('b');
    while (world.queued('b') > 0) world.deliver('b', 0);

    const inA = [...world.apps.a.records.values()][0]!;
    expect(inA.fields.email).toBe('new@x.io');
    await world.settle();
    expect(inA.fields).toMatchObject({ email: 'new@x.io', acct: 'A-9' });
  });

  it('resolves a conflict the warehouse has loaded by the newer edit, whichever side made it', () => {
    fc.assert(
      fc.asyncProperty(side, fc.boolean(), async (created, aEditsLast) => {
        const world = new PairWorld();
        world.create(created, { email: 'old@x.io' });
        await world.settle();
        const first = aEditsLast ? 'b' : 'a';
        const last = aEditsLast ? 'a' : 'b';
        world.edit(first, 0, 'email', `${first}@first.io`);
        world.edit(last, 0, 'email', `${last}@last.io`);
        await world.settle();

        for (const app of Object.values(world.apps)) {
          expect([...app.records.values()][0]!.fields.email).toBe(`${last}@last.io`);
        }
      }),
    );
  });
});

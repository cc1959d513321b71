import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import { decideFields, type EntityView } from '../../../shared/pair/decideFields.ts';
import { defineTwoWay } from '../../../shared/pair/defineTwoWay.ts';

const copy = { table: 'c.t', key: 'id', cursor: 'loaded', modifiedAt: 'modified', stamp: 'stamp' };
/** The direction crm → books of a pair with these fields, as the config gives it. */
const crmToBooks = (fields: Parameters<typeof defineTwoWay>[0]['fields']) =>
  validateConfig({
    connections: { hubspot: { type: 'hubspot', secret: 's' }, xero: { type: 'xero', secret: 's' } },
    syncs: defineTwoWay({
      name: 'p',
      a: { name: 'crm', connection: 'hubspot', object: 'contacts', externalId: 'x', copy },
      b: { name: 'books', connection: 'xero', object: 'Contacts', copy },
      fields,
    }),
  }).syncs[0]!;
const pairWith = (conflict: 'newer' | 'a' | 'b') =>
  crmToBooks({
    email: {
      a: 'email',
      b: { column: 'mail', field: 'Mail' },
      owner: 'both',
      conflict,
      normalize: 'email',
    },
    first: { a: 'first', b: { column: 'first', field: 'First' }, owner: 'a' },
    acct: { a: 'acct', b: { column: 'acct', field: 'Acct' }, owner: 'b' },
    name: {
      a: { value: (r) => `${r.first} ${r.last}` },
      b: { field: 'Name' },
      owner: 'a',
      seedOnce: true,
    },
  }).pair!.fields;

/** The direction reading side a (crm) and writing side b (books). */
const view = (v: Partial<EntityView>): EntityView => ({
  source: {},
  sourceModifiedAt: 1,
  target: {},
  targetModifiedAt: 1,
  base: {},
  create: false,
  tieWinner: 'source',
  ...v,
});

describe('decideFields: what one direction of a pair writes for a record', () => {
  const fields = pairWith('newer');

  it('creates with every field its side has, seed-once fields included', () => {
    const d = decideFields(
      fields,
      view({
        create: true,
        source: { email: 'A@x.io', first: 'Ann', last: 'Lee', acct: 'A-1' },
        target: undefined,
        base: undefined,
      }),
    );
    expect(d.payload).toEqual({ Mail: 'A@x.io', First: 'Ann', Acct: 'A-1', Name: 'Ann Lee' });
    expect(d.agreed).toMatchObject({ email: 'a@x.io', first: 'Ann' });
  });

  it('asserts what its side stands for: an owned field the other app lacks makes a write; fields the other side owns and seed-once ones are never written', () => {
    const d = decideFields(
      fields,
      view({
        source: { email: 'a@x.io', first: 'Ann', acct: 'OLD', last: 'Lee' },
        target: { mail: 'a@x.io', first: 'Anne', acct: 'A-9' },
        base: { email: 'a@x.io', first: 'Ann', acct: 'A-1' },
      }),
    );
    expect(d.payload).toEqual({ Mail: 'a@x.io', First: 'Ann' });
    expect(d.differs).toBe(true);
  });

  it('takes values equal up to the normaliser for the same value: the echo of a write is no write', () => {
    const d = decideFields(
      fields,
      view({
        source: { email: ' Ann@X.io', first: 'Ann' },
        target: { mail: 'ann@x.io', first: ' Ann ' },
        base: { email: 'ann@x.io', first: 'Ann' },
      }),
    );
    expect(d.differs).toBe(false);
  });

  it('leaves a field both own to the other direction when only the other side changed it', () => {
    const d = decideFields(
      fields,
      view({ source: { email: 'a@x.io' }, target: { mail: 'b@x.io' }, base: { email: 'a@x.io' } }),
    );
    expect(d.payload).not.toHaveProperty('Mail');
    expect(d.differs).toBe(false);
    expect(d.conflicts).toEqual([]);
  });

  it('resolves a field both sides changed by the newer record, and reports it only from the winning direction', () => {
    const both = { source: { email: 'a@x.io' }, target: { mail: 'b@x.io' }, base: { email: 'old@x.io' } };
    const won = decideFields(fields, view({ ...both, sourceModifiedAt: 5, targetModifiedAt: 3 }));
    expect(won.payload).toMatchObject({ Mail: 'a@x.io' });
    expect(won.differs).toBe(true);
    expect(won.conflicts).toEqual([{ field: 'email', source: 'a@x.io', target: 'b@x.io', winner: 'source' }]);
    const lost = decideFields(fields, view({ ...both, sourceModifiedAt: 3, targetModifiedAt: 5 }));
    expect(lost.payload).not.toHaveProperty('Mail');
    expect(lost.differs).toBe(false);
    expect(lost.conflicts).toEqual([]);
  });

  it('lets one side always win a conflict when the rule says so, whatever the times', () => {
    const both = view({
      source: { email: 'a@x.io' },
      target: { mail: 'b@x.io' },
      base: { email: 'old@x.io' },
      sourceModifiedAt: 9,
      targetModifiedAt: 1,
    });
    expect(decideFields(pairWith('b'), both).payload).not.toHaveProperty('Mail');
    expect(decideFields(pairWith('a'), both).payload).toMatchObject({ Mail: 'a@x.io' });
  });

  it('takes the baseline for the target when its copy predates our last write (no fresh copy)', () => {
    const d = decideFields(
      fields,
      view({ source: { email: 'new@x.io' }, target: undefined, base: { email: 'old@x.io' } }),
    );
    expect(d.payload).toMatchObject({ Mail: 'new@x.io' });
    expect(d.against).toMatchObject({ email: 'old@x.io' });
    expect(d.differs).toBe(true);
  });
});

describe('defineTwoWay: a bad pair is a config error naming the pair and the field', () => {
  it('refuses a computed value on a field that is not seed-once, a missing field name, and a rule on an owned field', () => {
    expect(() =>
      defineTwoWay({
        name: 'p',
        a: { name: 'crm', connection: 'hubspot', object: 'contacts', copy },
        b: { name: 'books', connection: 'xero', object: 'Contacts', copy },
        fields: {
          name: { a: { value: () => 'x' }, b: 'name', owner: 'a' },
          acct: { a: { column: 'acct' }, b: 'acct', owner: 'b', conflict: 'newer' },
        },
      }),
    ).toThrow(
      expect.objectContaining({
        errors: expect.arrayContaining([
          'twoWay[p].fields.name.a.value: a computed value is only for a seedOnce field (it cannot be compared)',
          "twoWay[p].fields.acct.conflict: only for a field both sides own (owner: 'both')",
          'twoWay[p].fields.acct.a.field: required (side b writes this field there)',
        ]),
      }),
    );
  });

  it('gives each direction the deletes of the side it reads', () => {
    const [toBooks, toCrm] = defineTwoWay({
      name: 'p',
      a: { name: 'crm', connection: 'hubspot', object: 'contacts', copy, deletes: { column: 'archived' } },
      b: { name: 'books', connection: 'xero', object: 'Contacts', copy },
      fields: { email: { a: 'email', b: 'email', owner: 'both' } },
    });
    expect(toBooks).toMatchObject({ name: 'p-to-books', deletes: { column: 'archived' } });
    expect(toCrm.name).toBe('p-to-crm');
    expect(toCrm).not.toHaveProperty('deletes');
  });

  it('refuses a config that lists one direction of a pair without the other', () => {
    const [toBooks] = defineTwoWay({
      name: 'p',
      a: { name: 'crm', connection: 'hubspot', object: 'contacts', copy },
      b: { name: 'books', connection: 'xero', object: 'Contacts', copy },
      fields: { email: { a: 'email', b: 'email', owner: 'both' } },
    });
    expect(() =>
      validateConfig({
        connections: { hubspot: { type: 'hubspot', secret: 's' }, xero: { type: 'xero', secret: 's' } },
        syncs: [toBooks],
      }),
    ).toThrow(/syncs\[p-to-books\]\.pair\.partner: the other direction 'p-to-crm' is not among the syncs/);
  });
});

describe('mappingFingerprint of a pair direction', () => {
  it('changes when a field changes owner, so the next run reads every row again', async () => {
    const { mappingFingerprint } = await import('../../../shared/config/mappingFingerprint.ts');
    const direction = (owner: 'a' | 'both') => crmToBooks({ email: { a: 'email', b: 'email', owner } });
    expect(mappingFingerprint(direction('a'))).toBe(mappingFingerprint(direction('a')));
    expect(mappingFingerprint(direction('both'))).not.toBe(mappingFingerprint(direction('a')));
  });
});

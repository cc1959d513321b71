import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contentHash } from '../../../shared/util/contentHash.ts';
import { stableJson } from '../../../shared/util/stableJson.ts';

describe('Function: contentHash', () => {
  it('is the same whatever the key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(contentHash(reversed)).toBe(contentHash(obj));
      }),
    );
  });

  it('differs when one field changes', () => {
    expect(contentHash({ phone: '1' })).not.toBe(contentHash({ phone: '2' }));
    expect(contentHash({ phone: null })).not.toBe(contentHash({}));
  });

  it('normalises dates and bigints so they hash by value', () => {
    expect(stableJson({ d: new Date('2026-01-01T00:00:00Z'), n: 12n })).toBe(
      '{"d":"2026-01-01T00:00:00.000Z","n":"12"}',
    );
  });
});

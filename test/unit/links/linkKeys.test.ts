import { describe, expect, it } from 'vitest';
import { boundedError } from '../../../shared/links/DynamoLinkStore.ts';
import {
  attentionKey,
  isHashedKey,
  linkPk,
  MAX_KEY_BYTES,
  targetRef,
} from '../../../shared/links/linkKeys.ts';
import { truncateUtf8 } from '../../../shared/util/truncateUtf8.ts';

describe('Function: linkPk', () => {
  it('keeps the readable form up to 2048 bytes, the key every link had before hashing', () => {
    const key = 'x'.repeat(MAX_KEY_BYTES - 'people#'.length);
    expect(linkPk('people', key)).toBe(`people#${key}`);
    expect(linkPk('people', '42')).toBe('people#42');
  });

  it('hashes a key whose readable form would exceed 2048 bytes (UTF-8, not UTF-16 units)', () => {
    const long = 'x'.repeat(MAX_KEY_BYTES - 'people#'.length + 1);
    const emoji = '\u{1F600}'.repeat(600); // 1200 UTF-16 units, 2400 bytes
    for (const key of [long, emoji]) {
      const pk = linkPk('people', key);
      expect(pk).toMatch(/^people~sha256:[A-Za-z0-9_-]{43}$/);
      expect(isHashedKey(pk)).toBe(true);
      expect(linkPk('people', key)).toBe(pk);
    }
    expect(linkPk('people', long)).not.toBe(linkPk('people', `${long}y`));
    expect(linkPk('people', long)).not.toBe(linkPk('people2', long));
  });

  it('never gives a short key the hashed form, whatever it spells', () => {
    const long = 'x'.repeat(3000);
    const hashed = linkPk('people', long);
    const suffix = hashed.slice('people~'.length);
    for (const key of [suffix, `~${suffix}`, hashed, `#${hashed}`]) {
      expect(linkPk('people', key)).not.toBe(hashed);
      expect(isHashedKey(linkPk('people', key))).toBe(false);
    }
    // Nor does another sync's readable key: the character after the name tells the forms apart.
    expect(linkPk('people', long).startsWith('people#')).toBe(false);
  });

  it('bounds the byTarget and attention index keys the same way', () => {
    expect(targetRef('people', 't1')).toBe('people#t1');
    expect(Buffer.byteLength(targetRef('people', 'T'.repeat(5000)))).toBeLessThan(100);
    expect(attentionKey('people', 'retrying')).toBe('people#retrying');
  });
});

describe('Function: boundedError', () => {
  it('cuts a message over 4 KB at a whole character and says how long it was', () => {
    const message = `x${'\u{1F4A5}'.repeat(2000)}`;
    const cut = boundedError({ code: 'C', message, httpStatus: 400 });
    expect(cut.code).toBe('C');
    expect(cut.httpStatus).toBe(400);
    expect(Buffer.byteLength(cut.message)).toBeLessThanOrEqual(4096);
    expect(cut.message).toMatch(/^x(\u{1F4A5})+… \[truncated, 8001 bytes\]$/u);
  });

  it('leaves a short message as it is', () => {
    expect(boundedError({ code: 'C', message: 'short' })).toEqual({ code: 'C', message: 'short' });
    expect(truncateUtf8('é'.repeat(10), 20)).toBe('é'.repeat(10));
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isSqsSafe,
  messageBytes,
  planBatches,
  SQS_MAX_BATCH_BYTES,
  sqsSafeJson,
  sqsSafeText,
} from '../../../shared/queue/sqsLimits.ts';

/**
 * AWS's rule for message bodies, written independently of the implementation (code point by
 * code point): #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
 */
function awsAccepts(text: string): boolean {
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const ok =
      cp === 0x9 ||
      cp === 0xa ||
      cp === 0xd ||
      (cp >= 0x20 && cp <= 0xd7ff) ||
      (cp >= 0xe000 && cp <= 0xfffd) ||
      (cp >= 0x10000 && cp <= 0x10ffff);
    if (!ok) return false;
  }
  return true;
}

/** Any UTF-16 text: full code points (emoji, U+FFFE/U+FFFF, controls) and lone surrogate halves. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc
    .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 })
    .map((units) => String.fromCharCode(...units)),
);

describe('Function: sqsSafeJson', () => {
  it('gives a body AWS accepts, that parses back to the exact value, for any text', () => {
    fc.assert(
      fc.property(anyText, anyText, (key, value) => {
        const msg = { key, payload: { [key]: value, list: [value, key] } };
        const body = sqsSafeJson(msg);
        expect(awsAccepts(body)).toBe(true);
        expect(isSqsSafe(body)).toBe(true);
        expect(JSON.parse(body)).toEqual(msg);
      }),
      { numRuns: 2000 },
    );
  });

  it('escapes exactly what JSON.stringify leaves raw and SQS refuses: U+FFFE and U+FFFF', () => {
    // Prepare: JSON.stringify escapes U+0000–U+001F and lone surrogates itself (well-formed JSON.stringify).
    expect(JSON.stringify('\u0000\u0008\u000b\u000c\u001f')).toBe('"\\u0000\\b\\u000b\\f\\u001f"');
    expect(JSON.stringify('\ud800|\udfff')).toBe('"\\ud800|\\udfff"');
    expect(JSON.stringify('\ufffe\uffff')).toBe('"\ufffe\uffff"');
    // Act
    const body = sqsSafeJson({ s: 'a\ufffe\uffffb' });
    // Assess
    expect(body).toBe('{"s":"a\\ufffe\\uffffb"}');
    expect(JSON.parse(body)).toEqual({ s: 'a\ufffe\uffffb' });
  });

  it('leaves emoji, tabs, newlines and the rest of the BMP as they are', () => {
    // Act
    const body = sqsSafeJson({ s: 'Zoë 😀 \u{10FFFF} \ud7ff\ue000\ufffd' });
    // Assess
    expect(body).toBe('{"s":"Zoë 😀 \u{10FFFF} \ud7ff\ue000\ufffd"}');
  });
});

describe('Function: isSqsSafe', () => {
  it("agrees with AWS's rule on any text", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(isSqsSafe(text)).toBe(awsAccepts(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses each class SQS refuses and accepts the boundaries it allows', () => {
    for (const refused of [
      '\u0000',
      '\u0008',
      '\u000b',
      '\u000c',
      '\u000e',
      '\u001f',
      '\ufffe',
      '\uffff',
      '\ud800',
      '\udfff',
      'a\ud83d',
    ])
      expect(isSqsSafe(refused), JSON.stringify(refused)).toBe(false);
    for (const accepted of [
      '\t',
      '\n',
      '\r',
      ' ',
      '\ud7ff',
      '\ue000',
      '\ufffd',
      '😀',
      '\u{10000}',
      '\u{10FFFF}',
    ])
      expect(isSqsSafe(accepted), JSON.stringify(accepted)).toBe(true);
  });
});

describe('Function: sqsSafeText', () => {
  it('shows refused characters escaped, so an attribute value is always accepted', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(awsAccepts(sqsSafeText(text))).toBe(true);
      }),
    );
    expect(sqsSafeText('a\u0000b\uffff😀')).toBe('a\\u0000b\\uffff😀');
  });
});

describe('Function: messageBytes', () => {
  it('counts UTF-8 bytes, not UTF-16 code units, plus attribute names, types and values', () => {
    // Assess
    expect(messageBytes('é😀')).toBe(2 + 4);
    expect('é😀'.length).toBe(3);
    expect(messageBytes('x', { 'wb-key': { DataType: 'String', StringValue: 'ü' } })).toBe(1 + 6 + 6 + 2);
  });
});

describe('Function: planBatches', () => {
  it('puts at most 10 messages in a batch', () => {
    // Act
    const batches = planBatches(Array.from({ length: 23 }, () => 100));
    // Assess
    expect(batches.map((b) => b.length)).toEqual([10, 10, 3]);
  });

  it('closes a batch before its bytes would exceed 1 MiB', () => {
    // Prepare: 300 KB each; three fit (900 KB), a fourth would not.
    const sizes = Array.from({ length: 7 }, () => 300_000);
    // Act
    const batches = planBatches(sizes);
    // Assess
    expect(batches).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it('fills a batch to exactly 1 MiB', () => {
    // Act
    const batches = planBatches([SQS_MAX_BATCH_BYTES - 10, 10, 1]);
    // Assess
    expect(batches).toEqual([[0, 1], [2]]);
  });

  it('gives a message larger than the batch limit a batch of its own', () => {
    // Act
    const batches = planBatches([10, SQS_MAX_BATCH_BYTES + 1, 10]);
    // Assess
    expect(batches).toEqual([[0], [1], [2]]);
  });

  it('keeps every message once, in order, within both limits, for any sizes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1_100_000 }), { maxLength: 60 }), (sizes) => {
        const batches = planBatches(sizes);
        expect(batches.flat()).toEqual(sizes.map((_, i) => i));
        for (const b of batches) {
          expect(b.length).toBeGreaterThan(0);
          expect(b.length).toBeLessThanOrEqual(10);
          const bytes = b.reduce((sum, i) => sum + sizes[i]!, 0);
          if (b.length > 1) expect(bytes).toBeLessThanOrEqual(SQS_MAX_BATCH_BYTES);
        }
      }),
    );
  });
});

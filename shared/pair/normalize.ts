import { stableJson } from '../util/stableJson.ts';

/**
 * How a field's values are compared across the two apps of a pair: each side's value is reduced
 * to a canonical text (or null for "empty"), and two values are the same when their texts are.
 * This is what makes the echo of our own write settle as a skip: the app and the ELT tool give the
 * value back trimmed, re-cased or reformatted, and the normalised text still matches.
 */
export type Normalizer = (value: unknown) => string | null;

/** Any value as text: null, undefined and blank text are "empty" (null). */
export function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  return stableJson(value);
}

const blankToNull = (s: string): string | null => (s === '' ? null : s);

/** Trimmed, inner runs of whitespace as one space; blank is empty. */
function text(v: unknown): string | null {
  const t = asText(v);
  return t === null ? null : blankToNull(t.replace(/\s+/g, ' ').trim());
}

/** Built-in normalisers, by the name a field's `normalize` gives. */
export const NORMALIZERS = {
  /** Trimmed, inner runs of whitespace as one space; blank is empty. The default. */
  text,
  /** As text, case-insensitive: e-mail addresses, codes. */
  email: (v: unknown) => text(v)?.toLowerCase() ?? null,
  /** Digits only, with a leading + kept: `+44 20 7946 0958` = `+442079460958`. */
  phone: (v: unknown) => {
    const t = text(v);
    if (t === null) return null;
    return blankToNull((t.startsWith('+') ? '+' : '') + t.replace(/\D/g, ''));
  },
  /** A number rounded to 2 decimals: amounts an app stores as money. Text that is no number stays text. */
  money: (v: unknown) => {
    const t = text(v);
    if (t === null) return null;
    const n = Number(t);
    return Number.isFinite(n) ? n.toFixed(2) : t;
  },
  /** Exactly as given (only null and undefined are empty). */
  exact: (v: unknown) => asText(v),
} as const satisfies Record<NormalizerName, Normalizer>;

export type NormalizerName = 'text' | 'email' | 'phone' | 'money' | 'exact';

export function isNormalizerName(name: string): name is NormalizerName {
  return Object.hasOwn(NORMALIZERS, name);
}

/**
 * JSON.parse that keeps every number exact. A number whose value a double cannot hold
 * (an id like 12345678901234567890, a decimal with 20 significant digits) becomes a raw JSON value
 * (`JSON.rawJSON`) holding the original digits: `JSON.stringify` writes those digits back
 * unchanged, so the target receives the number the warehouse holds. Other numbers stay numbers.
 */
export function parseJsonExact(text: string): unknown {
  return JSON.parse(text, function revive(
    this: unknown,
    _key: string,
    value: unknown,
    context?: { source?: string },
  ) {
    if (typeof value !== 'number' || context?.source === undefined) return value;
    return sameDecimal(context.source, String(value)) ? value : rawJson(context.source);
  } as (key: string, value: unknown) => unknown);
}

interface JsonWithRaw {
  rawJSON(text: string): unknown;
  isRawJSON(value: unknown): boolean;
}
const J = JSON as unknown as JsonWithRaw;

/** A value JSON.stringify writes as these exact characters. */
export function rawJson(text: string): unknown {
  return J.rawJSON(text);
}

/** Whether a value is a raw JSON number kept by parseJsonExact. */
export function isRawJson(value: unknown): boolean {
  return typeof value === 'object' && value !== null && J.isRawJSON(value);
}

/** Whether two JSON number literals denote the same decimal value (1e2 and 100, 0.10 and 0.1). */
function sameDecimal(a: string, b: string): boolean {
  const x = normaliseDecimal(a);
  const y = normaliseDecimal(b);
  return x !== undefined && x === y;
}

/** `sign digits e exponent` with no leading or trailing zeros in the digits. */
function normaliseDecimal(text: string): string | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return undefined;
  const [, sign, int, frac = '', exp = '0'] = m;
  let digits = `${int}${frac}`;
  let exponent = Number(exp) - frac.length;
  digits = digits.replace(/^0+/, '');
  if (digits === '') return '0';
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  exponent += trailing;
  return `${sign}${digits}e${exponent}`;
}

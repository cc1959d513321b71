/**
 * Milliseconds a `Retry-After` header asks us to wait: delay-seconds ("7", "1.5") or an HTTP
 * date (RFC 9110 §10.2.3). undefined when absent or unreadable; never negative.
 */
export function parseRetryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

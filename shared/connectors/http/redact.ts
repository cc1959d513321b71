/** Longest message we put on a TargetError (they travel as DLQ message attributes). */
export const MAX_ERROR_MESSAGE = 1000;

/** Credential shapes that must never reach a log even when we do not know the value. */
const PATTERNS: readonly [RegExp, string][] = [
  [/Bearer\s+[^\s"',;]+/gi, 'Bearer [redacted]'],
  [/Basic\s+[A-Za-z0-9+/=]{8,}/g, 'Basic [redacted]'],
  [/\b(sk|rk)_(live|test)_[A-Za-z0-9]+/g, '$1_$2_[redacted]'],
  [
    /("?(?:access_token|refresh_token|client_secret|password|api_key)"?\s*[:=]\s*"?)[^"&\s,}]+/gi,
    '$1[redacted]',
  ],
];

/**
 * Removes every known secret value and every credential-looking token from text that came back
 * from the wire or from a thrown error, and caps its length.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  for (const [re, by] of PATTERNS) out = out.replace(re, by);
  return out.length > MAX_ERROR_MESSAGE ? `${out.slice(0, MAX_ERROR_MESSAGE)}…` : out;
}

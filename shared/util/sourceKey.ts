/**
 * A source key as one string: the value itself for a single-column key (`42`), a JSON array
 * for a composite key (`["eu","42"]`). It names the link item and the target's external id.
 */
export function encodeSourceKey(parts: readonly string[]): string {
  return parts.length === 1 ? parts[0]! : JSON.stringify(parts);
}

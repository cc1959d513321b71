/**
 * Each distinct line once, in first-seen order, a repeated one marked with its count by `mark`
 * (`×3`, ` (×3)`): the rehearsal's lists of problems and of what it did not rehearse.
 */
export function countRepeats(lines: readonly string[], mark: (count: number) => string): string[] {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  return [...counts].map(([line, n]) => (n > 1 ? `${line}${mark(n)}` : line));
}

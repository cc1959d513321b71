/**
 * Xero's `where` filter, the part writers use: equality terms (`Field=="value"`, `Field="value"`,
 * `Field==true`, dotted paths like `Contact.ContactNumber`) joined by AND or &&. String
 * comparison ignores case, as Xero's optimised filters do. Returns the message of a 400 for
 * anything else.
 */
export function filterWhere(
  items: Record<string, unknown>[],
  where: string,
): Record<string, unknown>[] | string {
  const terms = where.split(/\s+(?:AND|&&)\s+/i).map((t) => t.trim());
  const tests: ((item: Record<string, unknown>) => boolean)[] = [];
  for (const term of terms) {
    const m =
      /^([A-Za-z][A-Za-z0-9.]*)\s*(==|=|!=)\s*(?:"((?:[^"\\]|\\.)*)"|(true|false|null|-?\d+(?:\.\d+)?))$/.exec(
        term,
      );
    if (!m) return `The where clause term '${term}' is not supported by the fake (use Field=="value")`;
    const [, path, op, quoted, literal] = m;
    const expected = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : literal;
    tests.push((item) => {
      const actual = (path ?? '')
        .split('.')
        .reduce<unknown>(
          (v, k) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined),
          item,
        );
      const equal =
        expected === 'null' && quoted === undefined
          ? actual === undefined || actual === null
          : String(actual ?? '').toLowerCase() === String(expected).toLowerCase();
      return op === '!=' ? !equal : equal;
    });
  }
  return items.filter((i) => tests.every((t) => t(i)));
}

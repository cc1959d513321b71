/** A parsed `select * from <Entity> [where <field> =|in|like …] [startposition n] [maxresults m]`. */
export interface ParsedQuery {
  readonly entity: string;
  readonly where?: {
    readonly field: string;
    readonly op: '=' | 'in' | 'like';
    readonly values: readonly string[];
  };
  readonly start: number;
  readonly max: number;
}

const QUERY =
  /^\s*select\s+\*\s+from\s+(\w+)(?:\s+where\s+([\w.]+)\s*(=|in|like)\s*(\(.*\)|'(?:[^'\\]|\\.)*'))?(?:\s+startposition\s+(\d+))?(?:\s+maxresults\s+(\d+))?\s*$/i;

/** The quoted literals of a value list (`('a', 'b\'c')`), unescaped. */
function literals(text: string): string[] {
  return [...text.matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'));
}

/** The subset of Intuit's query language Writeback uses; undefined when the statement is outside it. */
export function parseQuery(statement: string): ParsedQuery | undefined {
  const m = QUERY.exec(statement);
  if (!m) return undefined;
  const [, entity, field, op, value, start, max] = m;
  return {
    entity: entity!,
    ...(field
      ? { where: { field, op: op!.toLowerCase() as '=' | 'in' | 'like', values: literals(value!) } }
      : {}),
    start: Number(start ?? 1),
    // QuickBooks answers at most 1000 a page, 100 without MAXRESULTS.
    max: Math.min(Number(max ?? 100), 1000),
  };
}

/** Whether a value passes a where clause (LIKE with % wildcards only). */
export function passes(value: unknown, where: NonNullable<ParsedQuery['where']>): boolean {
  const v = value === undefined || value === null ? undefined : String(value);
  if (v === undefined) return false;
  if (where.op === 'like') {
    const pattern = where.values[0] ?? '';
    const re = new RegExp(
      `^${pattern
        .split('%')
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
      'i',
    );
    return re.test(v);
  }
  return where.values.includes(v);
}

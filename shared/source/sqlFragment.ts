/**
 * Checks a piece of the user's SQL (a sync's `where`, or its `query`) that Writeback wraps in
 * parentheses and combines with its own keyset condition. Anything that would change that
 * condition instead of being part of the fragment is refused: a `;` (a second statement), a
 * parenthesis closed that was not opened here (`a = 1) or (true` would OR the keyset condition
 * away), one left open, a `--` comment (it would swallow the text appended after it), or an
 * unterminated string, quoted identifier or comment. Returns the problem, or undefined.
 */
export function sqlFragmentProblem(sql: string): string | undefined {
  let depth = 0;
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (ch === "'") {
      // E'…' strings take backslash escapes; every string doubles its quote.
      const escapes = i > 0 && /[eE]/.test(sql[i - 1]!) && !/[\w$]/.test(sql[i - 2] ?? ' ');
      const end = endOfQuoted(sql, i + 1, "'", escapes);
      if (end < 0) return 'a string literal is not closed';
      i = end;
    } else if (ch === '"') {
      const end = endOfQuoted(sql, i + 1, '"', false);
      if (end < 0) return 'a quoted identifier is not closed';
      i = end;
    } else if (ch === '$' && !/[\w$]/.test(sql[i - 1] ?? ' ')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        if (close < 0) return `a dollar-quoted string (${tag[0]}) is not closed`;
        i = close + tag[0].length;
      } else i++;
    } else if (ch === '-' && next === '-') {
      return 'a -- comment would also comment out what Writeback appends after it: remove it or use /* … */';
    } else if (ch === '/' && next === '*') {
      const end = endOfBlockComment(sql, i + 2);
      if (end < 0) return 'a /* comment is not closed';
      i = end;
    } else if (ch === ';') {
      return 'a ; ends the statement: give one expression (where) or one SELECT (query), without ;';
    } else if (ch === '(') {
      depth++;
      i++;
    } else if (ch === ')') {
      if (depth === 0) return 'a ) closes a parenthesis this text did not open';
      depth--;
      i++;
    } else i++;
  }
  return depth > 0 ? `${depth} parenthesis left open` : undefined;
}

/** Index just past the closing quote, or -1. A doubled quote is an escaped one. */
function endOfQuoted(sql: string, from: number, quote: string, backslashEscapes: boolean): number {
  for (let i = from; i < sql.length; i++) {
    if (backslashEscapes && sql[i] === '\\') i++;
    else if (sql[i] === quote) {
      if (sql[i + 1] === quote) i++;
      else return i + 1;
    }
  }
  return -1;
}

/** Index just past the comment's end; block comments nest in Postgres. */
function endOfBlockComment(sql: string, from: number): number {
  let depth = 1;
  for (let i = from; i < sql.length - 1; i++) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i++;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i++;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

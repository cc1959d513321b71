import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import type { ReservedSql } from 'postgres';

/** One value in COPY's text format: \N for null, backslash escapes for the separators. */
function copyText(v: string | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  return v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/**
 * Streams rows into a (temporary) table with COPY FROM STDIN: far faster than INSERTs for the
 * hundreds of thousands of links or mapped rows a verification compares.
 */
export async function copyRows(
  sql: ReservedSql,
  table: string,
  columns: readonly string[],
  rows: AsyncIterable<(string | null | undefined)[]> | Iterable<(string | null | undefined)[]>,
): Promise<number> {
  // sql.unsafe: table and column names are our own constants.
  const stream = await sql.unsafe(`copy ${table} (${columns.join(', ')}) from stdin`).writable();
  // An error (the source failed, the connection dropped) must not go unhandled: it is thrown below.
  stream.on('error', () => undefined);
  let n = 0;
  try {
    for await (const row of rows) {
      if (!stream.write(`${row.map(copyText).join('\t')}\n`)) await once(stream, 'drain');
      n++;
    }
  } catch (err) {
    // CopyFail: the server ends the COPY and the connection can be used (and released) again.
    stream.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
  stream.end();
  await once(stream, 'finish');
  return n;
}

/**
 * Streams a (temporary) table from one connection into the same table on another with COPY TO
 * STDOUT → COPY FROM STDIN: a verification's links, from the read-only warehouse session to the
 * writer's, which exports them. Returns nothing; the rows are the same text on both sides.
 */
export async function copyTable(from: ReservedSql, to: ReservedSql, table: string): Promise<void> {
  // sql.unsafe: the table name is our own constant.
  const source = await from.unsafe(`copy ${table} to stdout`).readable();
  const sink = await to.unsafe(`copy ${table} from stdin`).writable();
  await pipeline(source, sink);
}

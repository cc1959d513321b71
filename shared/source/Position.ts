/**
 * A place in the `(cursor, key)` order, every value kept as Postgres text so it round-trips
 * exactly (a timestamptz has microseconds; a JS Date would lose them).
 */
export interface Position {
  readonly cursor: string;
  readonly key: readonly string[];
}

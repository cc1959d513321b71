/** A value in a QuickBooks query literal: single quotes, a quote inside escaped with a backslash. */
export function qboLiteral(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** `select * from <entity> where <field> in ('a', 'b')`: the records of these values (QuickBooks queries have no OR). */
export function selectIn(entity: string, field: string, values: readonly string[]): string {
  return `select * from ${entity} where ${field} in (${values.map(qboLiteral).join(', ')})`;
}

/** A page of every record of an entity (STARTPOSITION is 1-based; at most 1000 a page). */
export function selectPage(entity: string, start: number, max: number): string {
  return `select * from ${entity} startposition ${start} maxresults ${max}`;
}

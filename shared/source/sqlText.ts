/** Quotes a Postgres identifier; `crm.customers` becomes `"crm"."customers"`. */
export function quoteQualified(name: string): string {
  return name
    .split('.')
    .map((part) => quoteIdent(part))
    .join('.');
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The value at a dotted path (`data.id`) of a JSON value; '' is the value itself. */
export function atPath(value: unknown, path: string): unknown {
  if (path === '') return value;
  let node = value;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** A URL template with its placeholders filled in, each URL-encoded. */
export function fillTemplate(template: string, values: Readonly<Record<string, string | undefined>>): string {
  return template.replace(/\{(object|externalId|targetId)\}/g, (_, name: string) =>
    encodeURIComponent(values[name] ?? ''),
  );
}

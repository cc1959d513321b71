/** `text` if it fits in `maxBytes` of UTF-8, else its start (whole characters) and a marker, within `maxBytes`. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return text;
  const marker = `… [truncated, ${bytes} bytes]`;
  const room = maxBytes - Buffer.byteLength(marker, 'utf8');
  let cut = Buffer.from(text, 'utf8').subarray(0, Math.max(0, room)).toString('utf8');
  // A character cut in half decodes as U+FFFD: drop it (and a lone high surrogate, should one remain).
  while (cut.endsWith('\uFFFD') || /[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut + marker;
}

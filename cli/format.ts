import type { Position } from '../shared/source/Position.ts';

/** A plain text table: a header row, columns padded to their widest cell, two spaces apart. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** `3m ago`, `2h ago`, `just now`. */
export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(s)) return '-';
  if (s < 5) return 'just now';
  return `${duration(s * 1000)} ago`;
}

/** `850ms`, `12.3s`, `4m10s`, `2h5m`, `3d4h`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${Math.floor(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}

/** ISO time without milliseconds: `2026-11-26 05:22:01Z`. */
export function when(iso: string | undefined): string {
  if (!iso) return '-';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** A bookmark for people: `2026-11-26 05:22:01.123456+00 #42`. */
export function position(p: Position | undefined): string {
  if (!p) return '(start)';
  return `${p.cursor} #${p.key.join(',')}`;
}

/** Cuts a text to `max` characters with an ellipsis, on one line. */
export function cut(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

/** A value for a diff cell: strings quoted, absent as `∅`. */
export function show(value: unknown): string {
  if (value === undefined || value === null) return '∅';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

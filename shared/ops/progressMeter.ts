/**
 * Progress of a long operator step, as lines for people: "reading the DLQ: 41200 of ~100000
 * (2950/s, 14 s)", at most one every `everyMs` (the first after `everyMs`), plus one at `done()`.
 */
/** How often progress lines come; tests shorten it. */
export const progressInterval = { ms: 2000 };

export function progressMeter(
  label: string,
  total: number | undefined,
  emit: ((line: string) => void) | undefined,
  everyMs = progressInterval.ms,
): { tick(count: number): void; done(count: number): void } {
  const t0 = performance.now();
  let last = t0;
  const line = (count: number, now: number) => {
    const s = (now - t0) / 1000;
    const rate = s > 0 ? Math.round(count / s) : 0;
    emit?.(`${label}: ${count}${total !== undefined ? ` of ~${total}` : ''} (${rate}/s, ${Math.round(s)} s)`);
  };
  return {
    tick(count) {
      const now = performance.now();
      if (now - last < everyMs) return;
      last = now;
      line(count, now);
    },
    done(count) {
      const now = performance.now();
      // A step shorter than one interval needs no progress at all.
      if (now - t0 >= everyMs) line(count, now);
    },
  };
}

/** A sliding-window counter as vendors keep one: calls admitted in the last `intervalMs`. */
export class SlidingWindow {
  private readonly stamps: number[] = [];
  public readonly limit: number;
  public readonly intervalMs: number;

  public constructor(limit: number, intervalMs: number) {
    this.limit = limit;
    this.intervalMs = intervalMs;
  }

  public used(now: number): number {
    while (this.stamps.length > 0 && (this.stamps[0] ?? 0) <= now - this.intervalMs) this.stamps.shift();
    return this.stamps.length;
  }

  public remaining(now: number): number {
    return Math.max(0, this.limit - this.used(now));
  }

  /** Milliseconds until one more call fits. */
  public retryAfterMs(now: number): number {
    this.used(now);
    const oldest = this.stamps[this.stamps.length - this.limit] ?? now;
    return Math.max(0, oldest + this.intervalMs - now);
  }

  public full(now: number): boolean {
    return this.used(now) >= this.limit;
  }

  public record(now: number): void {
    this.stamps.push(now);
  }

  public clear(): void {
    this.stamps.length = 0;
  }
}

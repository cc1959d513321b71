/**
 * A small seeded PRNG (mulberry32): the same seed gives the same sequence, so a chaos scenario's
 * data, source updates and fault plan can be replayed from its printed seed.
 */
export class Prng {
  private state: number;

  public constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** An independent stream for one purpose, so that consuming one does not shift the others. */
  public fork(salt: number): Prng {
    return new Prng((this.state ^ Math.imul(salt + 1, 0x9e3779b1)) >>> 0);
  }

  /** Uniform in [0, 1). */
  public next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [min, max]. */
  public int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  public chance(p: number): boolean {
    return this.next() < p;
  }

  /** `n` distinct items, in random order. */
  public sample<T>(items: readonly T[], n: number): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy.slice(0, Math.min(n, copy.length));
  }
}

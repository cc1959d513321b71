import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import type { RefreshLease } from './RefreshLease.ts';

/**
 * The refresh lease of a local token file: a lock file created exclusively (`wx`) holding its
 * holder and expiry. An expired lock is removed and taken again. Good for the processes of one
 * machine (the CLI, the local stack); two processes removing the same expired lock at the same
 * instant could both take it, which the store's compare-and-swap then catches.
 */
export class FileLease implements RefreshLease {
  private readonly path: string;
  private readonly now: () => number;

  public constructor(path: string, now: () => number = Date.now) {
    this.path = path;
    this.now = now;
  }

  public async acquire(holder: string, ttlMs: number): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(this.path, JSON.stringify({ holder, until: this.now() + ttlMs }), {
          flag: 'wx',
          mode: 0o600,
        });
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const held = this.held();
      if (held && held.holder !== holder && held.until > this.now()) return false;
      try {
        unlinkSync(this.path);
      } catch {
        // Gone already: take it on the next attempt.
      }
    }
    return false;
  }

  public async release(holder: string): Promise<void> {
    if (this.held()?.holder !== holder) return;
    try {
      unlinkSync(this.path);
    } catch {
      // Gone already.
    }
  }

  private held(): { holder: string; until: number } | undefined {
    try {
      return JSON.parse(readFileSync(this.path, 'utf8')) as { holder: string; until: number };
    } catch {
      return undefined;
    }
  }
}

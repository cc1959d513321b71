/**
 * The right to refresh a connection's tokens, held by one writer at a time with an expiry (so a
 * writer that crashes holding it does not block the others for longer than `ttlMs`).
 */
export interface RefreshLease {
  /** Takes the lease for `holder` until now + ttlMs if nobody holds a live one; false otherwise. */
  acquire(holder: string, ttlMs: number): Promise<boolean>;
  /** Gives it back, if `holder` still holds it (best effort: it expires anyway). */
  release(holder: string): Promise<void>;
}

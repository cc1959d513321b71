import { randomUUID } from 'node:crypto';
import { TargetError } from '../errors.ts';
import type { RefreshLease } from './RefreshLease.ts';
import type { TokenSet } from './TokenSet.ts';
import type { StoredTokens, TokenStore } from './TokenStore.ts';

export interface RotatingTokenOptions {
  readonly store: TokenStore;
  readonly lease: RefreshLease;
  /**
   * The vendor's refresh_token grant: the next token set, or a TargetError (`<PREFIX>_INVALID_GRANT`
   * when the vendor rejects the refresh token, `<PREFIX>_AUTH_UNAVAILABLE` when it did not answer).
   */
  readonly refresh: (refreshToken: string) => Promise<TokenSet>;
  /** The token set this process already holds (the secret as read at start), used while valid. */
  readonly initial?: TokenSet;
  /** Error code prefix and product name for messages (XERO, Xero). */
  readonly codePrefix: string;
  readonly vendor: string;
  /** Refresh this long before the access token expires. @default 60_000 */
  readonly refreshMarginMs?: number;
  /**
   * How long a refresher holds the lease. Far below the vendor's grace period for a rotated
   * refresh token (Xero: 30 minutes), so that a writer that crashed after refreshing leaves time
   * for the next one to retry the old refresh token. @default 60_000
   */
  readonly leaseMs?: number;
  /** How long a caller waits for another writer's refresh before handing its call back (retryable). @default 20_000 */
  readonly waitMs?: number;
  /** How often a waiting caller re-reads the store. @default 250 */
  readonly pollMs?: number;
  /** Who holds the lease. @default a random id per instance */
  readonly holder?: string;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * An access token kept valid across writers that run at once in separate processes, for vendors
 * that rotate the refresh token on every use (Xero). The protocol:
 *
 * 1. A token this process holds is used until `refreshMarginMs` before it expires (or until the API
 *    refuses it: `refused`).
 * 2. Then the store is read (past any cache): another writer may have refreshed already.
 * 3. Otherwise the writer takes the refresh lease (one holder at a time, with an expiry) and reads
 *    the store again under it; only if the tokens there still need renewing does it refresh.
 * 4. The new token set is written back to the store (a new version; the previous one kept) BEFORE
 *    it is used, conditional on the version it was refreshed from. Writers without the lease poll
 *    the store until the new version appears.
 *
 * Failure cases:
 * - A crash (or a failed write-back) between the refresh and the write-back leaves the store on
 *   the old refresh token, which the vendor has rotated. Xero accepts a rotated refresh token again
 *   for 30 minutes: once the lease expires (`leaseMs`), the next writer retries it and the
 *   connection lives on. A vendor without such a grace period loses the connection here: it needs
 *   `writeback connect` again.
 * - The vendor rejects the refresh token (`<PREFIX>_INVALID_GRANT`: revoked, unused for 60 days,
 *   or rotated longer ago than the grace period): if the store still holds that token, the error
 *   is thrown (an auth refusal: the sync pauses, nothing is dead-lettered); if another writer has
 *   stored newer tokens meanwhile, those are used.
 * - A refresher frozen past its lease (a Lambda timed out mid-call, thawed later) cannot overwrite
 *   newer tokens: the write-back compares the version, and the loser's tokens are dropped.
 */
export class RotatingToken {
  private readonly opts: RotatingTokenOptions;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly holder: string;
  private tokens: TokenSet | undefined;
  /** An access token the API refused: never handed out again, even before its expiry. */
  private refusedToken: string | undefined;
  private pending: Promise<string> | undefined;

  public constructor(opts: RotatingTokenOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.holder = opts.holder ?? randomUUID();
    this.tokens = opts.initial;
  }

  /** The access token in use, for scrubbing from messages. */
  public current(): string | undefined {
    return this.tokens?.accessToken;
  }

  /** The refresh token in use, for scrubbing from messages. */
  public currentRefreshToken(): string | undefined {
    return this.tokens?.refreshToken;
  }

  /** A valid access token; concurrent callers of this process share one renewal. */
  public async get(): Promise<string> {
    if (this.tokens && this.usable(this.tokens)) return this.tokens.accessToken;
    this.pending ??= this.renew().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** The API refused this access token (401): the next get() renews, whatever its expiry says. */
  public refused(accessToken: string): void {
    this.refusedToken = accessToken;
  }

  private usable(tokens: TokenSet): boolean {
    const margin = this.opts.refreshMarginMs ?? 60_000;
    return (
      tokens.accessToken !== '' &&
      tokens.accessToken !== this.refusedToken &&
      tokens.expiresAt - margin > this.now()
    );
  }

  private async renew(): Promise<string> {
    const deadline = this.now() + (this.opts.waitMs ?? 20_000);
    for (;;) {
      const stored = await this.read();
      if (this.usable(stored.tokens)) return this.adopt(stored.tokens);
      if (await this.acquire()) {
        try {
          const done = await this.refreshUnderLease();
          if (done !== undefined) return done;
        } finally {
          await this.opts.lease.release(this.holder).catch(() => undefined);
        }
      } else if (this.now() >= deadline) {
        throw new TargetError(
          `${this.opts.codePrefix}_AUTH_UNAVAILABLE`,
          `${this.opts.vendor} tokens are being refreshed by another writer and no new ones were stored within ${this.opts.waitMs ?? 20_000} ms; the call is retried later`,
          { disposition: 'retryable' },
        );
      } else await this.sleep(this.opts.pollMs ?? 250);
    }
  }

  /** Under the lease: the access token, or undefined when another writer's tokens won (read again). */
  private async refreshUnderLease(): Promise<string | undefined> {
    // The previous holder may have stored new tokens just before we took the lease.
    const stored = await this.read();
    if (this.usable(stored.tokens)) return this.adopt(stored.tokens);
    let next: TokenSet;
    try {
      next = await this.opts.refresh(stored.tokens.refreshToken);
    } catch (err) {
      if (err instanceof TargetError && err.code === `${this.opts.codePrefix}_INVALID_GRANT`) {
        // Rejected: unless another writer stored newer tokens meanwhile, the connection needs a reconnect.
        const latest = await this.read();
        if (latest.tokens.refreshToken !== stored.tokens.refreshToken) return undefined;
      }
      throw err;
    }
    if (!(await this.writeBack(stored, next))) return undefined;
    return this.adopt(next);
  }

  /**
   * Stores the new tokens before anyone uses them. A failed write is retried once; after that the
   * new tokens are dropped and the call handed back: the store still holds the old refresh token,
   * which the next writer retries (Xero's grace period).
   */
  private async writeBack(basedOn: StoredTokens, next: TokenSet): Promise<boolean> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        return await this.opts.store.replace(basedOn, next);
      } catch (err) {
        lastError = err;
      }
    }
    throw new TargetError(
      `${this.opts.codePrefix}_AUTH_UNAVAILABLE`,
      `${this.opts.vendor} tokens were refreshed but could not be stored (${lastError instanceof Error ? lastError.message : String(lastError)}); the next writer retries the previous refresh token`,
      { disposition: 'retryable', cause: lastError },
    );
  }

  private async acquire(): Promise<boolean> {
    try {
      return await this.opts.lease.acquire(this.holder, this.opts.leaseMs ?? 60_000);
    } catch (err) {
      throw new TargetError(
        `${this.opts.codePrefix}_AUTH_UNAVAILABLE`,
        `the ${this.opts.vendor} refresh lease could not be taken: ${err instanceof Error ? err.message : String(err)}`,
        { disposition: 'retryable', cause: err },
      );
    }
  }

  private async read(): Promise<StoredTokens> {
    try {
      return await this.opts.store.read();
    } catch (err) {
      throw new TargetError(
        `${this.opts.codePrefix}_AUTH_UNAVAILABLE`,
        `${this.opts.vendor} tokens could not be read from their store: ${err instanceof Error ? err.message : String(err)}`,
        { disposition: 'retryable', cause: err },
      );
    }
  }

  private adopt(tokens: TokenSet): string {
    this.tokens = tokens;
    return tokens.accessToken;
  }
}

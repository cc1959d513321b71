import { TargetError } from '../../../shared/errors.ts';
import type { RefreshLease } from '../../../shared/oauth/RefreshLease.ts';
import type { TokenSet } from '../../../shared/oauth/TokenSet.ts';
import type { StoredTokens, TokenStore } from '../../../shared/oauth/TokenStore.ts';

/** A clock the test moves. */
export class Clock {
  public t = 1_000_000;
  public readonly now = (): number => this.t;
}

/**
 * The vendor's side, as Xero behaves: each refresh answers a new refresh token; a rotated one is
 * accepted again for `graceMs`, then invalid_grant. Counts what a test asserts on.
 */
export class MemoryVendor {
  public refreshes = 0;
  public graceRetries = 0;
  public invalidGrants = 0;
  private readonly rotatedAt = new Map<string, number | undefined>();
  private readonly access = new Map<string, number>();
  private n = 0;
  public revoked = false;

  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly graceMs: number;

  public constructor(clock: Clock, ttlMs = 30 * 60_000, graceMs = 30 * 60_000) {
    this.clock = clock;
    this.ttlMs = ttlMs;
    this.graceMs = graceMs;
  }

  /** The token set a user's consent gives (`writeback connect`). */
  public connect(): TokenSet {
    return this.issue();
  }

  public refresh = async (refreshToken: string): Promise<TokenSet> => {
    const now = this.clock.now();
    const known = this.rotatedAt.has(refreshToken);
    const rotatedAt = this.rotatedAt.get(refreshToken);
    if (this.revoked || !known || (rotatedAt !== undefined && now - rotatedAt > this.graceMs)) {
      this.invalidGrants++;
      throw new TargetError('XERO_INVALID_GRANT', 'Xero rejected the refresh token (invalid_grant)', {
        disposition: 'permanent',
        httpStatus: 400,
      });
    }
    if (rotatedAt === undefined) this.rotatedAt.set(refreshToken, now);
    else this.graceRetries++;
    this.refreshes++;
    return this.issue();
  };

  /** Whether the API would accept this access token now. */
  public accepts(accessToken: string): boolean {
    const expiresAt = this.access.get(accessToken);
    return !this.revoked && expiresAt !== undefined && expiresAt > this.clock.now();
  }

  private issue(): TokenSet {
    this.n++;
    const tokens = {
      accessToken: `at-${this.n}`,
      refreshToken: `rt-${this.n}`,
      expiresAt: this.clock.now() + this.ttlMs,
    };
    this.access.set(tokens.accessToken, tokens.expiresAt);
    this.rotatedAt.set(tokens.refreshToken, undefined);
    return tokens;
  }
}

/** A secret's versions in memory: replace() is a compare-and-swap on the current version. */
export class MemoryTokenStore implements TokenStore {
  public readonly versions: StoredTokens[] = [];
  public reads = 0;
  /** Set to make the next replace() calls throw (Secrets Manager unreachable). */
  public failWrites = 0;

  public constructor(initial: TokenSet, fields: Record<string, string> = { clientId: 'app' }) {
    this.versions.push({ tokens: initial, version: 'v1', fields });
  }

  public get current(): StoredTokens {
    return this.versions[this.versions.length - 1]!;
  }

  public async read(): Promise<StoredTokens> {
    this.reads++;
    return this.current;
  }

  public async replace(basedOn: StoredTokens, next: TokenSet): Promise<boolean> {
    if (this.failWrites > 0) {
      this.failWrites--;
      throw new Error('Secrets Manager is unreachable');
    }
    if (this.current.version !== basedOn.version) return false;
    this.versions.push({ tokens: next, version: `v${this.versions.length + 1}`, fields: basedOn.fields });
    return true;
  }
}

/** One lease item with an expiry, as the conditional write on the state table keeps it. */
export class MemoryLease implements RefreshLease {
  public holder: string | undefined;
  public until = 0;
  public acquired = 0;

  private readonly clock: Clock;

  public constructor(clock: Clock) {
    this.clock = clock;
  }

  public async acquire(holder: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    if (this.holder !== undefined && this.holder !== holder && this.until > now) return false;
    this.holder = holder;
    this.until = now + ttlMs;
    this.acquired++;
    return true;
  }

  public async release(holder: string): Promise<void> {
    if (this.holder === holder) this.holder = undefined;
  }
}

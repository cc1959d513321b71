import type { RefreshLease } from './RefreshLease.ts';
import type { TokenStore } from './TokenStore.ts';

/**
 * What a process needs to refresh a connection's rotating tokens safely: where they are stored
 * (written back before use) and the lease that lets one writer at a time refresh. The write
 * function gets both for its connection (Secrets Manager, the state table); a process without them
 * uses the stored access token while it lasts and never refreshes, so that it cannot rotate the
 * refresh token out from under the writers.
 */
export interface TokenRotationPorts {
  readonly store: TokenStore;
  readonly lease: RefreshLease;
  /** Renew this long before the access token expires (tests with seconds-long tokens shorten it). @default 60_000 */
  readonly refreshMarginMs?: number;
}

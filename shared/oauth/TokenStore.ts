import type { TokenSet } from './TokenSet.ts';

/** A token set as read from its store, with the version it was read at. */
export interface StoredTokens {
  readonly tokens: TokenSet;
  /** The store's version of it (a secret's VersionId): what replace() compares against. */
  readonly version: string;
  /** The other fields stored beside the tokens (client id, tenant…), kept on replace. */
  readonly fields: Readonly<Record<string, string>>;
}

/**
 * Where a connection's rotating tokens live (the connection's secret on AWS; a 0600 file
 * locally). Read past any cache; written as a new version that keeps the previous one.
 */
export interface TokenStore {
  /** The token set stored now; throws when the store holds none (the connection was never connected). */
  read(): Promise<StoredTokens>;
  /**
   * Stores `next` as a new version, only if `basedOn` is still the current one (compare and swap):
   * false when another writer stored a version since (ours is then discarded, never used).
   */
  replace(basedOn: StoredTokens, next: TokenSet): Promise<boolean>;
}

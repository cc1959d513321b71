import type { OAuthAccount, ScopeNeed } from './OAuthApp.ts';

/** What one sync does through a connection: the object it writes, and whether it archives or associates. */
export interface SyncUse {
  readonly sync: string;
  readonly object: string;
  /** The sync deletes (archives) records it wrote (`deletes`). */
  readonly archive?: boolean;
  /** The sync associates each record with a record of this object (`target.associate.with`). */
  readonly associateWith?: string;
}

/** One thing `writeback connect` asks the user for, and where a script can give it instead. */
export interface CredentialField {
  /** The secret field it is stored as (`token`, `clientId`, `clientSecret`, `instanceUrl`). */
  readonly field: string;
  /** The question at the terminal. */
  readonly question: string;
  /** Typed without echo (a token, a secret). */
  readonly hidden: boolean;
  /** The environment variable that gives it without a terminal (never a CLI option for a secret). */
  readonly env?: string;
  /** The CLI option that gives it (only for what is not secret: a client id). */
  readonly option?: 'clientId';
  /** A field of the connection's config that gives it (Salesforce `instanceUrl`): not asked then. */
  readonly fromConfig?: string;
}

/** What the vendor said about a credential: who it is, what it may do, and what the syncs lack. */
export interface CheckedCredential {
  readonly account: OAuthAccount;
  /** What was granted, as the vendor names it (scopes, permissions), for the user to read. */
  readonly granted: string;
  /** What the syncs need and the credential lacks, each with the sync that needs it. */
  readonly missing: readonly ScopeNeed[];
  /** Fields to store beside the ones asked for (Salesforce: the instance URL the token answer gave). */
  readonly fields?: Readonly<Record<string, string>>;
}

/**
 * How `writeback connect` takes a static credential of a vendor (a HubSpot private app token, a
 * Stripe restricted key, a Salesforce connected app's client credentials) and how it, and
 * `writeback validate --connections`, checks one with the vendor before anything runs on it: a
 * connector definition's `credentials`. `C` is the connection's config as the definition parses it.
 */
export interface StaticCredentials<C = unknown> {
  /** What the user is asked for, in order. */
  readonly fields: readonly CredentialField[];
  /**
   * The vendor's cheapest identity call with these fields, and whether what the credential may do
   * covers what the syncs do. Throws a TargetError (`<VENDOR>_UNAUTHORIZED`…) when the vendor
   * refuses the credential itself.
   */
  check(
    connection: C,
    fields: Readonly<Record<string, string | undefined>>,
    uses: readonly SyncUse[],
    fetchImpl?: typeof fetch,
  ): Promise<CheckedCredential>;
}

/** A token or key typed without echo, or given in WRITEBACK_TOKEN: what HubSpot and Stripe ask for. */
export function tokenField(question: string): CredentialField {
  return { field: 'token', question, hidden: true, env: 'WRITEBACK_TOKEN' };
}

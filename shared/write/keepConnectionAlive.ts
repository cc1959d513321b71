import type { SyncConfig } from '../config/schema.ts';
import { isAuthRefusal } from '../connectors/authErrors.ts';
import type { Connector } from '../connectors/Connector.ts';
import { describeError } from '../errors.ts';
import type { LinkStore } from '../links/LinkStore.ts';
import type { CredentialSource } from './RenewableConnection.ts';

export interface KeepAliveDeps {
  readonly connector: Connector;
  /** Where the connector's credentials come from when they can change (Secrets Manager on AWS). */
  readonly credentials?: CredentialSource;
  /** Where an auth refusal is recorded, as the writers record it (the sync's auth outage). */
  readonly links: LinkStore;
  readonly now: () => number;
}

export type KeepAliveOutcome =
  /** The connector renewed what it needed (or nothing was due yet). */
  | { readonly outcome: 'kept' }
  /** The connector has nothing that expires while unused. */
  | { readonly outcome: 'not-needed' }
  /** The vendor refused the credentials, after a re-read of the secret: the sync's auth outage is open. */
  | { readonly outcome: 'refused'; readonly code: string; readonly message: string };

/**
 * A scheduled keep-alive of a sync's connection (the stack invokes the write function weekly with
 * `{"keepAlive": "<connection>"}` for each connection on rotating OAuth tokens): a Xero refresh
 * token unused for 60 days expires, and a sync with no changes for that long would otherwise find
 * its connection dead on the next write. The connector renews its access token when it has expired,
 * which rotates the refresh token under the same lease and write-back as a writer's refresh.
 *
 * A refusal is handled as a writer handles one: the secret is re-read once (another writer or
 * `writeback connect` may have stored new tokens), then the sync's auth outage is opened, so that
 * `writeback status` says to reconnect and CredentialsRefusedAlarm fires (the caller publishes the
 * metric) before any record waits. A keep-alive that goes through ends an open outage. Any other
 * error (the vendor's token endpoint down) is thrown: the invocation fails and is retried.
 */
export async function keepConnectionAlive(sync: SyncConfig, deps: KeepAliveDeps): Promise<KeepAliveOutcome> {
  const startedAt = deps.now();
  let connector = deps.credentials ? await deps.credentials.current() : deps.connector;
  if (!connector.keepAlive) return { outcome: 'not-needed' };
  try {
    await connector.keepAlive();
  } catch (err) {
    if (!isAuthRefusal(describeError(err))) throw err;
    const renewed = deps.credentials ? await deps.credentials.reconnect() : connector;
    let refusal = err;
    if (renewed !== connector) {
      connector = renewed;
      try {
        await connector.keepAlive?.();
        refusal = undefined;
      } catch (again) {
        if (!isAuthRefusal(describeError(again))) throw again;
        refusal = again;
      }
    }
    if (refusal !== undefined) {
      const { code, message, httpStatus } = describeError(refusal);
      await deps.links.health.recordAuthRefusal(sync.name, deps.now(), {
        code,
        message,
        ...(httpStatus !== undefined ? { httpStatus } : {}),
        connection: sync.target.connection,
        secret: deps.credentials?.name ?? `of connection ${sync.target.connection}`,
      });
      return { outcome: 'refused', code, message };
    }
  }
  await deps.links.health.clearAuthRefusal(sync.name, startedAt);
  return { outcome: 'kept' };
}

import { createHash } from 'node:crypto';
import type { Connector } from '../connectors/Connector.ts';
import type { ConnectionCredentials } from '../connectors/createConnector.ts';

/**
 * Where a sync's connector comes from when its credentials can change while writers run (a
 * secret rotated, a revoked token replaced). The write protocol takes each batch's connector from
 * `current()` and, when the target refuses the credentials, calls `reconnect()` once and repeats
 * the refused call if that gave another connector.
 */
export interface CredentialSource {
  /** What an operator updates when the target refuses the credentials: the secret's name or ARN. */
  readonly name: string;
  /** The connector for the next batch, from credentials read through a cache with a time to live. */
  current(): Promise<Connector>;
  /**
   * Reads the credentials again, past any cache, and returns the connector built from them: the
   * same object as before when they did not change (repeating a refused call would not help then).
   */
  reconnect(): Promise<Connector>;
}

export interface RenewableConnectionOptions {
  /** The secret's name or ARN, as the operator should see it. */
  readonly name: string;
  /** Reads the credentials; `fresh` bypasses the cache (Powertools Parameters' `forceFetch`). */
  readonly read: (opts: { readonly fresh: boolean }) => Promise<ConnectionCredentials>;
  /** Builds a connector from credentials (createConnector for the sync). */
  readonly build: (creds: ConnectionCredentials) => Connector;
  /** A connector already built from these credentials (at a cold start): kept while they hold. */
  readonly initial?: { readonly creds: ConnectionCredentials; readonly connector: Connector };
}

/**
 * A connector rebuilt whenever the credentials it was built from change. Reads go through the
 * caller's cache (a TTL, so a rotation is picked up within it); `reconnect` skips the cache. The
 * replaced connector is closed (its pool or sockets). If a cached read fails (Secrets Manager
 * throttled or unreachable), the connector built before is kept; the first read has nothing to
 * fall back on and throws.
 */
export class RenewableConnection implements CredentialSource {
  public readonly name: string;
  readonly #opts: RenewableConnectionOptions;
  #built: { readonly fingerprint: string; readonly connector: Connector } | undefined;
  /** One read at a time: concurrent batches of one process must not build (and close) each other's connector. */
  #queue: Promise<unknown> = Promise.resolve();

  public constructor(opts: RenewableConnectionOptions) {
    this.name = opts.name;
    this.#opts = opts;
    if (opts.initial)
      this.#built = { fingerprint: fingerprint(opts.initial.creds), connector: opts.initial.connector };
  }

  public current(): Promise<Connector> {
    return this.#serially(() => this.#connect(false));
  }

  public reconnect(): Promise<Connector> {
    return this.#serially(() => this.#connect(true));
  }

  #serially(fn: () => Promise<Connector>): Promise<Connector> {
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #connect(fresh: boolean): Promise<Connector> {
    let creds: ConnectionCredentials;
    try {
      creds = await this.#opts.read({ fresh });
    } catch (err) {
      if (this.#built && !fresh) return this.#built.connector;
      throw err;
    }
    const print = fingerprint(creds);
    if (this.#built?.fingerprint === print) return this.#built.connector;
    const previous = this.#built?.connector;
    const connector = this.#opts.build(creds);
    this.#built = { fingerprint: print, connector };
    // Not awaited: a pool ends once its last query is answered, and no batch waits for that.
    if (previous) void previous.close().catch(() => undefined);
    return connector;
  }
}

/** A digest of the credentials, not a copy: enough to tell whether they changed. */
function fingerprint(creds: ConnectionCredentials): string {
  const fields = Object.entries(creds).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

import { TargetError } from '../../errors.ts';
import { RotatingToken } from '../../oauth/RotatingToken.ts';
import type { TokenRotationPorts } from '../../oauth/TokenRotationPorts.ts';
import type { TokenSet } from '../../oauth/TokenSet.ts';
import { OAuthTokenEndpoint, type OAuthTokenEndpointOptions } from './OAuthTokenEndpoint.ts';
import { Secret } from './Secret.ts';

export interface RefreshTokenAuthOptions extends Omit<OAuthTokenEndpointOptions, 'clientSecret'> {
  readonly clientSecret?: string;
  /** The token set as the secret held it when this connector was built. */
  readonly tokens: TokenSet;
  /** Store and lease: without them the access token is used until it expires, never refreshed. */
  readonly rotation?: TokenRotationPorts;
  /** Renew this long before expiry. @default 60_000 */
  readonly refreshMarginMs?: number;
  /** RotatingToken's lease, wait and poll times (tests shorten them). */
  readonly leaseMs?: number;
  readonly waitMs?: number;
  readonly pollMs?: number;
}

/**
 * The bearer credential of an OAuth 2.0 authorization-code connection (a user authorised the app
 * once; `writeback connect`): access tokens renewed with the rotating refresh token through
 * RotatingToken, so that concurrent writers refresh once per expiry and never lose the chain.
 */
export class RefreshTokenAuth {
  private readonly opts: RefreshTokenAuthOptions;
  private readonly clientSecret: Secret | undefined;
  private readonly rotating: RotatingToken | undefined;

  public constructor(opts: RefreshTokenAuthOptions) {
    this.opts = opts;
    this.clientSecret = opts.clientSecret ? new Secret(opts.clientSecret) : undefined;
    if (opts.rotation) {
      const { clientSecret: _secret, tokens: _tokens, rotation: _rotation, ...endpointOpts } = opts;
      const endpoint = new OAuthTokenEndpoint({
        ...endpointOpts,
        ...(this.clientSecret ? { clientSecret: this.clientSecret } : {}),
      });
      this.rotating = new RotatingToken({
        store: opts.rotation.store,
        lease: opts.rotation.lease,
        refresh: (refreshToken) => endpoint.refresh(refreshToken),
        initial: opts.tokens,
        codePrefix: opts.codePrefix,
        vendor: opts.vendor,
        ...(opts.now ? { now: opts.now } : {}),
        ...((opts.refreshMarginMs ?? opts.rotation.refreshMarginMs) !== undefined
          ? { refreshMarginMs: opts.refreshMarginMs ?? opts.rotation.refreshMarginMs }
          : {}),
        ...(opts.leaseMs !== undefined ? { leaseMs: opts.leaseMs } : {}),
        ...(opts.waitMs !== undefined ? { waitMs: opts.waitMs } : {}),
        ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
      });
    }
  }

  /** The Authorization header's value, renewing the access token first when it is due. */
  public async authorization(): Promise<string> {
    if (this.rotating) return `Bearer ${await this.rotating.get()}`;
    const { tokens, codePrefix, vendor } = this.opts;
    if (tokens.expiresAt > (this.opts.now ?? Date.now)()) return `Bearer ${tokens.accessToken}`;
    throw new TargetError(
      `${codePrefix}_AUTH_UNAVAILABLE`,
      `the ${vendor} access token has expired and this process does not refresh it (only the writers do, one at a time); try again once a writer has run`,
      { disposition: 'retryable' },
    );
  }

  /** Every credential value known now, for scrubbing from messages. */
  public secrets(): string[] {
    return [
      this.rotating?.current() ?? this.opts.tokens.accessToken,
      this.rotating?.currentRefreshToken() ?? this.opts.tokens.refreshToken,
      this.clientSecret?.reveal() ?? '',
    ];
  }

  /** A 401 means the access token was revoked or expired early: renew it and try once more. */
  public async renewingOn401<T extends { ok: boolean; status?: number }>(call: () => Promise<T>): Promise<T> {
    // The token the call is about to send (renewed first if due), so a 401 names the right one.
    // A renewal that fails here fails again inside the call, where it becomes the call's error.
    const used = this.rotating ? await this.rotating.get().catch(() => undefined) : undefined;
    const res = await call();
    if (this.rotating && used !== undefined && res.ok && res.status === 401) {
      this.rotating.refused(used);
      return call();
    }
    return res;
  }
}

import { OAuthTokenEndpoint, type OAuthTokenEndpointOptions } from '../connectors/http/OAuthTokenEndpoint.ts';
import { Secret } from '../connectors/http/Secret.ts';
import { type TokenSet, tokenSetOf } from './TokenSet.ts';

/** What a connector asks of its bearer credential, whichever kind it is. */
export interface BearerSource {
  /** The Authorization header's value, renewing the access token first when it is due. */
  authorization(): Promise<string>;
  /** Every credential value known now, for scrubbing from messages. */
  secrets(): string[];
  /** Runs the call; a 401 renews the access token and runs it once more. */
  renewingOn401<T extends { ok: boolean; status?: number }>(call: () => Promise<T>): Promise<T>;
}

export interface StableRefreshAuthOptions extends Omit<OAuthTokenEndpointOptions, 'clientSecret'> {
  readonly clientSecret?: string;
  /** The token set as the secret held it when the connector was built. */
  readonly tokens: TokenSet;
  /** Renew this long before expiry. @default 60_000 */
  readonly refreshMarginMs?: number;
}

/**
 * The bearer credential of an OAuth connection whose refresh token does NOT rotate (HubSpot;
 * Salesforce unless the app turns rotation on): every process renews its own access token with
 * the same refresh token, concurrent callers in one process sharing one renewal. Nothing is
 * written back: another writer's renewal leaves this one's tokens valid, so no lease is needed
 * (a vendor that rotates needs RefreshTokenAuth and its lease instead). A rejected refresh token is
 * `<PREFIX>_INVALID_GRANT`: an auth refusal, the sync pauses until `writeback connect` again.
 */
export class StableRefreshAuth implements BearerSource {
  private readonly opts: StableRefreshAuthOptions;
  private readonly endpoint: OAuthTokenEndpoint;
  private readonly now: () => number;
  private tokens: TokenSet;
  private refused: string | undefined;
  private pending: Promise<TokenSet> | undefined;

  public constructor(opts: StableRefreshAuthOptions) {
    const { clientSecret, tokens: _tokens, refreshMarginMs: _margin, ...endpoint } = opts;
    this.opts = opts;
    this.endpoint = new OAuthTokenEndpoint({
      ...endpoint,
      ...(clientSecret ? { clientSecret: new Secret(clientSecret) } : {}),
    });
    this.now = opts.now ?? Date.now;
    this.tokens = opts.tokens;
  }

  public async authorization(): Promise<string> {
    return `Bearer ${await this.accessToken()}`;
  }

  public secrets(): string[] {
    return [this.tokens.accessToken, this.tokens.refreshToken, this.opts.clientSecret ?? ''];
  }

  public async renewingOn401<T extends { ok: boolean; status?: number }>(call: () => Promise<T>): Promise<T> {
    const used = await this.accessToken().catch(() => undefined);
    const res = await call();
    if (used === undefined || !res.ok || res.status !== 401) return res;
    this.refused = used;
    return call();
  }

  private async accessToken(): Promise<string> {
    const t = this.tokens;
    const margin = this.opts.refreshMarginMs ?? 60_000;
    if (t.accessToken && t.accessToken !== this.refused && t.expiresAt - margin > this.now())
      return t.accessToken;
    this.pending ??= this.endpoint.refresh(t.refreshToken).finally(() => {
      this.pending = undefined;
    });
    this.tokens = await this.pending;
    return this.tokens.accessToken;
  }
}

/**
 * The credential of a connection `writeback connect --oauth` stored (a refresh token and the client
 * it was issued to), or undefined when its secret holds none.
 */
export function stableRefreshFrom(
  creds: Readonly<Record<string, string | undefined>>,
  endpoint: Omit<StableRefreshAuthOptions, 'tokens' | 'clientId' | 'clientSecret'>,
): StableRefreshAuth | undefined {
  const tokens = tokenSetOf(creds);
  if (!tokens || !creds.clientId) return undefined;
  return new StableRefreshAuth({
    ...endpoint,
    clientId: creds.clientId,
    ...(creds.clientSecret ? { clientSecret: creds.clientSecret } : {}),
    tokens,
  });
}

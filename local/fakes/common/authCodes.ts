import { createHash, randomBytes } from 'node:crypto';
import type { Reply } from './FakeServer.ts';

/** What a user consented to: the app and the scopes, carried from the code to its tokens. */
export interface ConsentGrant {
  readonly clientId: string;
  readonly scope: string;
}

interface PendingCode {
  readonly grant: ConsentGrant;
  readonly redirectUri: string;
  readonly challenge: string | undefined;
  readonly expiresAt: number;
}

/**
 * The authorization codes of a vendor fake's authorize endpoint (RFC 6749 §4.1, PKCE RFC 7636):
 * each good once, within its lifetime, for the client and redirect URI it was issued to, and with
 * a challenge only for the verifier whose S256 it is.
 */
export class AuthCodes {
  private readonly pending = new Map<string, PendingCode>();
  private readonly now: () => number;
  private readonly ttlMs: number;

  public constructor(now: () => number, ttlMs = 5 * 60_000) {
    this.now = now;
    this.ttlMs = ttlMs;
  }

  /** A new code for this consent. */
  public issue(grant: ConsentGrant, redirectUri: string, challenge: string | undefined): string {
    const code = opaqueToken('code-');
    this.pending.set(code, { grant, redirectUri, challenge, expiresAt: this.now() + this.ttlMs });
    return code;
  }

  /** The consent behind a code, used up now; undefined when the code is unknown, used, expired or not this client's. */
  public redeem(
    code: string,
    clientId: string,
    redirectUri: string | null,
    verifier: string | null,
  ): ConsentGrant | undefined {
    const found = this.pending.get(code);
    this.pending.delete(code);
    if (!found || found.expiresAt <= this.now() || found.grant.clientId !== clientId) return undefined;
    if (found.redirectUri !== redirectUri) return undefined;
    if (found.challenge !== undefined) {
      const s256 = createHash('sha256')
        .update(verifier ?? '')
        .digest('base64url');
      if (s256 !== found.challenge) return undefined;
    }
    return found.grant;
  }
}

/** A redirect URI a loopback client may use when the app registered none: http on 127.0.0.1 or localhost. */
export function isLoopbackUri(uri: string): boolean {
  try {
    const { protocol, hostname } = new URL(uri);
    return protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(hostname);
  } catch {
    return false;
  }
}

/** The 302 back to the client with `params` and the request's state. */
export function redirectBack(
  redirectUri: string,
  params: Record<string, string>,
  state: string | undefined,
): Reply {
  const target = new URL(redirectUri);
  for (const [name, value] of Object.entries({ ...params, ...(state === undefined ? {} : { state }) }))
    target.searchParams.set(name, value);
  return { status: 302, text: '', headers: { Location: target.toString() } };
}

/** A random token with a vendor-looking prefix. */
export function opaqueToken(prefix: string): string {
  return `${prefix}${randomBytes(24).toString('base64url')}`;
}

import { TargetError } from '../../errors.ts';
import type { TokenSet } from '../../oauth/TokenSet.ts';
import { parseJson } from './HttpClient.ts';
import { postTokenForm } from './postTokenForm.ts';
import { redact } from './redact.ts';
import type { Secret } from './Secret.ts';

export interface OAuthTokenEndpointOptions {
  /** e.g. https://identity.xero.com/connect/token */
  readonly tokenUrl: string;
  readonly clientId: string;
  /** Absent for a PKCE app (a public client: client_id in the form, no secret). */
  readonly clientSecret?: Secret;
  /** How a confidential client authenticates: HTTP Basic (Xero) or the form. @default 'basic' */
  readonly clientAuth?: 'basic' | 'body';
  /** Error code prefix and product name for messages (XERO, Xero). */
  readonly codePrefix: string;
  readonly vendor: string;
  /** Names the connection in what to do about a rejected refresh token. */
  readonly connection?: string;
  /**
   * Whether a 4xx answer rejects the code or refresh token itself (RFC 6749 `invalid_grant`; HubSpot
   * answers `{"status":"BAD_REFRESH_TOKEN"}` instead). @default body.error === 'invalid_grant'
   */
  readonly invalidGrant?: (body: Readonly<Record<string, unknown>>) => boolean;
  /** @default globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
  /** @default 15_000 */
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

interface TokenAnswer {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  scope?: string;
  error?: string;
  error_description?: string;
  /** HubSpot's error bodies name the error here (BAD_REFRESH_TOKEN, BAD_CLIENT_ID…). */
  status?: string;
}

/**
 * An OAuth 2.0 token endpoint's authorization_code and refresh_token grants (RFC 6749 §4.1.3, §6;
 * PKCE RFC 7636). Answers become a TokenSet; failures a TargetError:
 * `<PREFIX>_INVALID_GRANT` (400 invalid_grant: the code or refresh token is revoked, expired or
 * already used: permanent, an auth refusal that needs `writeback connect` again),
 * `<PREFIX>_UNAUTHORIZED` (invalid_client and other 4xx: the client id or secret is wrong), and
 * `<PREFIX>_AUTH_UNAVAILABLE` (429, 5xx, no answer: retryable; a refresh whose answer was lost can be
 * retried with the same refresh token where the vendor keeps a grace period, as Xero does).
 */
export class OAuthTokenEndpoint {
  private readonly opts: OAuthTokenEndpointOptions;

  public constructor(opts: OAuthTokenEndpointOptions) {
    this.opts = opts;
  }

  /** Exchanges an authorization code (with its PKCE verifier) for the first token set. */
  public exchangeCode(code: string, redirectUri: string, codeVerifier?: string): Promise<TokenSet> {
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri });
    if (codeVerifier) form.set('code_verifier', codeVerifier);
    return this.grant(form, undefined);
  }

  /** The next token set; a vendor that does not rotate keeps the refresh token given. */
  public refresh(refreshToken: string): Promise<TokenSet> {
    return this.grant(
      new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
      refreshToken,
    );
  }

  private async grant(form: URLSearchParams, refreshToken: string | undefined): Promise<TokenSet> {
    const { clientId, clientSecret, codePrefix, vendor } = this.opts;
    const secret = clientSecret?.reveal();
    const basic = secret === undefined ? undefined : Buffer.from(`${clientId}:${secret}`).toString('base64');
    const scrub = [secret ?? '', basic ?? '', refreshToken ?? '', form.get('code') ?? ''];
    const inBody = secret === undefined || this.opts.clientAuth === 'body';
    if (inBody) {
      form.set('client_id', clientId);
      if (secret !== undefined) form.set('client_secret', secret);
    }
    const started = (this.opts.now ?? Date.now)();
    const { res, text } = await postTokenForm({
      tokenUrl: this.opts.tokenUrl,
      form,
      basic: inBody ? undefined : basic,
      vendor,
      codePrefix,
      scrub,
      fetch: this.opts.fetch,
      timeoutMs: this.opts.timeoutMs,
    });
    const body = parseJson<TokenAnswer>(text);
    if (res.ok && typeof body?.access_token === 'string') {
      const next = body.refresh_token ?? refreshToken;
      if (!next) {
        throw new TargetError(
          `${codePrefix}_UNAUTHORIZED`,
          `${vendor} issued no refresh token: ask for the offline_access scope`,
          { disposition: 'permanent', httpStatus: res.status },
        );
      }
      return {
        accessToken: body.access_token,
        refreshToken: next,
        // Counted from before the call: the token may have been stamped any time after it started.
        expiresAt: started + Number(body.expires_in ?? 1800) * 1000,
        ...(body.scope ? { scope: body.scope } : {}),
      };
    }
    if (res.status === 429 || res.status >= 500) {
      throw new TargetError(
        `${codePrefix}_AUTH_UNAVAILABLE`,
        `${vendor} token endpoint answered ${res.status}; retried later`,
        { disposition: 'retryable', httpStatus: res.status },
      );
    }
    const rejected = body
      ? (this.opts.invalidGrant ?? ((b) => b.error === 'invalid_grant'))(body as Record<string, unknown>)
      : false;
    if (rejected) {
      const what = refreshToken ? 'the refresh token' : 'the authorization code';
      const reconnect = this.opts.connection
        ? `run \`writeback connect ${this.opts.connection}\` again`
        : 'connect the account again (`writeback connect`)';
      throw new TargetError(
        `${codePrefix}_INVALID_GRANT`,
        `${vendor} rejected ${what} (invalid_grant: revoked, expired, or rotated and no longer accepted); ${reconnect}`,
        { disposition: 'permanent', httpStatus: res.status },
      );
    }
    throw new TargetError(
      `${codePrefix}_UNAUTHORIZED`,
      redact(
        `${vendor} token endpoint refused the client (${res.status}${body?.error || body?.status ? ` ${body.error ?? body.status}` : ''}); check the client id and secret`,
        scrub,
      ),
      { disposition: 'permanent', httpStatus: res.status },
    );
  }
}

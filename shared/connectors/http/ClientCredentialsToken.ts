import { TargetError } from '../../errors.ts';
import { parseJson } from './HttpClient.ts';
import { postTokenForm } from './postTokenForm.ts';
import { redact } from './redact.ts';
import type { Secret } from './Secret.ts';

export interface ClientCredentialsTokenOptions {
  /** Token endpoint, e.g. https://identity.xero.com/connect/token. */
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: Secret;
  /** How the client authenticates: HTTP Basic (Xero) or client_id/client_secret in the form (Salesforce). @default 'basic' */
  readonly clientAuth?: 'basic' | 'body';
  /** Token lifetime when the answer has no expires_in (Salesforce). @default 1800 */
  readonly defaultTtlSeconds?: number;
  /** Space-separated scopes to ask for; omitted when undefined (the app's configured scopes). */
  readonly scope?: string;
  /** Error code prefix and product name for messages. */
  readonly codePrefix: string;
  readonly vendor: string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
  /** @default 15_000 */
  readonly timeoutMs?: number;
  /** Refresh this long before the token expires. @default 60_000 */
  readonly refreshMarginMs?: number;
  readonly now?: () => number;
}

/**
 * An OAuth 2.0 client-credentials access token (RFC 6749 §4.4), fetched on first use, shared by
 * concurrent callers while it is being fetched, and renewed shortly before it expires or when the
 * API says it is no longer valid (`invalidate`). Used for machine-to-machine connections such as
 * Xero custom connections, whose tokens live 30 minutes.
 */
export class ClientCredentialsToken {
  private readonly opts: ClientCredentialsTokenOptions;
  private readonly now: () => number;
  private token: { value: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;

  public constructor(opts: ClientCredentialsTokenOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  /** The current token value, for redaction. */
  public current(): string | undefined {
    return this.token?.value;
  }

  /** Forgets the token, so that the next get() fetches a fresh one (after a 401). */
  public invalidate(): void {
    this.token = undefined;
  }

  public async get(): Promise<string> {
    const margin = this.opts.refreshMarginMs ?? 60_000;
    if (this.token && this.token.expiresAt - margin > this.now()) return this.token.value;
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchToken(): Promise<string> {
    const { clientId, clientSecret, codePrefix, vendor } = this.opts;
    const secret = clientSecret.reveal();
    const basic = Buffer.from(`${clientId}:${secret}`).toString('base64');
    // A secret sent in the form travels URL-encoded: scrub that spelling too.
    const scrub = [secret, basic, encodeURIComponent(secret)];
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.opts.scope) form.set('scope', this.opts.scope);
    const inBody = this.opts.clientAuth === 'body';
    if (inBody) {
      form.set('client_id', clientId);
      form.set('client_secret', secret);
    }
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
    const body = parseJson<{ access_token?: string; expires_in?: number; error?: string }>(text);
    if (res.ok && typeof body?.access_token === 'string') {
      const ttl = Number(body.expires_in ?? this.opts.defaultTtlSeconds ?? 1800) * 1000;
      this.token = { value: body.access_token, expiresAt: this.now() + ttl };
      return body.access_token;
    }
    const transient = res.status === 429 || res.status >= 500;
    throw new TargetError(
      transient ? `${codePrefix}_AUTH_UNAVAILABLE` : `${codePrefix}_UNAUTHORIZED`,
      redact(
        `${vendor} refused the client credentials (${res.status}${body?.error ? ` ${body.error}` : ''}); ` +
          'check the client id and secret in the connection secret',
        scrub,
      ),
      { disposition: transient ? 'retryable' : 'permanent', httpStatus: res.status },
    );
  }
}

import { ClientCredentialsToken, type ClientCredentialsTokenOptions } from './ClientCredentialsToken.ts';
import { Secret } from './Secret.ts';

/** How a connection proves itself: an access token as is, or a client-credentials pair. */
export interface BearerCredentials {
  readonly accessToken?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
}

/** The vendor's token endpoint: everything a ClientCredentialsToken needs but the pair itself. */
export type TokenEndpoint = Omit<ClientCredentialsTokenOptions, 'clientId' | 'clientSecret'>;

/**
 * The `Authorization: Bearer` credential of a connection: an access token used as is (tests,
 * short jobs), or a token fetched with client credentials and renewed when the API turns it down.
 */
export class BearerAuth {
  private readonly accessToken: Secret | undefined;
  private readonly clientSecret: Secret | undefined;
  private readonly token: ClientCredentialsToken | undefined;

  /** `owner` names the connector in the error thrown when neither kind of credential is given. */
  public constructor(owner: string, creds: BearerCredentials, endpoint: TokenEndpoint) {
    if (!creds.accessToken && !(creds.clientId && creds.clientSecret)) {
      throw new Error(`${owner}: give accessToken, or clientId and clientSecret`);
    }
    this.accessToken = creds.accessToken ? new Secret(creds.accessToken) : undefined;
    this.clientSecret = creds.clientSecret ? new Secret(creds.clientSecret) : undefined;
    if (!this.accessToken && creds.clientId && this.clientSecret) {
      this.token = new ClientCredentialsToken({
        ...endpoint,
        clientId: creds.clientId,
        clientSecret: this.clientSecret,
      });
    }
  }

  /** The Authorization header's value, fetching a token first when there is none yet. */
  public async authorization(): Promise<string> {
    return `Bearer ${this.accessToken?.reveal() ?? (await this.token!.get())}`;
  }

  /** Every credential value known now, for scrubbing from messages. */
  public secrets(): string[] {
    return [this.accessToken?.reveal() ?? '', this.token?.current() ?? '', this.clientSecret?.reveal() ?? ''];
  }

  /** With client credentials, a 401 means the token expired early: fetch a new one and try once more. */
  public async renewingOn401<T extends { ok: boolean; status?: number }>(call: () => Promise<T>): Promise<T> {
    const res = await call();
    if (this.token && res.ok && res.status === 401) {
      this.token.invalidate();
      return call();
    }
    return res;
  }
}

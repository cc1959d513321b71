import { TargetError } from '../../errors.ts';
import { redact } from './redact.ts';

/** One form POST to an OAuth token endpoint, as every grant of ours sends it. */
export interface TokenFormRequest {
  readonly tokenUrl: string;
  readonly form: URLSearchParams;
  /** `client_id:client_secret` in base64 for the Authorization header; undefined: the client is in the form. */
  readonly basic: string | undefined;
  readonly vendor: string;
  readonly codePrefix: string;
  /** Secrets to take out of an error message (the client secret, a refresh token, a code). */
  readonly scrub: readonly string[];
  readonly fetch?: typeof globalThis.fetch | undefined;
  readonly timeoutMs?: number | undefined;
}

/**
 * Posts the form and reads the answer's text. No answer at all (a reset, a timeout) is
 * `<PREFIX>_AUTH_UNAVAILABLE`, retryable, with the secrets scrubbed from the message; what the
 * answer says is the caller's to read.
 */
export async function postTokenForm(req: TokenFormRequest): Promise<{ res: Response; text: string }> {
  try {
    const res = await (req.fetch ?? globalThis.fetch)(req.tokenUrl, {
      method: 'POST',
      headers: {
        ...(req.basic === undefined ? {} : { Authorization: `Basic ${req.basic}` }),
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      },
      body: req.form,
      signal: AbortSignal.timeout(req.timeoutMs ?? 15_000),
    });
    return { res, text: await res.text() };
  } catch (err) {
    throw new TargetError(
      `${req.codePrefix}_AUTH_UNAVAILABLE`,
      redact(`${req.vendor} token endpoint failed before an answer: ${String(err)}`, req.scrub),
      { disposition: 'retryable', cause: err },
    );
  }
}

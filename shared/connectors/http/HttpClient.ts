import { setTimeout as sleep } from 'node:timers/promises';
import { TargetError } from '../../errors.ts';
import { type Permit, type RateLimiter, RateLimitWaitTooLongError } from './RateLimiter.ts';
import { redact } from './redact.ts';
import { parseRetryAfterMs } from './retryAfter.ts';

/**
 * In-connector retries. They are few and short on purpose: the write protocol already retries
 * through SQS with backoff (batchItemFailures), so a retry here only saves a round trip through
 * the queue for a blip (a reset socket, a 502, a 429 with a short Retry-After). Anything slower
 * goes back to the queue with its retryAfter.
 */
export interface RetryPolicy {
  /** Further attempts after the first. @default 2 */
  readonly maxRetries: number;
  /** First backoff step; full jitter over an exponential. @default 200 */
  readonly baseDelayMs: number;
  /** @default 2_000 */
  readonly maxDelayMs: number;
  /** A wait longer than this (Retry-After, a penalty) is not spent inline. @default 5_000 */
  readonly maxInlineWaitMs: number;
  /** Retry a call that timed out (it may have been applied; only replay-safe calls). @default false */
  readonly retryTimeouts: boolean;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxRetries: 2,
  baseDelayMs: 200,
  maxDelayMs: 2_000,
  maxInlineWaitMs: 5_000,
  retryTimeouts: false,
};

/** An answer as the connector sees it, after the retries. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query, appended to the base URL. */
  readonly path: string;
  /** Serialised as JSON; a string or URLSearchParams is sent as is. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Sending the same request twice has the effect of sending it once (reads, upserts by an
   * external id, creates carrying an idempotency key). Only such calls are retried after a
   * failure that may have been applied. @default true for GET, false otherwise
   */
  readonly replaySafe?: boolean;
  /** `METHOD /path` without ids or query, for messages. @default method + path without query */
  readonly route?: string;
  /** Draw no permit from the rate limiter (an auth call that does not count against the API's limits). */
  readonly unlimited?: boolean;
}

/** What one request produced: an answer (any status), or a failure before any answer. */
export type HttpResult =
  | ({ readonly ok: true; readonly attempts: number } & HttpResponse)
  | { readonly ok: false; readonly error: TargetError; readonly attempts: number };

/** Counters for metrics and the benchmark. */
export interface HttpStats {
  requests: number;
  retries: number;
  rateLimited: number;
  timeouts: number;
  networkErrors: number;
  /** Calls refused locally because the limiter would have held them longer than maxLimiterWaitMs. */
  limiterRejections: number;
}

export interface HttpClientOptions {
  /** Product name for messages: 'Xero'. */
  readonly vendor: string;
  /** Prefix of the error codes: 'XERO' → XERO_TIMEOUT, XERO_NETWORK_ERROR, XERO_RATE_LIMITED. */
  readonly codePrefix: string;
  readonly baseUrl: string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
  /** Per attempt, body included. @default 30_000 */
  readonly timeoutMs?: number;
  /** Headers carrying credentials, computed per attempt (a token may be refreshed). */
  readonly authHeaders?: () => Promise<Readonly<Record<string, string>>> | Readonly<Record<string, string>>;
  /** Values to scrub from every message (tokens, keys); read at the time of the message. */
  readonly secrets?: () => readonly string[];
  readonly limiter?: RateLimiter;
  /** Longest wait for a permit before the call is handed back as rate limited. @default 10_000 */
  readonly maxLimiterWaitMs?: number;
  /** false: never retry here. */
  readonly retry?: Partial<RetryPolicy> | false;
  /** Whether an answer is a transient failure. @default 408, 425, 429, 500, 502, 503, 504 */
  readonly isRetryable?: (res: HttpResponse) => boolean;
  /**
   * How long the target asks us to wait after this answer, in ms: Retry-After by default; a
   * vendor adds its own signals (HubSpot's policyName, Salesforce's REQUEST_LIMIT_EXCEEDED).
   */
  readonly retryAfterMs?: (res: HttpResponse, now: number) => number | undefined;
  /**
   * Whether an answer says a rate limit was hit: it pauses every caller of the limiter and may
   * always be resent. @default status 429 (Salesforce adds its 403 REQUEST_LIMIT_EXCEEDED)
   */
  readonly isThrottled?: (res: HttpResponse) => boolean;
  /** Sees every answer (rate-limit headers feeding the limiter, token expiry…). */
  readonly onResponse?: (res: HttpResponse) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Whether a status is transient by HTTP's own meaning. */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE.has(status);
}

/**
 * The one HTTP layer of every SaaS connector: a timeout per attempt (AbortSignal, body
 * included), a permit from the connection's rate limiter per attempt, a 429 pausing every caller
 * of that limiter, a few short retries with full-jitter backoff for transient failures of
 * replay-safe calls, Retry-After honoured, and errors before an answer turned into retryable
 * TargetErrors with every secret scrubbed. Answers are returned as they are (any status): the
 * connector classifies them, since only it knows its vendor's error bodies.
 */
export class HttpClient {
  public readonly limiter: RateLimiter | undefined;
  private readonly opts: HttpClientOptions;
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly counters: HttpStats = {
    requests: 0,
    retries: 0,
    rateLimited: 0,
    timeouts: 0,
    networkErrors: 0,
    limiterRejections: 0,
  };

  public constructor(opts: HttpClientOptions) {
    this.opts = opts;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.retry =
      opts.retry === false ? { ...DEFAULT_RETRY, maxRetries: 0 } : { ...DEFAULT_RETRY, ...opts.retry };
    this.limiter = opts.limiter;
    this.sleep = opts.sleep ?? sleep;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
  }

  public stats(): HttpStats {
    return { ...this.counters };
  }

  /** Scrubs this client's secrets (and any credential-looking text) from a message. */
  public redact(text: string): string {
    return redact(text, this.opts.secrets?.() ?? []);
  }

  /** Sends the request, retrying transient failures within the policy. Never throws. */
  public async request(req: HttpRequest): Promise<HttpResult> {
    const route = req.route ?? `${req.method} ${req.path.split('?')[0]}`;
    const replaySafe = req.replaySafe ?? req.method === 'GET';
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(req, route);
      const more = attempt <= this.retry.maxRetries;
      if (!outcome.ok) {
        const timedOut = outcome.error.code.endsWith('_TIMEOUT');
        const again =
          more && outcome.resend && (timedOut ? this.retry.retryTimeouts && replaySafe : replaySafe);
        if (!again) return { ok: false, error: outcome.error, attempts: attempt };
        await this.sleep(this.backoff(attempt));
      } else {
        const res = outcome.res;
        const retryable = (this.opts.isRetryable ?? ((r) => isRetryableStatus(r.status)))(res);
        if (!retryable) return { ok: true, attempts: attempt, ...res };
        const askedMs = (this.opts.retryAfterMs ?? defaultRetryAfterMs)(res, this.now());
        const throttled = (this.opts.isThrottled ?? ((r) => r.status === 429))(res);
        if (throttled) {
          this.counters.rateLimited++;
          // Every caller of this connection waits, not just this one.
          this.limiter?.penalize(askedMs ?? 1_000, 'penalty (429)');
        }
        const wait = Math.max(askedMs ?? 0, this.backoff(attempt));
        // A throttled call was refused before any processing: resending it is always safe.
        const again = more && (throttled || replaySafe) && wait <= this.retry.maxInlineWaitMs;
        if (!again) return { ok: true, attempts: attempt, ...res };
        // With a limiter the penalty above already holds the next permit back.
        if (!(throttled && this.limiter)) await this.sleep(wait);
      }
      this.counters.retries++;
    }
  }

  private backoff(attempt: number): number {
    const cap = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(this.random() * cap);
  }

  private async attempt(
    req: HttpRequest,
    route: string,
  ): Promise<{ ok: true; res: HttpResponse } | { ok: false; error: TargetError; resend: boolean }> {
    let permit: Permit | undefined;
    if (this.limiter && !req.unlimited) {
      try {
        permit = await this.limiter.acquire({ maxWaitMs: this.opts.maxLimiterWaitMs ?? 10_000 });
      } catch (err) {
        if (!(err instanceof RateLimitWaitTooLongError)) throw err;
        this.counters.limiterRejections++;
        const error = new TargetError(
          `${this.opts.codePrefix}_RATE_LIMITED`,
          `${this.opts.vendor} ${route} not sent: ${err.message} (our own pacing, no call was made)`,
          { disposition: 'retryable', retryAfterSeconds: Math.max(1, Math.ceil(err.waitMs / 1000)) },
        );
        return { ok: false, error, resend: false };
      }
    }
    this.counters.requests++;
    try {
      const auth = (await this.opts.authHeaders?.()) ?? {};
      const isRaw = typeof req.body === 'string' || req.body instanceof URLSearchParams;
      const res = await this.fetchImpl(`${this.baseUrl}${req.path}`, {
        method: req.method,
        headers: {
          Accept: 'application/json',
          ...(req.body === undefined || isRaw ? {} : { 'Content-Type': 'application/json' }),
          ...auth,
          ...(req.headers ?? {}),
        },
        ...(req.body === undefined
          ? {}
          : { body: isRaw ? (req.body as string | URLSearchParams) : JSON.stringify(req.body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      const answer = { status: res.status, headers: res.headers, text };
      this.opts.onResponse?.(answer);
      return { ok: true, res: answer };
    } catch (err) {
      if (err instanceof TargetError) return { ok: false, error: err, resend: false };
      return { ok: false, error: this.classifyThrown(err, route), resend: true };
    } finally {
      permit?.release();
    }
  }

  /** A failure before any answer: the call may or may not have been applied. */
  private classifyThrown(err: unknown, route: string): TargetError {
    const { vendor, codePrefix } = this.opts;
    const name = err instanceof Error ? err.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') {
      this.counters.timeouts++;
      return new TargetError(
        `${codePrefix}_TIMEOUT`,
        `${vendor} did not answer ${route} within ${this.timeoutMs} ms; the write may or may not have happened`,
        { disposition: 'retryable' },
      );
    }
    this.counters.networkErrors++;
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : undefined;
    const code = (cause as (Error & { code?: string }) | undefined)?.code;
    const detail = [err instanceof Error ? err.message : String(err), code ?? cause?.message]
      .filter(Boolean)
      .join(': ');
    return new TargetError(
      `${codePrefix}_NETWORK_ERROR`,
      this.redact(`${vendor} ${route} failed before an answer (${detail})`),
      { disposition: 'retryable' },
    );
  }
}

/** Retry-After, when the answer carries one. */
export function defaultRetryAfterMs(res: HttpResponse, now: number): number | undefined {
  return parseRetryAfterMs(res.headers.get('retry-after'), now);
}

/** Parses a JSON body, or undefined when it is not JSON. */
export function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

import type { ConnectorMetrics } from '../Connector.ts';
import { HttpClient, type HttpClientOptions, type RetryPolicy } from './HttpClient.ts';
import { RateLimiter, type RateLimitSpec } from './RateLimiter.ts';

/** Transport options every HTTP connector takes, with the same meaning in each. */
export interface HttpConnectorOptions {
  /** Connectors sharing a key share one limiter in this process. @default per connector: its account, tenant or org */
  readonly limiterKey?: string;
  /** In-connector retries of blips (see RetryPolicy), or false. */
  readonly retry?: Partial<RetryPolicy> | false;
  /** Per-call timeout, body included. @default 30_000 */
  readonly timeoutMs?: number;
  /** Longest wait for a rate-limit slot before handing records back to the queue. @default 10_000 */
  readonly maxLimiterWaitMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
}

/** What a connector knows of its vendor's API; the user's HttpConnectorOptions fill in the rest. */
export interface VendorHttp
  extends Omit<HttpClientOptions, 'fetch' | 'limiter' | 'maxLimiterWaitMs' | 'retry' | 'timeoutMs'> {
  /** The limits to pace by; undefined paces nothing. */
  readonly rateLimit: RateLimitSpec | undefined;
  /** What the vendor counts its limits per, when the options name no limiterKey. */
  readonly defaultLimiterKey: string;
  /** @default 30_000 */
  readonly defaultTimeoutMs?: number;
  /**
   * Every write carries an idempotency key, so a call that timed out may be sent again: timeouts
   * are retried unless the options say otherwise.
   */
  readonly idempotentWrites?: boolean;
}

/** The HttpClient of a connector, pacing by a limiter shared with every connector of the same key. */
export function connectorHttpClient(opts: HttpConnectorOptions, vendor: VendorHttp): HttpClient {
  const { rateLimit, defaultLimiterKey, defaultTimeoutMs, idempotentWrites, ...client } = vendor;
  return new HttpClient({
    ...client,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    timeoutMs: opts.timeoutMs ?? defaultTimeoutMs ?? 30_000,
    ...(rateLimit ? { limiter: RateLimiter.shared(opts.limiterKey ?? defaultLimiterKey, rateLimit) } : {}),
    maxLimiterWaitMs: opts.maxLimiterWaitMs ?? 10_000,
    retry:
      opts.retry === false ? false : idempotentWrites ? { retryTimeouts: true, ...opts.retry } : opts.retry,
  });
}

/** A connector's transport counters: its client's and its limiter's. */
export function connectorMetrics(http: HttpClient): ConnectorMetrics {
  return { http: http.stats(), limiter: http.limiter?.stats() };
}

import { describe, expect, it } from 'vitest';
import { HttpClient, type HttpClientOptions } from '../../../../shared/connectors/http/HttpClient.ts';
import { RateLimiter } from '../../../../shared/connectors/http/RateLimiter.ts';
import { redact } from '../../../../shared/connectors/http/redact.ts';
import { parseRetryAfterMs } from '../../../../shared/connectors/http/retryAfter.ts';
import { Secret } from '../../../../shared/connectors/http/Secret.ts';

type Step = Response | Error;

/** A fetch that answers from a script and records what it was sent. */
function scripted(steps: Step[]) {
  const sent: { url: string; init: RequestInit | undefined }[] = [];
  const fetch = (async (url: string, init?: RequestInit) => {
    sent.push({ url, init });
    const step = steps.shift();
    if (step === undefined) throw new Error('script exhausted');
    if (step instanceof Error) throw step;
    return step;
  }) as unknown as typeof globalThis.fetch;
  return { fetch, sent };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

function client(fetch: typeof globalThis.fetch, extra: Partial<HttpClientOptions> = {}): HttpClient {
  return new HttpClient({
    vendor: 'Acme',
    codePrefix: 'ACME',
    baseUrl: 'https://api.acme.test/',
    fetch,
    sleep: async () => undefined,
    random: () => 0.5,
    ...extra,
  });
}

describe('Class: HttpClient', () => {
  describe('Method: request', () => {
    it('returns a 400 as it came, after one attempt', async () => {
      // Prepare
      const { fetch, sent } = scripted([json(400, { error: 'bad' })]);

      // Act
      const res = await client(fetch).request({ method: 'POST', path: '/things', body: { a: 1 } });

      // Assess
      expect(res).toMatchObject({ ok: true, status: 400, attempts: 1 });
      expect(sent[0]?.url).toBe('https://api.acme.test/things');
      expect(sent[0]?.init?.body).toBe('{"a":1}');
    });

    it('retries a 502 on a replay-safe call and returns the later answer', async () => {
      // Prepare
      const { fetch } = scripted([new Response('<html>Bad Gateway</html>', { status: 502 }), json(200, {})]);

      // Act
      const res = await client(fetch).request({ method: 'POST', path: '/upsert', replaySafe: true });

      // Assess
      expect(res).toMatchObject({ ok: true, status: 200, attempts: 2 });
    });

    it('does not retry a 502 on a call that is not replay-safe', async () => {
      const { fetch } = scripted([new Response('', { status: 502 })]);

      const res = await client(fetch).request({ method: 'POST', path: '/create' });

      expect(res).toMatchObject({ ok: true, status: 502, attempts: 1 });
    });

    it('resends a 429 with a short Retry-After even when not replay-safe, and pauses the limiter', async () => {
      // Prepare
      const { fetch } = scripted([json(429, {}, { 'Retry-After': '1' }), json(200, {})]);
      const limiter = new RateLimiter({ windows: [] });

      // Act
      const res = await client(fetch, { limiter }).request({ method: 'POST', path: '/create' });

      // Assess
      expect(res).toMatchObject({ ok: true, status: 200, attempts: 2 });
      expect(limiter.stats()).toMatchObject({ penalties: 1, throttled: 1 });
    });

    it('hands a 429 whose Retry-After exceeds maxInlineWaitMs back at once', async () => {
      const { fetch } = scripted([json(429, {}, { 'Retry-After': '60' })]);

      const http = client(fetch);
      const res = await http.request({ method: 'GET', path: '/x' });

      expect(res).toMatchObject({ ok: true, status: 429, attempts: 1 });
      expect(http.stats()).toMatchObject({ requests: 1, rateLimited: 1, retries: 0 });
    });

    it('classifies a timeout as retryable and does not retry it by default', async () => {
      const { fetch, sent } = scripted([new DOMException('timed out', 'TimeoutError') as unknown as Error]);

      const res = await client(fetch).request({ method: 'GET', path: '/slow' });

      expect(res.ok).toBe(false);
      expect(!res.ok && res.error).toMatchObject({ code: 'ACME_TIMEOUT', disposition: 'retryable' });
      expect(sent).toHaveLength(1);
    });

    it('scrubs the credential from a network error and retries a replay-safe call', async () => {
      // Prepare
      const token = 'tok-very-secret-1234';
      const reset = new TypeError(`fetch failed for Bearer ${token}`, {
        cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      });
      const { fetch } = scripted([reset, reset, reset]);

      // Act
      const res = await client(fetch, { secrets: () => [token] }).request({ method: 'GET', path: '/r' });

      // Assess
      expect(res).toMatchObject({ ok: false, attempts: 3 });
      const error = !res.ok ? res.error : undefined;
      expect(error).toMatchObject({ code: 'ACME_NETWORK_ERROR', disposition: 'retryable' });
      expect(error?.message).toContain('ECONNRESET');
      expect(error?.message).not.toContain(token);
    });

    it('refuses locally, without a call, when the limiter would hold it longer than maxLimiterWaitMs', async () => {
      // Prepare
      const { fetch, sent } = scripted([json(200, {})]);
      const limiter = new RateLimiter({ windows: [{ name: 'day', limit: 1, intervalMs: 86_400_000 }] });
      (await limiter.acquire()).release();

      // Act
      const res = await client(fetch, { limiter }).request({ method: 'GET', path: '/x' });

      // Assess
      expect(sent).toHaveLength(0);
      expect(!res.ok && res.error).toMatchObject({
        code: 'ACME_RATE_LIMITED',
        disposition: 'retryable',
        retryAfterSeconds: 86_400,
      });
    });
  });
});

describe('Function: parseRetryAfterMs', () => {
  it('reads delay-seconds and HTTP dates, and ignores garbage', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfterMs('7', now)).toBe(7_000);
    expect(parseRetryAfterMs('Mon, 01 Jan 2024 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfterMs('Sun, 31 Dec 2023 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
  });
});

describe('Function: redact', () => {
  it('removes known secrets and credential-looking tokens', () => {
    const out = redact('Bearer abc.def sk_live_123abc client_secret=hunter22 key=my-known-key', [
      'my-known-key',
    ]);
    expect(out).toBe('Bearer [redacted] sk_live_[redacted] client_secret=[redacted] key=[redacted]');
  });
});

describe('Class: Secret', () => {
  it('prints as [redacted] in strings, JSON and logs', () => {
    const s = new Secret('p4ssw0rd');
    expect(`${s}`).toBe('[redacted]');
    expect(JSON.stringify({ s })).toBe('{"s":"[redacted]"}');
    expect(s.reveal()).toBe('p4ssw0rd');
  });
});

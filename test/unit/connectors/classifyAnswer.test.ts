import { describe, expect, it } from 'vitest';
import { isAuthRefusal } from '../../../shared/connectors/authErrors.ts';
import { classifyAnswer } from '../../../shared/connectors/http/classifyAnswer.ts';

const answer = (status: number, headers: Record<string, string> = {}, text = '') => ({
  status,
  headers: new Headers(headers),
  text,
});
const opts = { vendor: 'Acme', codePrefix: 'ACME', route: 'POST /v1/x', now: 0 };

describe('Function: classifyAnswer', () => {
  it('hands a 429 back as rate limited and retryable, with the wait Retry-After asks', () => {
    const e = classifyAnswer(answer(429, { 'Retry-After': '30' }), opts);

    expect(e).toMatchObject({ code: 'ACME_RATE_LIMITED', disposition: 'retryable', retryAfterSeconds: 30 });
  });

  it('waits at least a second after a 429 without Retry-After', () => {
    expect(classifyAnswer(answer(429), opts).retryAfterSeconds).toBe(1);
  });

  it('takes a 5xx as retryable and a 422 as permanent', () => {
    expect(classifyAnswer(answer(503), opts)).toMatchObject({
      code: 'ACME_SERVER_ERROR',
      disposition: 'retryable',
    });
    expect(classifyAnswer(answer(422, {}, '{"error":"bad email"}'), opts)).toMatchObject({
      code: 'ACME_REFUSED',
      disposition: 'permanent',
    });
  });

  it('names 401 and 403 so the write protocol sees an auth refusal (re-read the secret, then pause)', () => {
    expect(isAuthRefusal(classifyAnswer(answer(401), opts))).toBe(true);
    expect(isAuthRefusal(classifyAnswer(answer(403), opts))).toBe(true);
    expect(isAuthRefusal(classifyAnswer(answer(404), opts))).toBe(false);
  });

  it('retries the statuses a connector lists besides 429 and 5xx (a lock conflict)', () => {
    expect(classifyAnswer(answer(409), { ...opts, retryableStatuses: [409] }).disposition).toBe('retryable');
    expect(classifyAnswer(answer(409), opts).disposition).toBe('permanent');
  });
});

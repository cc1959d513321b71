import { describe, expect, it } from 'vitest';
import { backoffSeconds } from '../../../shared/write/backoff.ts';

describe('Function: backoffSeconds', () => {
  it('grows with the receive count', () => {
    const mid = () => 0.5;
    expect(backoffSeconds(1, undefined, mid)).toBeLessThan(backoffSeconds(4, undefined, mid));
    expect(backoffSeconds(4, undefined, mid)).toBeLessThan(backoffSeconds(8, undefined, mid));
  });
  it('never waits less than Retry-After', () => {
    expect(backoffSeconds(1, 30, () => 0)).toBe(30);
  });
  it('is capped at 15 minutes', () => {
    expect(backoffSeconds(50, undefined, () => 1)).toBe(900);
    expect(backoffSeconds(1, 100_000, () => 1)).toBe(900);
  });
});

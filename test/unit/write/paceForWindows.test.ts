import { describe, expect, it } from 'vitest';
import { paceForWindows } from '../../../shared/write/paceForWindows.ts';

describe('Function: paceForWindows', () => {
  it('paces by the shortest window, not the daily budget', () => {
    // Act
    const pace = paceForWindows([
      { limit: 250_000, intervalMs: 86_400_000 },
      { limit: 100, intervalMs: 10_000 },
    ]);
    // Assess
    expect(pace).toEqual({ requests: 100, perMs: 10_000 });
  });
  it('paces nothing for a target without limits', () => {
    expect(paceForWindows(undefined)).toBeUndefined();
    expect(paceForWindows([])).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { quickbooksDefinition } from '../../../shared/connectors/quickbooks/quickbooksDefinition.ts';
import { paceForWindows } from '../../../shared/write/paceForWindows.ts';

describe('QuickBooks Online: the pace its writers share', () => {
  it('is the batch endpoint’s 40 a minute, since every write call sends one batch', () => {
    // Act
    const pace = paceForWindows(quickbooksDefinition.capabilities.rateLimits?.windows);

    // Assess
    expect(pace).toEqual({ requests: 40, perMs: 60_000 });
    expect(quickbooksDefinition.capabilities.rateLimits?.maxConcurrency).toBe(10);
  });
});

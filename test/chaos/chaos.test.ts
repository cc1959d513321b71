import { describe, expect, it } from 'vitest';
import { runChaosScenario } from './runChaosScenario.ts';

/** Seeds CI runs; a failing one replays with `npm run chaos -- --seed N --records 100`. */
const SEEDS = [1, 2, 3];

describe('Chaos: the write protocol under injected faults', () => {
  it.each(SEEDS)(
    'seed %i: exactly one record per source key with the newest content, or the key in the DLQ with its reason',
    async (seed) => {
      // Act
      const report = await runChaosScenario({ seed, records: 100 });
      // Assess
      const { perSync, faults, ...totals } = report;
      const problems = Object.entries(perSync).flatMap(([sync, c]) => c.problems.map((p) => `${sync} ${p}`));
      expect({ ...totals, problems }).toMatchObject({
        duplicates: 0,
        missing: 0,
        stale: 0,
        unaccounted: 0,
        problems: [],
        pass: true,
      });
      expect(totals.ok + totals.dlq).toBe(totals.keys);
      expect(totals.dlq).toBe(totals.expectedDlq);
      // The storm really happened: crashes at every step, lost answers, storms, stale and duplicate deliveries.
      for (const fault of [
        'crash:received',
        'crash:claimed',
        'crash:written',
        'crash:committed',
        'duplicates',
        'staleDeliveries',
        'storm:429',
        'storm:503',
      ])
        expect(faults[fault], fault).toBeGreaterThan(0);
    },
    120_000,
  );
});

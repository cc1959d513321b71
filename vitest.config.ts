import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration files start their own Postgres and emulators; two at a time fit 2 cores.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report feeds the plain `N passed, N failed` line that .ci/run prints at the end.
    reporters: ['default', ['json', { outputFile: '.wb/test-results.json' }]],
  },
});

import { defineConfig } from 'vitest/config';

/**
 * The link-store and write-protocol tests, run a second time against AWS's own DynamoDB Local
 * (Java): dynalite is fast but is not AWS's engine; these prove the semantics it is trusted for.
 */
const AGAINST_DYNAMODB_LOCAL = [
  'test/integration/links/DynamoLinkStore.test.ts',
  'test/integration/links/linkQueries.test.ts',
  'test/integration/state/DynamoStateStore.test.ts',
  'test/integration/state/DynamoRunStartReader.test.ts',
  'test/integration/write/processWriteBatch.test.ts',
  'test/integration/write/staleReads.test.ts',
  'test/integration/write/revert.test.ts',
  'test/torture/dynamoLimits.test.ts',
];

export default defineConfig({
  test: {
    // Integration files start their own Postgres and emulators; two at a time fit 2 cores.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report feeds the plain `N passed, N failed` line that .ci/run prints at the end.
    reporters: ['default', ['json', { outputFile: '.wb/test-results.json' }]],
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'dynamodb-local',
          include: AGAINST_DYNAMODB_LOCAL,
          env: { WB_DYNAMODB: 'local' },
          globalSetup: ['test/integration/links/dynamoDbLocalSetup.ts'],
        },
      },
    ],
  },
});

import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { VERIFY_WRITES_WITH_READER_WARNING } from '../../infra/WritebackStack.ts';
import { ENV } from '../../shared/contracts/RuntimeEnv.ts';
import { buildStack, syncInput, testConfig } from './stackFixture.ts';
import { resource, roleStatements, type Statement } from './templateQueries.ts';

/**
 * Verification writes to the warehouse with its own credentials (issue 15): the secret named by
 * `warehouse.writerSecret` (a user that owns only the `writeback` schema) reaches the verify
 * function alone; the extract keeps the read-only user. Without it, synth warns.
 */

// Prepare (shared): a sync with verify, one without.
const syncs = [
  syncInput('contacts', { verify: { table: 'hubspot.contacts', externalIdColumn: 'dwh_id' } }),
  syncInput('customers'),
];
const WRITER = 'writeback/dwh-writer';
const withWriter = testConfig(syncs, { warehouse: { secret: 'writeback/dwh', writerSecret: WRITER } });
const withoutWriter = testConfig(syncs);

/** The secrets a role may read, as one string to search. */
function readableSecrets(statements: Statement[]): string {
  return JSON.stringify(
    statements.filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue')),
  );
}

function envOf(template: ReturnType<typeof buildStack>['template'], prefix: string): Record<string, unknown> {
  return (
    resource(template, 'AWS::Lambda::Function', prefix).Properties.Environment as {
      Variables: Record<string, unknown>;
    }
  ).Variables;
}

describe('Warehouse writer secret', () => {
  const { template, stack } = buildStack(withWriter);

  it('lets the verify role read the writer secret and the read-only one, and no extract or write role the writer secret', () => {
    // Assess
    const verify = readableSecrets(roleStatements(template, 'SyncContactsVerifyRole'));
    expect(verify).toContain(`:secret:${WRITER}-??????`);
    expect(verify).toContain(':secret:writeback/dwh-??????');
    for (const role of [
      'SyncContactsExtractRole',
      'SyncContactsWriteRole',
      'SyncCustomersExtractRole',
      'SyncCustomersWriteRole',
    ]) {
      expect([role, readableSecrets(roleStatements(template, role))]).not.toEqual([
        role,
        expect.stringContaining(WRITER),
      ]);
    }
  });

  it('gives the writer secret to the verify function only, as WB_DWH_WRITER_SECRET_ARN', () => {
    // Assess
    expect(JSON.stringify(envOf(template, 'SyncContactsVerifyFunction')[ENV.dwhWriterSecretArn])).toContain(
      `:secret:${WRITER}`,
    );
    for (const fn of [
      'SyncContactsExtractFunction',
      'SyncContactsWriteFunction',
      'SyncCustomersExtractFunction',
      'SyncCustomersWriteFunction',
    ]) {
      expect([fn, envOf(template, fn)[ENV.dwhWriterSecretArn]]).toEqual([fn, undefined]);
    }
    // The extract keeps the read-only user.
    expect(JSON.stringify(envOf(template, 'SyncContactsExtractFunction')[ENV.dwhSecretArn])).toContain(
      ':secret:writeback/dwh',
    );
  });

  it('warns at synth without writerSecret when a sync verifies, and not with it or without verification', () => {
    // Act
    const without = buildStack(withoutWriter).stack;
    const noVerify = buildStack(testConfig([syncInput('customers')])).stack;
    // Assess
    const warning = Match.stringLikeRegexp(
      `No warehouse.writerSecret: verification exports.*${VERIFY_WRITES_WITH_READER_WARNING}`,
    );
    expect(Annotations.fromStack(without).findWarning('*', warning)).toHaveLength(1);
    expect(Annotations.fromStack(stack).findWarning('*', warning)).toHaveLength(0);
    expect(Annotations.fromStack(noVerify).findWarning('*', warning)).toHaveLength(0);
    // Without it, verify has no writer variable: it exports with the reader, as before.
    expect(
      envOf(buildStack(withoutWriter).template, 'SyncContactsVerifyFunction')[ENV.dwhWriterSecretArn],
    ).toBe(undefined);
  });
});

import { describe, expect, it } from 'vitest';
import { ENV, readRuntimeEnv } from '../../../shared/contracts/RuntimeEnv.ts';

describe('Function: readRuntimeEnv', () => {
  const base = { [ENV.stateTable]: 'state', [ENV.linksTable]: 'links', [ENV.sync]: 'contacts' };

  it('names every missing required variable at once', () => {
    expect(() => readRuntimeEnv({})).toThrow(
      /env\.WB_STATE_TABLE: required[\s\S]*env\.WB_LINKS_TABLE: required[\s\S]*env\.WB_SYNC: required/,
    );
  });

  it('reads the extract function contract: queue, warehouse secret, children to run next, mapping fingerprint', () => {
    // Act
    const env = readRuntimeEnv({
      ...base,
      [ENV.queueUrl]: 'https://sqs/q',
      [ENV.dwhSecretArn]: 'arn:secret:dwh',
      [ENV.thenInvoke]: '["child-extract"]',
      [ENV.mappingFingerprint]: '0123456789abcdef',
    });
    // Assess
    expect(env).toMatchObject({
      sync: 'contacts',
      queueUrl: 'https://sqs/q',
      dwhSecretArn: 'arn:secret:dwh',
      thenInvoke: ['child-extract'],
      mappingFingerprint: '0123456789abcdef',
    });
  });

  it("reads the function's own timeout (its Postgres statements stop before it) and refuses a bad one", () => {
    expect(readRuntimeEnv({ ...base, [ENV.functionTimeoutMs]: '60000' }).functionTimeoutMs).toBe(60_000);
    expect(readRuntimeEnv(base).functionTimeoutMs).toBeUndefined();
    expect(() => readRuntimeEnv({ ...base, [ENV.functionTimeoutMs]: '60s' })).toThrow(
      /env\.WB_FUNCTION_TIMEOUT_MS: a positive whole number of milliseconds, not '60s'/,
    );
  });

  it('leaves what a function does not get undefined (no mapping fingerprint: changes are not tracked)', () => {
    const env = readRuntimeEnv(base);
    expect(env).toMatchObject({ queueUrl: undefined, mappingFingerprint: undefined, thenInvoke: [] });
  });
});

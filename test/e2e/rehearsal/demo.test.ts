import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRehearsal } from '../../../local/rehearsal/formatRehearsal.ts';
import { type RehearsalResult, rehearse } from '../../../local/rehearsal/rehearse.ts';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import demoInput from '../../../writeback.config.ts';

const demoConfig = validateConfig(demoInput);

/**
 * `writeback rehearse` on the demo config: synthesized with the project's CDK, every function run
 * from its cdk.out bundle in its own Node 24 process with the template's environment, driven by its
 * schedules and event source mappings, then operated with the CLI in --stack mode.
 */
const workDir = mkdtempSync(join(tmpdir(), 'wb-rehearsal-demo-'));
let result: RehearsalResult;

beforeAll(async () => {
  result = await rehearse({ configPath: 'writeback.config.ts', workDir, customers: 120 });
  if (!result.ok) console.error(formatRehearsal(result).join('\n'));
}, 600_000);
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('deploy rehearsal of the demo config', () => {
  it('passes, with no problem found', () => {
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('drains the demo data through the bundled functions until a schedule round moves nothing', () => {
    expect(result.recordsWritten).toBeGreaterThan(120);
    expect(result.rounds.at(-1)?.enqueued).toBe(0);
    expect(result.rounds[0]?.extractRuns).toBeGreaterThanOrEqual(6);
  });

  it('checks every AWS call the functions, mappings, schedules and CLI make against the template’s policies: none denied', () => {
    expect(result.iam?.calls).toBeGreaterThan(500);
    expect(result.iam?.principals).toBeGreaterThanOrEqual(result.functions.length);
    expect(result.iam?.denied).toEqual([]);
  });

  it('runs every function of the template from its bundle, each within its memory', () => {
    // An extract and a write function per sync (8), a verify function per sync with `verify` (3).
    // An extract and a write function per sync, a verify function per sync that verifies.
    const syncs = demoConfig.syncs;
    expect(result.functions.length).toBe(2 * syncs.length + syncs.filter((s) => s.verify).length);
    for (const f of result.functions) {
      expect(f.bundleKb, f.logicalId).toBeGreaterThan(100);
      expect(f.coldStarts, f.logicalId).toBeGreaterThan(0);
      expect(f.errors, f.logicalId).toBe(0);
    }
  });

  it('operates the rehearsed stack with the CLI through its outputs: status, runs, links, plan, the DLQ round trip, verify', () => {
    const names = result.checks.map((c) => c.name);
    for (const wanted of [
      'writeback status',
      'writeback runs crm-customers',
      'writeback plan crm-customers',
      'writeback dlq list crm-customers (a refused record)',
      'writeback dlq show crm-customers 1',
      'writeback dlq redrive crm-customers --key 1 --wait',
      'writeback links crm-customers 1 (after the redrive)',
      'writeback verify',
      'scheduled verifications',
    ]) {
      expect(names).toContain(wanted);
    }
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
  });
});

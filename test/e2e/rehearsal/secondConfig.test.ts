import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatRehearsal } from '../../../local/rehearsal/formatRehearsal.ts';
import { type RehearsalResult, rehearse } from '../../../local/rehearsal/rehearse.ts';
import { DWH_NETWORK } from '../../infra/stackFixture.ts';

/**
 * The rehearsal of a config other than the demo (`-c config=<path>`), once with a warehouse in a
 * VPC (`dwh*` context) and once with the trial database: the network and the database are not
 * emulated, but the functions, their bundles and their wiring run as deployed.
 */
const CONFIG = 'test/fixtures/rehearsal/second.config.ts';
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function rehearsed(context: Record<string, string>) {
  const workDir = mkdtempSync(join(tmpdir(), 'wb-rehearsal-second-'));
  dirs.push(workDir);
  const result = await rehearse({ configPath: CONFIG, context, workDir, customers: 40 });
  if (!result.ok) console.error(formatRehearsal(result).join('\n'));
  return { result, workDir };
}

describe('deploy rehearsal of a second config', () => {
  it('bundles that config into the functions and runs its syncs with a VPC warehouse (dwh* context)', async () => {
    const { result, workDir } = await rehearsed({
      dwhVpcId: DWH_NETWORK.vpcId,
      dwhSubnetIds: DWH_NETWORK.subnetIds.join(','),
      dwhRouteTableIds: DWH_NETWORK.routeTableIds.join(','),
      dwhSecurityGroupId: DWH_NETWORK.securityGroupId,
    });
    expect(result.problems).toEqual([]);
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.recordsWritten).toBeGreaterThan(40);
    expect(result.notRehearsed.some((n) => n.startsWith('AWS::EC2::VPCEndpoint (not created)'))).toBe(true);
    expect(result.notRehearsed.some((n) => n.startsWith('AWS::Lambda::Function.VpcConfig'))).toBe(true);
    // The bundles carry this config, not the demo's writeback.config.ts.
    const cdkOut = join(workDir, 'cdk.out');
    for (const asset of readdirSync(cdkOut).filter((d) => d.startsWith('asset.'))) {
      const bundle = readFileSync(join(cdkOut, asset, 'index.mjs'), 'utf8');
      expect(bundle).toContain('app-invoices');
      expect(bundle).not.toContain('crm-customers');
    }
  }, 600_000);

  it('runs on the trial database path through `writeback rehearse`, reading the RDS-style secret the stack creates', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'wb-rehearsal-cli-'));
    dirs.push(workDir);
    const { stdout, code } = await new Promise<{ stdout: string; code: number }>((resolve) => {
      execFile(
        process.execPath,
        [
          'cli/main.ts',
          '--json',
          '-c',
          CONFIG,
          'rehearse',
          '--context',
          'trialDatabase=true',
          '--customers',
          '40',
          '--work-dir',
          workDir,
        ],
        { maxBuffer: 64 * 2 ** 20 },
        (err, out) => resolve({ stdout: out, code: err ? Number((err as { code?: number }).code ?? 1) : 0 }),
      );
    });
    const result = JSON.parse(stdout) as RehearsalResult;
    if (!result.ok) console.error(formatRehearsal(result).join('\n'));
    expect(result.problems).toEqual([]);
    expect(code).toBe(0);
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.recordsWritten).toBeGreaterThan(40);
    expect(result.iam?.denied).toEqual([]);
    expect(result.notRehearsed).toContain('AWS::RDS::DBInstance (not created)');
  }, 600_000);
});

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContractTarget } from '../../shared/connectors/index.ts';
import { ACME_FAKE_TOKEN, startAcmeFake } from '../fixtures/userConnector/acmeFake.ts';

const CONFIG = 'test/fixtures/userConnector/writeback.config.ts';

/** Runs `node cli/main.ts -c <fixture config> test-connector …` as a user would. */
const cli = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      ['cli/main.ts', '-c', CONFIG, 'test-connector', ...args],
      { timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });

describe('CLI: writeback test-connector', () => {
  let sandbox: ContractTarget;
  let dir: string;
  beforeAll(async () => {
    sandbox = await startAcmeFake();
    dir = mkdtempSync(join(tmpdir(), 'wb-test-connector-'));
  });
  afterAll(async () => {
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints a pass line per property against the connector's fake and exits 0", async () => {
    const res = await cli('tickets');

    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(/^Acme Tickets \(acme-tickets\) connection 'tickets' against its local fake:/);
    expect(res.stdout.match(/^ {2}PASS {2}/gm)).toHaveLength(9);
    expect(res.stdout).toMatch(/9 passed, 0 failed\n$/);
    expect(res.code).toBe(0);
  });

  it('runs against a sandbox URL with the credentials of --secret-file, skipping what needs injected faults', async () => {
    const secretFile = join(dir, 'sandbox.json');
    writeFileSync(secretFile, JSON.stringify({ token: ACME_FAKE_TOKEN }));

    const res = await cli('tickets', '--against', sandbox.creds.baseUrl!, '--secret-file', secretFile);

    expect(res.stdout.match(/^ {2}PASS {2}/gm)).toHaveLength(7);
    expect(res.stdout.match(/^ {2}SKIP {2}.*needs a fake that can fail on request/gm)).toHaveLength(2);
    expect(res.code).toBe(0);
  });

  it('prints FAIL lines and exits 1 when the sandbox refuses the credentials', async () => {
    const secretFile = join(dir, 'wrong.json');
    writeFileSync(secretFile, JSON.stringify({ token: 'not-the-token' }));

    const res = await cli('tickets', '--against', sandbox.creds.baseUrl!, '--secret-file', secretFile);

    expect(res.stdout).toMatch(
      /^ {2}FAIL {2}upsert creates, then updates the same record: create: expected success, got ACME_UNAUTHORIZED/m,
    );
    expect(res.code).toBe(1);
  });

  it('refuses an unknown connection with a usage error naming the known ones', async () => {
    const res = await cli('nosuch');

    expect(res.stderr).toMatch(/unknown connection 'nosuch' \(known: tickets\)/);
    expect(res.code).toBe(2);
  });
});

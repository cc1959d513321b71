import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileLease } from '../../../shared/oauth/FileLease.ts';
import { FileTokenStore, writeSecretFile } from '../../../shared/oauth/FileTokenStore.ts';
import { tokenSetFields } from '../../../shared/oauth/TokenSet.ts';

const dir = mkdtempSync(join(tmpdir(), 'wb-token-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Class: FileTokenStore (the 0600 file of writeback connect)', () => {
  const path = join(dir, 'xero.json');
  const first = {
    accessToken: 'a1',
    refreshToken: 'r1',
    expiresAt: Date.parse('2026-01-01T00:00:00Z'),
    scope: 's',
  };

  it('reads the token set and the other fields, and replaces it only from the version read', async () => {
    // Prepare
    writeSecretFile(path, tokenSetFields(first, { clientId: 'app', tenantId: 't' }));
    const store = new FileTokenStore(path);
    const read = await store.read();
    // Act
    const replaced = await store.replace(read, { ...first, accessToken: 'a2', refreshToken: 'r2' });
    const stale = await store.replace(read, { ...first, accessToken: 'a3', refreshToken: 'r3' });
    // Assess
    expect(read.tokens).toEqual(first);
    expect(read.fields).toEqual({ clientId: 'app', tenantId: 't' });
    expect([replaced, stale]).toEqual([true, false]);
    expect((await store.read()).tokens.refreshToken).toBe('r2');
    expect(JSON.parse(readFileSync(`${path}.previous`, 'utf8')).refreshToken).toBe('r1');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(`${path}.previous`).mode & 0o777).toBe(0o600);
  });

  it('says to run writeback connect when there is no file', async () => {
    await expect(new FileTokenStore(join(dir, 'none.json')).read()).rejects.toThrow(
      /run `writeback connect`/,
    );
  });
});

describe('Class: FileLease', () => {
  it('has one holder at a time, taken over once expired, released only by its holder', async () => {
    let now = 1_000;
    const lock = join(dir, 'xero.json.lock');
    const lease = new FileLease(lock, () => now);
    expect(await lease.acquire('a', 1_000)).toBe(true);
    expect(await lease.acquire('b', 1_000)).toBe(false);
    await lease.release('b');
    expect(await lease.acquire('b', 1_000)).toBe(false);
    now += 1_001;
    expect(await lease.acquire('b', 1_000)).toBe(true);
    await lease.release('a');
    expect(await lease.acquire('a', 1_000)).toBe(false);
    await lease.release('b');
    expect(await lease.acquire('a', 1_000)).toBe(true);
  });
});

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConnect } from '../../cli/connect.ts';
import { startXeroFake, XERO_FAKE_PKCE_CLIENT_ID, type XeroFake } from '../../local/fakes/xero/XeroFake.ts';
import { xeroLocal } from '../../local/fakes/xero/xeroLocal.ts';
import { LocalStack } from '../../local/LocalStack.ts';
import { loadConfigFile } from '../../shared/config/loadConfig.ts';
import { browserOnPrintedUrl, writeConnectConfig } from './connectHelpers.ts';

const ROWS = 30;

/**
 * `writeback connect` without --stack writes the connection's tokenFile (0600); the local stack
 * then writes through the account it holds, refreshing its tokens in that file, instead of the
 * stack's own Xero fake.
 */
describe('writeback connect for the local stack (a Xero connection with a tokenFile)', () => {
  let dir: string;
  let fake: XeroFake;
  let stack: LocalStack | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wb-connect-local-'));
    fake = await startXeroFake({ rateLimit: false });
  });
  afterAll(async () => {
    await stack?.stop();
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the local stack the fake without a tokenFile, and refuses a tokenFile that does not exist, naming the command', () => {
    const services = {
      xero: { url: fake.url, accessToken: fake.accessToken, tenantId: fake.tenantId },
    } as never;
    const missing = { type: 'xero', tokenFile: join(dir, 'none.json') } as never;
    expect(xeroLocal.credentials!({ type: 'xero' } as never, services)).toEqual({
      token: fake.accessToken,
      baseUrl: fake.url,
      tenantId: fake.tenantId,
    });
    expect(() => xeroLocal.credentials!(missing, services)).toThrow(
      /tokenFile .*none\.json does not exist: run `writeback connect/,
    );
  });

  it('writes through the connected account and refreshes its expired token into the file', async () => {
    // Prepare: connect into the tokenFile, whose access token has since expired
    const tokenFile = join(dir, 'xero.json');
    const configPath = writeConnectConfig(dir, 'local', { xeroUrl: fake.url, invoices: false, tokenFile });
    const browser = browserOnPrintedUrl();
    const code = await runConnect('xero', {
      configPath,
      clientId: XERO_FAKE_PKCE_CLIENT_ID,
      publicClient: true,
      env: {},
      out: browser.out,
    });
    await browser.browsed();
    expect(code).toBe(0);
    const connected = JSON.parse(readFileSync(tokenFile, 'utf8')) as Record<string, string>;
    writeFileSync(
      tokenFile,
      JSON.stringify({ ...connected, expiresAt: new Date(Date.now() - 1000).toISOString() }),
      {
        mode: 0o600,
      },
    );
    stack = await LocalStack.start({ config: await loadConfigFile(configPath) });
    await stack.dwh`create schema src`;
    await stack.dwh`create table src.customers (id int primary key, name text, email text, updated_at timestamptz not null)`;
    await stack.dwh`create index on src.customers (updated_at, id)`;
    await stack.dwh`insert into src.customers select i, 'Customer ' || i, 'c' || i || '@example.test', now() - interval '1 hour' + i * interval '1 s' from generate_series(1, ${ROWS}) i`;
    const refreshes = fake.oauthStats().refreshes;
    // Act
    stack.startWriters();
    await stack.runExtract('customers');
    await stack.drain(60_000);
    // Assess: written into the connected account (the test's fake), one refresh, stored in the file
    expect(fake.contacts()).toHaveLength(ROWS);
    expect(stack.xero.contacts()).toHaveLength(0);
    expect(stack.stats('customers').write).toMatchObject({
      created: ROWS,
      failed: 0,
      dead: 0,
      authRefused: 0,
    });
    expect(fake.oauthStats().refreshes).toBe(refreshes + 1);
    const after = JSON.parse(readFileSync(tokenFile, 'utf8')) as Record<string, string>;
    expect(after.refreshToken).not.toBe(connected.refreshToken);
    expect(Date.parse(after.expiresAt!)).toBeGreaterThan(Date.now());
    expect(existsSync(`${tokenFile}.previous`)).toBe(true);
  }, 120_000);
});

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConnect } from '../../cli/connect.ts';
import { LocalSecretsManager } from '../../local/aws/LocalSecretsManager.ts';
import {
  startXeroFake,
  XERO_FAKE_CLIENT_ID,
  XERO_FAKE_CLIENT_SECRET,
  XERO_FAKE_PKCE_CLIENT_ID,
  XERO_FAKE_TENANT,
  type XeroFake,
} from '../../local/fakes/xero/XeroFake.ts';
import { browseWhenPrinted, connectPlayingBrowser, startCli, writeConnectConfig } from './connectHelpers.ts';

const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'not-a-secret' };
const TENANT_B = '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';

describe('CLI: writeback connect (Xero, against the fake)', () => {
  let dir: string;
  let fake: XeroFake;
  let sm: LocalSecretsManager;
  let endpoint: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wb-connect-'));
    fake = await startXeroFake({
      rateLimit: false,
      tenants: [XERO_FAKE_TENANT, TENANT_B],
      tenantNames: { [XERO_FAKE_TENANT]: 'Demo Company (NZ)', [TENANT_B]: 'Second Org' },
    });
    sm = new LocalSecretsManager({ region: 'eu-west-1', accountId: '111122223333' });
    endpoint = await sm.start();
  });
  afterAll(async () => {
    await Promise.all([fake?.stop(), sm?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs as a process: prints the URL, takes the redirect on its loopback, stores the tokens in the connection secret (--stack)', async () => {
    // Prepare
    const config = writeConnectConfig(dir, 'process', { xeroUrl: fake.url });
    // Act: the user runs the command; the test plays the browser from the printed URL
    const cli = startCli(
      [
        '-c',
        config,
        '--stack',
        'writeback',
        '--region',
        'eu-west-1',
        'connect',
        'xero',
        '--client-id',
        XERO_FAKE_CLIENT_ID,
        '--tenant',
        'Second Org',
      ],
      {
        WRITEBACK_CLIENT_SECRET: XERO_FAKE_CLIENT_SECRET,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      },
    );
    const { url, page } = await browseWhenPrinted(cli);
    const code = await cli.exit;
    // Assess
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/Writeback is connected/);
    expect(cli.output()).toMatch(/Connected xero to Second Org \(0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0\)/);
    expect(code).toBe(0);
    const client = new SecretsManagerClient({ endpoint, region: 'eu-west-1', credentials });
    const secret = JSON.parse(
      (await client.send(new GetSecretValueCommand({ SecretId: 'writeback/xero' }))).SecretString!,
    ) as Record<string, string>;
    client.destroy();
    expect(secret).toMatchObject({
      clientId: XERO_FAKE_CLIENT_ID,
      clientSecret: XERO_FAKE_CLIENT_SECRET,
      tenantId: TENANT_B,
      refreshToken: expect.any(String),
      accessToken: expect.any(String),
      scope: 'offline_access accounting.contacts accounting.transactions',
    });
    expect(Date.parse(secret.expiresAt!)).toBeGreaterThan(Date.now());
    // The URL asked for PKCE and the scopes the syncs need
    const asked = new URL(url).searchParams;
    expect(asked.get('code_challenge_method')).toBe('S256');
    expect(asked.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
  }, 60_000);

  it('writes a local file with mode 0600 for a PKCE app, choosing the tenant named', async () => {
    // Prepare
    const config = writeConnectConfig(dir, 'file', { xeroUrl: fake.url });
    const file = join(dir, 'connections', 'xero.json');
    // Act
    const { code, lines } = await connectPlayingBrowser('xero', {
      configPath: config,
      secretFile: file,
      clientId: XERO_FAKE_PKCE_CLIENT_ID,
      publicClient: true,
      tenant: 'Demo Company (NZ)',
    });
    // Assess
    expect(code).toBe(0);
    expect(lines.at(-1)).toMatch(/\(mode 0600\)\.$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    expect(stored.clientSecret).toBeUndefined();
    expect(stored).toMatchObject({ clientId: XERO_FAKE_PKCE_CLIENT_ID, tenantId: fake.tenantId });
  });

  it('names the missing scopes and stores nothing when the user grants less than the syncs need', async () => {
    // Prepare: the user unticks the transactions scope
    const stingy = await startXeroFake({
      rateLimit: false,
      consentScopes: ['offline_access', 'accounting.contacts'],
    });
    const file = join(dir, 'stingy.json');
    try {
      // Act
      const { code, lines } = await connectPlayingBrowser('xero', {
        configPath: writeConnectConfig(dir, 'stingy', { xeroUrl: stingy.url }),
        secretFile: file,
        clientId: XERO_FAKE_PKCE_CLIENT_ID,
        publicClient: true,
      });
      // Assess
      expect(code).toBe(1);
      expect(lines.join('\n')).toMatch(
        /missing: accounting\.transactions \(sync invoices \(Invoices\)\)\. Nothing was stored/,
      );
      expect(existsSync(file)).toBe(false);
    } finally {
      await stingy.stop();
    }
  });

  it('asks for --tenant when the authorisation reaches several organisations and there is no terminal', async () => {
    await expect(
      connectPlayingBrowser('xero', {
        configPath: writeConnectConfig(dir, 'several', { xeroUrl: fake.url }),
        secretFile: join(dir, 'several.json'),
        clientId: XERO_FAKE_PKCE_CLIENT_ID,
        publicClient: true,
      }),
    ).rejects.toThrow(/several organisations: pass --tenant <id\|name> \(Demo Company \(NZ\) .*Second Org/);
  });

  it('refuses to ask for a client secret without a terminal, naming the environment variable', async () => {
    await expect(
      runConnect('xero', {
        configPath: writeConnectConfig(dir, 'nosecret', { xeroUrl: fake.url }),
        clientId: XERO_FAKE_CLIENT_ID,
        env: {},
        out: () => undefined,
      }),
    ).rejects.toThrow(/set WRITEBACK_CLIENT_SECRET, or pass --public-client/);
  });
});

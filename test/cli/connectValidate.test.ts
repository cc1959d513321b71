import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConnect } from '../../cli/connect.ts';
import { checkConnections, stackStores } from '../../cli/validateConnections.ts';
import { LocalSecretsManager } from '../../local/aws/LocalSecretsManager.ts';
import { startXeroFake, XERO_FAKE_PKCE_CLIENT_ID, type XeroFake } from '../../local/fakes/xero/XeroFake.ts';
import { loadConfigFile } from '../../shared/config/loadConfig.ts';
import { type EmulatorFixture, startEmulatorFixture } from '../helpers/emulatorFixture.ts';
import { browserOnPrintedUrl, validateLocal, writeConnectConfig } from './connectHelpers.ts';

const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'not-a-secret' };

/** `writeback validate --connections`: the stored credentials checked with Xero before the first run. */
describe('CLI: writeback validate --connections', () => {
  let dir: string;
  let fake: XeroFake;
  let config: string;
  let secretDir: string;
  const file = () => join(secretDir, 'xero.json');

  /** Connects the PKCE app into the local file, playing the browser. */
  async function connect(): Promise<void> {
    const browser = browserOnPrintedUrl();
    const code = await runConnect('xero', {
      configPath: config,
      secretFile: file(),
      clientId: XERO_FAKE_PKCE_CLIENT_ID,
      publicClient: true,
      env: {},
      out: browser.out,
    });
    await browser.browsed();
    expect(code).toBe(0);
  }

  const validate = () => validateLocal(config, secretDir);

  const editFile = (change: (f: Record<string, string>) => void) => {
    const fields = JSON.parse(readFileSync(file(), 'utf8')) as Record<string, string>;
    change(fields);
    writeFileSync(file(), JSON.stringify(fields), { mode: 0o600 });
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wb-validate-'));
    secretDir = join(dir, 'connections');
    fake = await startXeroFake({ rateLimit: false, tenantNames: {} });
    config = writeConnectConfig(dir, 'validate', { xeroUrl: fake.url });
  });
  afterAll(async () => {
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says a connection was never connected and what to run', async () => {
    const { code, lines } = await validate();
    expect(code).toBe(1);
    expect(lines).toContain(
      `  FAIL  xero (xero): not connected (${file()} holds no refresh token): run \`writeback connect xero\``,
    );
  });

  it('accepts a connected account: identity endpoint reached, organisation there, scopes cover the syncs', async () => {
    await connect();
    const { code, lines } = await validate();
    expect(lines[1]).toMatch(
      /^ {2}OK {4}xero \(xero\): Fake organisation \w+ \(6f3b8a20-1c2d-4e5f-9a8b-7c6d5e4f3a2b\); scopes offline_access accounting\.contacts accounting\.transactions cover its syncs$/,
    );
    expect(code).toBe(0);
  });

  it('refreshes an expired access token the way the writers do: written back to the file (0600, previous kept) before use', async () => {
    // Prepare: the stored access token has expired
    const before = JSON.parse(readFileSync(file(), 'utf8')) as Record<string, string>;
    editFile((f) => {
      f.expiresAt = new Date(Date.now() - 1000).toISOString();
    });
    const refreshes = fake.oauthStats().refreshes;
    // Act
    const { code } = await validate();
    // Assess
    const after = JSON.parse(readFileSync(file(), 'utf8')) as Record<string, string>;
    expect(code).toBe(0);
    expect(fake.oauthStats().refreshes).toBe(refreshes + 1);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(`${file()}.previous`, 'utf8')).refreshToken).toBe(before.refreshToken);
    expect(existsSync(`${file()}.lock`)).toBe(false);
  });

  it('names a scope the syncs need that the grant lacks', async () => {
    editFile((f) => {
      f.scope = 'offline_access accounting.contacts';
    });
    const { code, lines } = await validate();
    expect(code).toBe(1);
    expect(lines[1]).toMatch(
      /FAIL {2}xero \(xero\): .*missing accounting\.transactions \(sync invoices \(Invoices\)\)/,
    );
  });

  it('reports a revoked authorisation as XERO_INVALID_GRANT with what to run', async () => {
    editFile((f) => {
      f.expiresAt = new Date(Date.now() - 1000).toISOString();
    });
    fake.revokeOAuth();
    const { code, lines } = await validate();
    expect(code).toBe(1);
    expect(lines[1]).toMatch(
      /FAIL {2}xero \(xero\): XERO_INVALID_GRANT: .*run `writeback connect xero` again/,
    );
  });
});

describe('validate --connections on a stack: the secret, and the writers refresh lease in the state table', () => {
  let fake: XeroFake;
  let sm: LocalSecretsManager;
  let client: SecretsManagerClient;
  let fx: EmulatorFixture;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wb-validate-stack-'));
    [fake, fx] = await Promise.all([startXeroFake({ rateLimit: false }), startEmulatorFixture()]);
    sm = new LocalSecretsManager({ region: 'eu-west-1', accountId: '111122223333' });
    client = new SecretsManagerClient({ endpoint: await sm.start(), region: 'eu-west-1', credentials });
  });
  afterAll(async () => {
    client?.destroy();
    await Promise.all([fake?.stop(), sm?.stop(), fx?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refreshes the expired token of the secret under the lease and checks the account', async () => {
    // Prepare: a connection stored by writeback connect --stack, its access token expired since
    const browser = browserOnPrintedUrl();
    const config = writeConnectConfig(dir, 'stack', { xeroUrl: fake.url });
    await runConnect('xero', {
      configPath: config,
      stack: 'writeback',
      secretsManager: client,
      clientId: XERO_FAKE_PKCE_CLIENT_ID,
      publicClient: true,
      env: {},
      out: browser.out,
    });
    await browser.browsed();
    const stored = JSON.parse(
      (await client.send(new GetSecretValueCommand({ SecretId: 'writeback/xero' }))).SecretString!,
    ) as Record<string, string>;
    const expired = { ...stored, expiresAt: new Date(Date.now() - 1000).toISOString() };
    await client.send(
      new PutSecretValueCommand({ SecretId: 'writeback/xero', SecretString: JSON.stringify(expired) }),
    );
    const refreshes = fake.oauthStats().refreshes;
    const stores = stackStores(client, { ddb: fx.aws.ddb, stateTable: fx.resources.stateTable });
    // Act
    const checks = await checkConnections(await loadConfigFile(config), stores);
    // Assess
    expect(checks).toEqual([
      expect.objectContaining({
        connection: 'xero',
        status: 'ok',
        detail: expect.stringMatching(/cover its syncs$/),
      }),
    ]);
    expect(fake.oauthStats().refreshes).toBe(refreshes + 1);
    const previous = await client.send(
      new GetSecretValueCommand({ SecretId: 'writeback/xero', VersionStage: 'AWSPREVIOUS' }),
    );
    expect(JSON.parse(previous.SecretString!).expiresAt).toBe(expired.expiresAt);
  });
});

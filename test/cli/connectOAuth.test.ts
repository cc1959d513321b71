import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { runConnect } from '../../cli/connect.ts';
import { type HubSpotFake, startHubSpotFake } from '../../local/fakes/hubspot/HubSpotFake.ts';
import {
  HUBSPOT_FAKE_CLIENT_ID,
  HUBSPOT_FAKE_CLIENT_SECRET,
} from '../../local/fakes/hubspot/hubspotOAuthFake.ts';
import {
  SALESFORCE_FAKE_CLIENT_ID,
  SALESFORCE_FAKE_CLIENT_SECRET,
  type SalesforceFake,
  startSalesforceFake,
} from '../../local/fakes/salesforce/SalesforceFake.ts';
import { loadConfigFile } from '../../shared/config/loadConfig.ts';
import { isAuthRefusal, needsReconnect } from '../../shared/connectors/authErrors.ts';
import { credentialsFromSecret } from '../../shared/connectors/ConnectionCredentials.ts';
import { createConnector } from '../../shared/connectors/createConnector.ts';
import type { TargetError } from '../../shared/errors.ts';
import { writeSecretFile } from '../../shared/oauth/FileTokenStore.ts';
import {
  browseWhenPrinted,
  connectPlayingBrowser,
  startCli,
  validateLocal,
  writeVendorConfig,
} from './connectHelpers.ts';

/** runConnect --oauth in this process, playing the browser: the exit code, the output and the URL printed. */
async function connectOAuth(
  name: string,
  opts: Omit<Parameters<typeof runConnect>[1], 'out' | 'oauth'>,
): Promise<{ code: number; output: string; url: string | undefined }> {
  const { code, lines, output } = await connectPlayingBrowser(name, { ...opts, oauth: true });
  return { code, output, url: lines.find((l) => /^\s+http/.test(l))?.trim() };
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;

/** The connector a writer builds from the stored fields (the secret's JSON). */
async function connectorOnStored(configPath: string, stored: string) {
  const cfg = await loadConfigFile(configPath);
  const sync = cfg.syncs[0]!;
  return createConnector(
    sync,
    cfg.connections[sync.target.connection]!,
    credentialsFromSecret(readJson(stored)),
    {
      pace: false,
    },
  );
}

/** The stored fields with the access token expired: the next use must refresh. */
function expire(path: string): void {
  writeSecretFile(path, { ...readJson(path), expiresAt: new Date(Date.now() - 1000).toISOString() });
}

describe('CLI: writeback connect --oauth (HubSpot public app, Salesforce web-server flow)', () => {
  let dir: string;
  let hubspot: HubSpotFake;
  let salesforce: SalesforceFake;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wb-connect-oauth-'));
    [hubspot, salesforce] = await Promise.all([
      startHubSpotFake({ rateLimit: false }),
      startSalesforceFake({ dailyLimit: false }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([hubspot?.stop(), salesforce?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  describe('HubSpot', () => {
    const config = () =>
      writeVendorConfig(dir, 'hubspot-oauth', { hubspot: { type: 'hubspot', baseUrl: hubspot.url } }, [
        {
          name: 'customers',
          connection: 'hubspot',
          object: 'contacts',
          externalId: 'dwh_customer_id',
          deletes: true,
        },
      ]);
    const file = () => join(dir, 'hubspot-oauth.json');

    it('runs as a process: prints the app.hubspot.com-style URL, takes the code on its loopback, stores the token set with the account and scopes', async () => {
      // Act
      const cli = startCli(
        [
          '-c',
          config(),
          'connect',
          'hubspot',
          '--oauth',
          '--client-id',
          HUBSPOT_FAKE_CLIENT_ID,
          '--secret-file',
          file(),
        ],
        { WRITEBACK_CLIENT_SECRET: HUBSPOT_FAKE_CLIENT_SECRET },
      );
      const { url, page } = await browseWhenPrinted(cli);
      const code = await cli.exit;
      // Assess
      expect(page.status).toBe(200);
      expect(cli.output()).toMatch(/Connected hubspot to writeback-fake\.hubspot\.com \(24681357\)/);
      expect(code).toBe(0);
      const asked = new URL(url);
      expect(asked.pathname).toBe('/oauth/authorize');
      expect(asked.searchParams.get('scope')).toBe(
        'oauth crm.objects.contacts.write crm.objects.contacts.read',
      );
      expect(asked.searchParams.has('code_challenge')).toBe(false);
      expect(readJson(file())).toMatchObject({
        clientId: HUBSPOT_FAKE_CLIENT_ID,
        clientSecret: HUBSPOT_FAKE_CLIENT_SECRET,
        hubId: '24681357',
        refreshToken: expect.stringMatching(/^na1-/),
        scope: 'oauth crm.objects.contacts.write crm.objects.contacts.read',
      });
    }, 60_000);

    it('writes with the stored token set after its access token expired: the connector refreshes once, the refresh token unchanged', async () => {
      // Prepare
      expire(file());
      const refreshes = hubspot.oauth.refreshes;
      const connector = await connectorOnStored(config(), file());
      // Act
      const results = await connector.upsertBatch('contacts', [
        {
          key: 'c1',
          externalId: 'c1',
          idempotencyKey: 'c1-v1',
          payload: { email: 'one@example.com', firstname: 'One' },
        },
      ]);
      // Assess
      expect(results).toEqual([expect.objectContaining({ key: 'c1', ok: true })]);
      expect(hubspot.oauth.refreshes).toBe(refreshes + 1);
    });

    it('validate --connections checks the stored grant: account and scopes from the token metadata; a revoked app is HUBSPOT_INVALID_GRANT', async () => {
      const validate = () => validateLocal(config(), dir);
      // hubspot-oauth.json is not <connection>.json: copy it where validate looks
      writeSecretFile(join(dir, 'hubspot.json'), readJson(file()));
      const ok = await validate();
      expect(ok.lines[1]).toMatch(
        /^ {2}OK {4}hubspot \(hubspot\): writeback-fake\.hubspot\.com \(24681357\); scopes oauth crm\.objects\.contacts\.write crm\.objects\.contacts\.read cover its syncs$/,
      );
      expect(ok.code).toBe(0);
      // The account uninstalls the app
      hubspot.oauth.revokeAll();
      expire(join(dir, 'hubspot.json'));
      const revoked = await validate();
      expect(revoked.code).toBe(1);
      expect(revoked.lines[1]).toMatch(
        /^ {2}FAIL {2}hubspot \(hubspot\): HUBSPOT_INVALID_GRANT: HubSpot rejected the refresh token .*run `writeback connect hubspot` again$/,
      );
    });

    it('a writer whose refresh token was rejected fails the whole call as HUBSPOT_INVALID_GRANT: an auth refusal that needs writeback connect, not a bad record', async () => {
      // Prepare: connected again (the previous test revoked the app), then uninstalled
      const stored = join(dir, 'hubspot-writer.json');
      const { code } = await connectOAuth('hubspot', {
        configPath: config(),
        secretFile: stored,
        clientId: HUBSPOT_FAKE_CLIENT_ID,
        env: { WRITEBACK_CLIENT_SECRET: HUBSPOT_FAKE_CLIENT_SECRET },
      });
      expect(code).toBe(0);
      hubspot.oauth.revokeAll();
      expire(stored);
      const connector = await connectorOnStored(config(), stored);
      // Act
      const failure = await connector
        .upsertBatch('contacts', [
          { key: 'c2', externalId: 'c2', idempotencyKey: 'c2-v1', payload: { email: 'two@example.com' } },
        ])
        .then(
          (results) => (results[0]?.ok === false ? results[0].error : undefined),
          (err: unknown) => err as TargetError,
        );
      // Assess
      expect(failure).toMatchObject({ code: 'HUBSPOT_INVALID_GRANT' });
      expect(isAuthRefusal(failure)).toBe(true);
      expect(needsReconnect(failure)).toBe(true);
      expect(failure?.message).not.toContain(readJson(stored).refreshToken);
    });

    it('names the scopes the user did not grant and stores nothing', async () => {
      const stingy = await startHubSpotFake({
        rateLimit: false,
        oauth: { consentScopes: ['oauth', 'crm.objects.contacts.read'] },
      });
      const stored = join(dir, 'hubspot-stingy.json');
      try {
        const { code, output } = await connectOAuth('hubspot', {
          configPath: writeVendorConfig(
            dir,
            'hubspot-stingy',
            { hubspot: { type: 'hubspot', baseUrl: stingy.url } },
            [{ name: 'customers', connection: 'hubspot', object: 'contacts' }],
          ),
          secretFile: stored,
          clientId: HUBSPOT_FAKE_CLIENT_ID,
          env: { WRITEBACK_CLIENT_SECRET: HUBSPOT_FAKE_CLIENT_SECRET },
        });
        expect(code).toBe(1);
        expect(output).toMatch(
          /missing: crm\.objects\.contacts\.write \(sync customers \(contacts: create, update\)\)\. Nothing was stored/,
        );
        expect(existsSync(stored)).toBe(false);
      } finally {
        await stingy.stop();
      }
    });

    it('refuses a wrong client secret at the token endpoint (HubSpot BAD_CLIENT_SECRET), nothing stored', async () => {
      const stored = join(dir, 'hubspot-bad-secret.json');
      await expect(
        connectOAuth('hubspot', {
          configPath: config(),
          secretFile: stored,
          clientId: HUBSPOT_FAKE_CLIENT_ID,
          env: { WRITEBACK_CLIENT_SECRET: 'not-the-secret' },
        }),
      ).rejects.toThrow(/HubSpot token endpoint refused the client \(400 BAD_CLIENT_SECRET\)/);
      expect(existsSync(stored)).toBe(false);
    });
  });

  describe('Salesforce', () => {
    const config = () =>
      writeVendorConfig(
        dir,
        'salesforce-oauth',
        { salesforce: { type: 'salesforce', instanceUrl: salesforce.url } },
        [{ name: 'accounts', connection: 'salesforce', object: 'Account', externalId: 'Ext_Id__c' }],
      );
    const file = () => join(dir, 'salesforce.json');

    it('connects with PKCE: the token answer’s scopes, the org and its instance URL stored beside the refresh token', async () => {
      const { code, output, url } = await connectOAuth('salesforce', {
        configPath: config(),
        secretFile: file(),
        clientId: SALESFORCE_FAKE_CLIENT_ID,
        env: { WRITEBACK_CLIENT_SECRET: SALESFORCE_FAKE_CLIENT_SECRET },
      });
      expect(output).toMatch(
        /Connected salesforce to integration@writeback\.example in org 00D5g000004FAKEEAW \(00D5g000004FAKEEAW\); scopes: api refresh_token/,
      );
      expect(code).toBe(0);
      const asked = new URL(url!).searchParams;
      expect(asked.get('code_challenge_method')).toBe('S256');
      expect(asked.get('scope')).toBe('api refresh_token');
      expect(readJson(file())).toMatchObject({
        clientId: SALESFORCE_FAKE_CLIENT_ID,
        refreshToken: expect.any(String),
        organizationId: '00D5g000004FAKEEAW',
        instanceUrl: salesforce.url,
      });
    });

    it('names an object permission the user lacks (from describe, not a scope) and stores nothing', async () => {
      const locked = await startSalesforceFake({
        dailyLimit: false,
        identity: { objectPermissions: { Account: { edit: false } } },
      });
      const stored = join(dir, 'salesforce-locked.json');
      try {
        const { code, output } = await connectOAuth('salesforce', {
          configPath: writeVendorConfig(
            dir,
            'salesforce-locked',
            { salesforce: { type: 'salesforce', instanceUrl: locked.url } },
            [{ name: 'accounts', connection: 'salesforce', object: 'Account', externalId: 'Ext_Id__c' }],
          ),
          secretFile: stored,
          clientId: SALESFORCE_FAKE_CLIENT_ID,
          env: { WRITEBACK_CLIENT_SECRET: SALESFORCE_FAKE_CLIENT_SECRET },
        });
        expect(code).toBe(1);
        expect(output).toMatch(
          /salesforce: integration@writeback\.example in org 00D5g000004FAKEEAW lacks what its syncs need: Account edit \(sync accounts \(Account\)\)\. Nothing was stored/,
        );
        expect(existsSync(stored)).toBe(false);
      } finally {
        await locked.stop();
      }
    });

    it('reads through the connector after the access token expired: one refresh, no new refresh token', async () => {
      expire(file());
      const before = readJson(file()).refreshToken;
      const refreshes = salesforce.oauth.refreshes;
      const connector = await connectorOnStored(config(), file());
      const found: unknown[] = [];
      for await (const r of connector.list('Account')) found.push(r);
      expect(found).toEqual([]);
      expect(salesforce.oauth.refreshes).toBe(refreshes + 1);
      expect(readJson(file()).refreshToken).toBe(before);
    });

    it('a revoked refresh token is SALESFORCE_INVALID_GRANT telling to connect again', async () => {
      salesforce.oauth.revokeAll();
      expire(file());
      const { code, lines } = await validateLocal(config(), dir);
      expect(code).toBe(1);
      expect(lines[1]).toMatch(
        /^ {2}FAIL {2}salesforce \(salesforce\): SALESFORCE_INVALID_GRANT: Salesforce rejected the refresh token .*run `writeback connect salesforce` again$/,
      );
    });
  });
});

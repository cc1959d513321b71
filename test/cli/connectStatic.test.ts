import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConnections, stackStores } from '../../cli/validateConnections.ts';
import { LocalSecretsManager } from '../../local/aws/LocalSecretsManager.ts';
import { type HubSpotFake, startHubSpotFake } from '../../local/fakes/hubspot/HubSpotFake.ts';
import { type QuickBooksFake, startQuickBooksFake } from '../../local/fakes/quickbooks/QuickBooksFake.ts';
import {
  SALESFORCE_FAKE_CLIENT_ID,
  SALESFORCE_FAKE_CLIENT_SECRET,
  type SalesforceFake,
  startSalesforceFake,
} from '../../local/fakes/salesforce/SalesforceFake.ts';
import { type StripeFake, startStripeFake } from '../../local/fakes/stripe/StripeFake.ts';
import { loadConfigFile } from '../../shared/config/loadConfig.ts';
import { createConnector } from '../../shared/connectors/createConnector.ts';
import type { TargetError } from '../../shared/errors.ts';
import { startEmulatorFixture } from '../helpers/emulatorFixture.ts';
import { connectPlayingBrowser, startCli, writeVendorConfig } from './connectHelpers.ts';

const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'not-a-secret' };
const RK_FULL = 'rk_test_51WritebackFullAccessKey';
const RK_NO_INVOICES = 'rk_test_51WritebackCustomersOnly';

describe('CLI: writeback connect for static credentials (HubSpot private app, Stripe restricted key, Salesforce client credentials)', () => {
  let dir: string;
  let hubspot: HubSpotFake;
  let stripe: StripeFake;
  let salesforce: SalesforceFake;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wb-connect-static-'));
    [hubspot, stripe, salesforce] = await Promise.all([
      startHubSpotFake({
        rateLimit: false,
        // The private app was given contacts but not deals.
        identity: { scopes: ['crm.objects.contacts.read', 'crm.objects.contacts.write'] },
      }),
      startStripeFake({
        rateLimit: false,
        identity: {
          restrictedKeys: {
            [RK_FULL]: { customers: 'write', invoices: 'write' },
            [RK_NO_INVOICES]: { customers: 'write', invoices: 'read' },
          },
        },
      }),
      startSalesforceFake({
        dailyLimit: false,
        identity: { objectPermissions: { Account: { delete: false } } },
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([hubspot?.stop(), stripe?.stop(), salesforce?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  describe('HubSpot private app token', () => {
    const config = () =>
      writeVendorConfig(
        dir,
        'hubspot',
        { hubspot: { type: 'hubspot', secret: 'writeback/hubspot', baseUrl: hubspot.url } },
        [{ name: 'customers', connection: 'hubspot', object: 'contacts', deletes: true }],
      );

    it('runs as a process: the token from WRITEBACK_TOKEN checked with the account and its scopes, then stored in a 0600 file', async () => {
      // Prepare
      const file = join(dir, 'hubspot.json');
      // Act
      const cli = startCli(['-c', config(), 'connect', 'hubspot', '--secret-file', file], {
        WRITEBACK_TOKEN: hubspot.accessToken,
      });
      const code = await cli.exit;
      // Assess
      expect(cli.output()).toMatch(
        /Connected hubspot to HubSpot account 24681357 \(24681357\); granted: crm\.objects\.contacts\.read crm\.objects\.contacts\.write/,
      );
      expect(code).toBe(0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ token: hubspot.accessToken });
      expect(hubspot.callsByPath()).toMatchObject({
        'GET /account-info/v3/details': 1,
        'POST /oauth/v2/private-apps/get/access-token-info': 1,
      });
    }, 60_000);

    it('refuses a token HubSpot does not know: the connection named, HUBSPOT_UNAUTHORIZED, nothing stored', async () => {
      const file = join(dir, 'hubspot-refused.json');
      const { code, output } = await connectPlayingBrowser('hubspot', {
        configPath: config(),
        secretFile: file,
        env: { WRITEBACK_TOKEN: 'pat-eu1-not-a-real-token' },
      });
      expect(code).toBe(1);
      expect(output).toMatch(
        /^HubSpot did not accept the credentials for connection hubspot \(HUBSPOT_UNAUTHORIZED: HubSpot refused the private app token: .*\)\. Nothing was stored\.$/,
      );
      expect(output).not.toContain('pat-eu1-not-a-real-token');
      expect(existsSync(file)).toBe(false);
    });

    it('names each scope the syncs need that the private app lacks, with the sync, and stores nothing', async () => {
      // Prepare: deals are written too, associated with contacts
      const file = join(dir, 'hubspot-deals.json');
      const withDeals = writeVendorConfig(
        dir,
        'hubspot-deals',
        { hubspot: { type: 'hubspot', baseUrl: hubspot.url } },
        [
          { name: 'customers', connection: 'hubspot', object: 'contacts' },
          { name: 'deals', connection: 'hubspot', object: 'deals', associateWith: 'contacts' },
        ],
      );
      // Act
      const { code, output } = await connectPlayingBrowser('hubspot', {
        configPath: withDeals,
        secretFile: file,
        env: { WRITEBACK_TOKEN: hubspot.accessToken },
      });
      // Assess
      expect(code).toBe(1);
      expect(output).toBe(
        'hubspot: HubSpot account 24681357 lacks what its syncs need: crm.objects.deals.write (sync deals (deals: create, update)), crm.objects.deals.read (sync deals (deals: read back)). Nothing was stored: grant them and run `writeback connect hubspot` again.',
      );
      expect(existsSync(file)).toBe(false);
    });

    it('is right about the scope it names: the same token writing deals is refused by HubSpot with MISSING_SCOPES', async () => {
      // Prepare: what a writer builds from the token connect refused to store
      const connector = createConnector(
        (await loadConfigFile(config())).syncs[0]!,
        { type: 'hubspot', baseUrl: hubspot.url },
        { token: hubspot.accessToken },
        { pace: false },
      );
      // Act
      const [result] = await connector
        .upsertBatch('deals', [
          { key: 'd1', externalId: 'd1', idempotencyKey: 'd1-v1', payload: { dealname: 'One' } },
        ])
        .catch((err: unknown) => [{ ok: false as const, key: 'd1', error: err as TargetError }]);
      // Assess
      expect(result).toMatchObject({ ok: false, error: { code: 'HUBSPOT_FORBIDDEN', httpStatus: 403 } });
      expect(hubspot.calls({ method: 'POST', path: '/crm/v3/objects/deals/batch/upsert' })).toEqual([
        expect.objectContaining({ status: 403 }),
      ]);
    });

    it('asks for the token only on a terminal: without one it names the environment variable', async () => {
      await expect(
        connectPlayingBrowser('hubspot', {
          configPath: config(),
          env: {},
          secretFile: join(dir, 'never.json'),
        }),
      ).rejects.toThrow(/no terminal to ask for the HubSpot token on: set WRITEBACK_TOKEN/);
    });

    it('says a vendor without an OAuth app flow is connected without --oauth', async () => {
      await expect(
        connectPlayingBrowser('stripe', {
          configPath: writeVendorConfig(dir, 'stripe-oauth', { stripe: { type: 'stripe' } }, [
            { name: 'customers', connection: 'stripe', object: 'customers' },
          ]),
          env: {},
          oauth: true,
        }),
      ).rejects.toThrow(/Stripe has no OAuth app flow: run `writeback connect stripe` without --oauth/);
    });

    it('takes the token at the prompt without echo', async () => {
      const file = join(dir, 'hubspot-prompted.json');
      const asked: string[] = [];
      const { code } = await connectPlayingBrowser('hubspot', {
        configPath: config(),
        secretFile: file,
        env: {},
        prompt: {
          ask: async () => {
            throw new Error('a token must not be asked with echo');
          },
          askHidden: async (q) => {
            asked.push(q);
            return `${hubspot.accessToken}\n`;
          },
        },
      });
      expect(code).toBe(0);
      expect(asked).toEqual(['HubSpot private app access token (pat-…): ']);
      expect(JSON.parse(readFileSync(file, 'utf8')).token).toBe(hubspot.accessToken);
    });
  });

  describe('Stripe restricted key', () => {
    let sm: LocalSecretsManager;
    let client: SecretsManagerClient;

    beforeAll(async () => {
      sm = new LocalSecretsManager({ region: 'eu-west-1', accountId: '111122223333' });
      client = new SecretsManagerClient({ endpoint: await sm.start(), region: 'eu-west-1', credentials });
    });
    afterAll(async () => {
      client?.destroy();
      await sm?.stop();
    });

    const config = () =>
      writeVendorConfig(
        dir,
        'stripe',
        { stripe: { type: 'stripe', secret: 'writeback/stripe', baseUrl: stripe.url } },
        [
          { name: 'customers', connection: 'stripe', object: 'customers', deletes: true },
          { name: 'invoices', connection: 'stripe', object: 'invoices' },
        ],
      );

    it('stores a key that may write every object the syncs write in the connection secret (--stack)', async () => {
      // Act
      const { code, output } = await connectPlayingBrowser('stripe', {
        configPath: config(),
        stack: 'writeback',
        secretsManager: client,
        env: { WRITEBACK_TOKEN: RK_FULL },
      });
      // Assess
      expect(output).toMatch(
        /^Connected stripe to acct_1FakeWriteback00, test mode \(acct_1FakeWriteback00\); granted: customers: write, invoices: write\nStored in the new secret writeback\/stripe\.$/,
      );
      expect(code).toBe(0);
      const secret = await client.send(new GetSecretValueCommand({ SecretId: 'writeback/stripe' }));
      expect(JSON.parse(secret.SecretString!)).toEqual({ token: RK_FULL });
      // The write probes wrote nothing
      expect(stripe.objects('customers')).toEqual([]);
      expect(stripe.objects('invoices')).toEqual([]);
    });

    it('validate --connections --stack checks the key the secret holds', async () => {
      // Prepare: the state table of a stack (its refresh lease is not needed for a key)
      const fx = await startEmulatorFixture();
      try {
        const stores = stackStores(client, { ddb: fx.aws.ddb, stateTable: fx.resources.stateTable });
        // Act
        const checks = await checkConnections(await loadConfigFile(config()), stores);
        // Assess
        expect(checks).toEqual([
          {
            connection: 'stripe',
            type: 'stripe',
            status: 'ok',
            detail:
              'acct_1FakeWriteback00, test mode (acct_1FakeWriteback00); granted customers: write, invoices: write: covers its syncs',
          },
        ]);
      } finally {
        await fx.stop();
      }
    });

    it('names the permission a restricted key lacks (Stripe names it in its 403), with the sync, and stores nothing', async () => {
      const file = join(dir, 'stripe-limited.json');
      const { code, output } = await connectPlayingBrowser('stripe', {
        configPath: config(),
        secretFile: file,
        env: { WRITEBACK_TOKEN: RK_NO_INVOICES },
      });
      expect(code).toBe(1);
      expect(output).toBe(
        'stripe: acct_1FakeWriteback00, test mode lacks what its syncs need: rak_invoice_write (sync invoices (invoices: create, update)). Nothing was stored: grant them and run `writeback connect stripe` again.',
      );
      expect(existsSync(file)).toBe(false);
    });

    it('refuses a key Stripe does not know: STRIPE_UNAUTHORIZED without the key in the message, nothing stored', async () => {
      const file = join(dir, 'stripe-refused.json');
      const { code, output } = await connectPlayingBrowser('stripe', {
        configPath: config(),
        secretFile: file,
        env: { WRITEBACK_TOKEN: 'rk_test_51Revoked0000000000' },
      });
      expect(code).toBe(1);
      expect(output).toMatch(
        /^Stripe did not accept the credentials for connection stripe \(STRIPE_UNAUTHORIZED: Stripe refused the API key: Invalid API Key provided/,
      );
      expect(output).not.toContain('rk_test_51Revoked0000000000');
      expect(existsSync(file)).toBe(false);
    });

    it('accepts a full secret key, saying a restricted key is safer', async () => {
      const { code, output } = await connectPlayingBrowser('stripe', {
        configPath: config(),
        secretFile: join(dir, 'stripe-secret-key.json'),
        env: { WRITEBACK_TOKEN: stripe.apiKey },
      });
      expect(code).toBe(0);
      expect(output).toMatch(
        /^Connected stripe to Writeback Fake Ltd, test mode \(acct_1FakeWriteback00\); granted: every permission \(a secret key: a restricted key with only what the syncs need is safer\)/,
      );
    });
  });

  describe('Salesforce connected app (client credentials)', () => {
    const config = (deletes = false) =>
      writeVendorConfig(
        dir,
        `salesforce-${deletes}`,
        {
          salesforce: {
            type: 'salesforce',
            secret: 'writeback/salesforce',
            instanceUrl: salesforce.url,
          },
        },
        [
          { name: 'accounts', connection: 'salesforce', object: 'Account', deletes },
          { name: 'contacts', connection: 'salesforce', object: 'Contact' },
        ],
      );

    it('runs as a process: --client-id and WRITEBACK_CLIENT_SECRET checked with a token, userinfo and each object’s describe, then stored', async () => {
      const file = join(dir, 'salesforce.json');
      const cli = startCli(
        [
          '-c',
          config(),
          'connect',
          'salesforce',
          '--client-id',
          SALESFORCE_FAKE_CLIENT_ID,
          '--secret-file',
          file,
        ],
        { WRITEBACK_CLIENT_SECRET: SALESFORCE_FAKE_CLIENT_SECRET },
      );
      const code = await cli.exit;
      expect(cli.output()).toMatch(
        /Connected salesforce to integration@writeback\.example in org 00D5g000004FAKEEAW \(00D5g000004FAKEEAW\); granted: api/,
      );
      expect(code).toBe(0);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
        clientId: SALESFORCE_FAKE_CLIENT_ID,
        clientSecret: SALESFORCE_FAKE_CLIENT_SECRET,
        instanceUrl: salesforce.url,
      });
      expect(salesforce.callsByPath()).toMatchObject({
        'GET /services/oauth2/userinfo': 1,
        'GET /services/data/v62.0/sobjects/Account/describe': 1,
        'GET /services/data/v62.0/sobjects/Contact/describe': 1,
      });
    }, 60_000);

    it('refuses a wrong consumer secret: SALESFORCE_UNAUTHORIZED naming invalid_client, the secret kept out, nothing stored', async () => {
      const file = join(dir, 'salesforce-refused.json');
      const { code, output } = await connectPlayingBrowser('salesforce', {
        configPath: config(),
        clientId: SALESFORCE_FAKE_CLIENT_ID,
        secretFile: file,
        env: { WRITEBACK_CLIENT_SECRET: 'wrong-secret-value' },
      });
      expect(code).toBe(1);
      expect(output).toMatch(
        /^Salesforce did not accept the credentials for connection salesforce \(SALESFORCE_UNAUTHORIZED: Salesforce refused the client credentials \(invalid_client: invalid client credentials\)/,
      );
      expect(output).not.toContain('wrong-secret-value');
      expect(existsSync(file)).toBe(false);
    });

    it('names an object permission the integration user lacks for a sync with deletes', async () => {
      const file = join(dir, 'salesforce-deletes.json');
      const { code, output } = await connectPlayingBrowser('salesforce', {
        configPath: config(true),
        clientId: SALESFORCE_FAKE_CLIENT_ID,
        secretFile: file,
        env: { WRITEBACK_CLIENT_SECRET: SALESFORCE_FAKE_CLIENT_SECRET },
      });
      expect(code).toBe(1);
      expect(output).toMatch(
        /lacks what its syncs need: Account delete \(sync accounts \(Account\): deletes\)\. Nothing was stored/,
      );
      expect(existsSync(file)).toBe(false);
    });
  });
  describe('QuickBooks Online access token', () => {
    let qbo: QuickBooksFake;
    beforeAll(async () => {
      qbo = await startQuickBooksFake({ rateLimit: false });
    });
    afterAll(async () => {
      await qbo?.stop();
    });
    const config = () =>
      writeVendorConfig(
        dir,
        'quickbooks',
        { quickbooks: { type: 'quickbooks', realmId: qbo.realmId, baseUrl: qbo.url } },
        [{ name: 'customers', connection: 'quickbooks', object: 'Customer' }],
      );

    it('checks the token with the company record (the realm from the config) and stores it', async () => {
      const file = join(dir, 'quickbooks.json');
      const { code, output } = await connectPlayingBrowser('quickbooks', {
        configPath: config(),
        secretFile: file,
        env: { WRITEBACK_TOKEN: qbo.accessToken },
      });
      expect(output).toMatch(
        /^Connected quickbooks to Writeback Fake Company \(9341453172471531\); granted: com\.intuit\.quickbooks\.accounting \(the Accounting API answered\); the access token lasts an hour/,
      );
      expect(code).toBe(0);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ token: qbo.accessToken });
    });

    it('refuses a token Intuit does not accept: QBO_UNAUTHORIZED, nothing stored', async () => {
      const file = join(dir, 'quickbooks-refused.json');
      const { code, output } = await connectPlayingBrowser('quickbooks', {
        configPath: config(),
        secretFile: file,
        env: { WRITEBACK_TOKEN: 'eyJ-expired-access-token' },
      });
      expect(code).toBe(1);
      expect(output).toMatch(
        /^QuickBooks Online did not accept the credentials for connection quickbooks \(QBO_UNAUTHORIZED: QuickBooks Online refused the access token: /,
      );
      expect(existsSync(file)).toBe(false);
    });
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConnect } from '../../cli/connect.ts';
import { type HubSpotFake, startHubSpotFake } from '../../local/fakes/hubspot/HubSpotFake.ts';
import {
  SALESFORCE_FAKE_CLIENT_ID,
  SALESFORCE_FAKE_CLIENT_SECRET,
  type SalesforceFake,
  startSalesforceFake,
} from '../../local/fakes/salesforce/SalesforceFake.ts';
import { type StripeFake, startStripeFake } from '../../local/fakes/stripe/StripeFake.ts';
import { writeSecretFile } from '../../shared/oauth/FileTokenStore.ts';
import { validateLocal, writeVendorConfig } from './connectHelpers.ts';

const RK_FULL = 'rk_test_51WritebackFullAccessKey';
const RK_READ_ONLY = 'rk_test_51WritebackReadOnlyKey';

/** `writeback validate --connections` for the static-credential vendors, each connected with `writeback connect`. */
describe('CLI: writeback validate --connections (HubSpot, Stripe, Salesforce)', () => {
  let dir: string;
  let secretDir: string;
  let config: string;
  let hubspot: HubSpotFake;
  let stripe: StripeFake;
  let salesforce: SalesforceFake;

  const validate = () => validateLocal(config, secretDir);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wb-validate-static-'));
    secretDir = join(dir, 'connections');
    [hubspot, stripe, salesforce] = await Promise.all([
      startHubSpotFake({ rateLimit: false }),
      startStripeFake({
        rateLimit: false,
        identity: {
          restrictedKeys: {
            [RK_FULL]: { customers: 'write', invoices: 'write' },
            [RK_READ_ONLY]: { customers: 'read', invoices: 'read', account: 'read' },
          },
        },
      }),
      startSalesforceFake({ dailyLimit: false }),
    ]);
    config = writeVendorConfig(
      dir,
      'validate',
      {
        hubspot: { type: 'hubspot', baseUrl: hubspot.url },
        stripe: { type: 'stripe', baseUrl: stripe.url },
        salesforce: { type: 'salesforce', instanceUrl: salesforce.url },
      },
      [
        { name: 'contacts', connection: 'hubspot', object: 'contacts', deletes: true },
        { name: 'deals', connection: 'hubspot', object: 'deals', associateWith: 'contacts' },
        { name: 'customers', connection: 'stripe', object: 'customers' },
        { name: 'accounts', connection: 'salesforce', object: 'Account' },
      ],
    );
  });
  afterAll(async () => {
    await Promise.all([hubspot?.stop(), stripe?.stop(), salesforce?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('says each connection never connected and what to run', async () => {
    const { code, lines } = await validate();
    expect(code).toBe(1);
    expect(lines.slice(1)).toEqual([
      `  FAIL  hubspot (hubspot): not connected (${join(secretDir, 'hubspot.json')} holds no token): run \`writeback connect hubspot\``,
      `  FAIL  stripe (stripe): not connected (${join(secretDir, 'stripe.json')} holds no token): run \`writeback connect stripe\``,
      `  FAIL  salesforce (salesforce): not connected (${join(secretDir, 'salesforce.json')} holds no clientId, clientSecret): run \`writeback connect salesforce\``,
    ]);
  });

  it('accepts each connection connected with writeback connect: identity call answered, permissions cover the syncs', async () => {
    // Prepare: the user connects all three
    const connect = (name: string, env: Record<string, string>, clientId?: string) =>
      runConnect(name, {
        configPath: config,
        secretFile: join(secretDir, `${name}.json`),
        env,
        out: () => undefined,
        ...(clientId ? { clientId } : {}),
      });
    expect(await connect('hubspot', { WRITEBACK_TOKEN: hubspot.accessToken })).toBe(0);
    expect(await connect('stripe', { WRITEBACK_TOKEN: RK_FULL })).toBe(0);
    expect(
      await connect(
        'salesforce',
        { WRITEBACK_CLIENT_SECRET: SALESFORCE_FAKE_CLIENT_SECRET },
        SALESFORCE_FAKE_CLIENT_ID,
      ),
    ).toBe(0);
    // Act
    const { code, lines } = await validate();
    // Assess
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(
        /^ {2}OK {4}hubspot \(hubspot\): HubSpot account 24681357 \(24681357\); granted crm\.objects\.contacts\.read .*: covers its syncs$/,
      ),
      '  OK    stripe (stripe): acct_1FakeWriteback00, test mode (acct_1FakeWriteback00); granted customers: write: covers its syncs',
      '  OK    salesforce (salesforce): integration@writeback.example in org 00D5g000004FAKEEAW (00D5g000004FAKEEAW); granted api: covers its syncs',
    ]);
    expect(code).toBe(0);
  });

  it('names a permission the stored key lacks, with the sync that needs it', async () => {
    // Prepare: someone replaced the key with a read-only one
    writeSecretFile(join(secretDir, 'stripe.json'), { token: RK_READ_ONLY });
    // Act
    const { code, lines } = await validate();
    // Assess
    expect(code).toBe(1);
    expect(lines).toContain(
      '  FAIL  stripe (stripe): Writeback Fake Ltd, test mode: missing rak_customer_write (sync customers (customers: create, update)): grant them, then run `writeback connect stripe` again',
    );
  });

  it('reports a token the vendor no longer accepts with its code and the connection', async () => {
    // Prepare: the private app's token was rotated in HubSpot
    hubspot.setToken('pat-eu1-rotated-token');
    // Act
    const { code, lines } = await validate();
    // Assess
    expect(code).toBe(1);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^ {2}FAIL {2}hubspot \(hubspot\): HUBSPOT_UNAUTHORIZED: HubSpot refused the private app token: /,
      ),
    );
  });
});

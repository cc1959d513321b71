import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { XERO_FAKE_PKCE_CLIENT_ID, type XeroFake } from '../../local/fakes/xero/XeroFake.ts';
import { validateConfig } from '../../shared/config/validateConfig.ts';
import { OAuthTokenEndpoint } from '../../shared/connectors/http/OAuthTokenEndpoint.ts';
import { tokenSetFields } from '../../shared/oauth/TokenSet.ts';

const REDIRECT = 'http://127.0.0.1:5555/callback';

/** One sync, `contacts`, into the Xero connection `xero` (secret `writeback/xero`). */
export const xeroContactsConfig = validateConfig({
  connections: { xero: { type: 'xero', secret: 'writeback/xero' } },
  syncs: [
    {
      name: 'contacts',
      source: { table: 'src.customers', key: 'id', cursor: 'updated_at' },
      target: { connection: 'xero', object: 'Contacts' },
      map: (row: Record<string, unknown>) => ({ Name: String(row.name) }),
    },
  ],
});

/**
 * `writeback connect` in short, against the Xero fake (a PKCE app): an authorization code asked for
 * headlessly, exchanged, and the tokens written to a new secret `name` in (local) Secrets Manager.
 */
export async function connectXeroFake(
  fake: XeroFake,
  secrets: SecretsManagerClient,
  name: string,
  scope = 'offline_access accounting.contacts accounting.transactions',
): Promise<string> {
  const res = await fetch(
    `${fake.url}/identity/connect/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: XERO_FAKE_PKCE_CLIENT_ID,
      redirect_uri: REDIRECT,
      scope,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    })}`,
    { redirect: 'manual' },
  );
  const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
  const endpoint = new OAuthTokenEndpoint({
    tokenUrl: `${fake.url}/connect/token`,
    clientId: XERO_FAKE_PKCE_CLIENT_ID,
    codePrefix: 'XERO',
    vendor: 'Xero',
  });
  const tokens = await endpoint.exchangeCode(code, REDIRECT, 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
  const secret = tokenSetFields(tokens, {
    clientId: XERO_FAKE_PKCE_CLIENT_ID,
    tenantId: fake.tenantId,
    baseUrl: fake.url,
  });
  await secrets.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(secret) }));
  return name;
}

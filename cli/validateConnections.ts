import { existsSync, readFileSync } from 'node:fs';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerTokenStore } from '../shared/aws/SecretsManagerTokenStore.ts';
import type { ConnectionConfig, WritebackConfig } from '../shared/config/schema.ts';
import { OAuthTokenEndpoint } from '../shared/connectors/http/OAuthTokenEndpoint.ts';
import { Secret } from '../shared/connectors/http/Secret.ts';
import { connectorDefinition } from '../shared/connectors/registry.ts';
import { describeError } from '../shared/errors.ts';
import type { StaticCredentials } from '../shared/oauth/CredentialCheck.ts';
import { FileLease } from '../shared/oauth/FileLease.ts';
import { FileTokenStore } from '../shared/oauth/FileTokenStore.ts';
import { describeMissing, missingScopes, type OAuthApp } from '../shared/oauth/OAuthApp.ts';
import type { RefreshLease } from '../shared/oauth/RefreshLease.ts';
import { RotatingToken } from '../shared/oauth/RotatingToken.ts';
import { tokenSetOf } from '../shared/oauth/TokenSet.ts';
import type { TokenStore } from '../shared/oauth/TokenStore.ts';
import { DynamoRefreshLease } from '../shared/state/DynamoRefreshLease.ts';
import { localTokenFile } from './connectStore.ts';
import { syncUses } from './connectUses.ts';

/** Where a deployment keeps each connection's credentials, as `writeback validate --connections` reads them. */
export interface ConnectionStores {
  /** The stored fields of a connection, or undefined when it was never connected. */
  read(name: string, connection: ConnectionConfig): Promise<Record<string, string> | undefined>;
  /** Store and lease for refreshing its rotating tokens the way the writers do. */
  rotation(name: string, connection: ConnectionConfig): { store: TokenStore; lease: RefreshLease };
  /** Where they are, for messages. */
  describe(name: string, connection: ConnectionConfig): string;
}

/** A connection's result: ok with what was checked, or failed with what to do. */
export interface ConnectionCheck {
  readonly connection: string;
  readonly type: string;
  readonly status: 'ok' | 'failed' | 'skipped';
  readonly detail: string;
}

/**
 * Checks each connection the syncs write through before the first run: its credentials are where
 * the deployment reads them, the vendor's cheapest identity endpoint accepts them (Xero: GET
 * /connections, refreshing the access token first if it has expired, one writer at a time like the
 * writers), the organisation they were connected to is still reachable, and the scopes granted
 * cover what the syncs write (each missing one named, with the sync that needs it). A static
 * credential (the definition's `credentials`: HubSpot, Stripe, Salesforce) goes through its own
 * check; connectors with neither are skipped, said so.
 */
export async function checkConnections(
  config: WritebackConfig,
  stores: ConnectionStores,
): Promise<ConnectionCheck[]> {
  const names = [...new Set(config.syncs.map((s) => s.target.connection))];
  const checks: ConnectionCheck[] = [];
  for (const name of names) {
    const connection = config.connections[name]!;
    const definition = connectorDefinition(connection.type)!;
    const oauth = definition.oauth as OAuthApp | undefined;
    const base = { connection: name, type: connection.type };
    const stored =
      definition.credentials && oauth
        ? await stores.read(name, connection).catch(() => undefined)
        : undefined;
    // A vendor with both: the stored fields say which way it was connected.
    if (definition.credentials && !(oauth && stored?.refreshToken)) {
      const check = await checkStatic(
        name,
        connection,
        definition.credentials,
        syncUses(config, name),
        stores,
      );
      checks.push({ ...base, ...check });
      continue;
    }
    if (!oauth) {
      checks.push({
        ...base,
        status: 'skipped',
        detail: `no identity check for ${definition.title} connections yet`,
      });
      continue;
    }
    const needs = oauth.scopesFor(syncUses(config, name));
    try {
      const fields = await stores.read(name, connection);
      const tokens = fields ? tokenSetOf(fields) : undefined;
      if (!fields || !tokens || !fields.clientId) {
        checks.push({
          ...base,
          status: 'failed',
          detail: `not connected (${stores.describe(name, connection)} holds no refresh token): run \`writeback connect ${name}\``,
        });
        continue;
      }
      const { store, lease } = stores.rotation(name, connection);
      const endpoint = new OAuthTokenEndpoint({
        tokenUrl: oauth.tokenUrl(connection),
        clientId: fields.clientId,
        ...(fields.clientSecret ? { clientSecret: new Secret(fields.clientSecret) } : {}),
        clientAuth: oauth.clientAuth,
        codePrefix: connection.type.toUpperCase().replace(/-/g, '_'),
        vendor: definition.title,
        connection: name,
        ...(oauth.invalidGrant ? { invalidGrant: (b) => oauth.invalidGrant!(b) } : {}),
      });
      const token = new RotatingToken({
        store,
        lease,
        refresh: (rt) => endpoint.refresh(rt),
        initial: tokens,
        codePrefix: connection.type.toUpperCase().replace(/-/g, '_'),
        vendor: definition.title,
      });
      const accessToken = await token.get();
      const accounts = await oauth.accounts(connection, accessToken);
      const wanted = oauth.accountOf(fields);
      const account = accounts.find((a) => a.id === wanted);
      if (!account) {
        checks.push({
          ...base,
          status: 'failed',
          detail: `the organisation ${wanted ?? '(none stored)'} is no longer connected to the app (reachable: ${accounts.map((a) => a.name).join(', ') || 'none'}): run \`writeback connect ${name}\``,
        });
        continue;
      }
      const granted = oauth.scopesOf
        ? await oauth.scopesOf(connection, accessToken)
        : ((await store.read().catch(() => undefined))?.tokens.scope ?? tokens.scope);
      const missing = [
        ...missingScopes(granted, needs),
        ...((await oauth.permissionsMissing?.(connection, account, accessToken, syncUses(config, name))) ??
          []),
      ];
      checks.push(
        missing.length > 0
          ? {
              ...base,
              status: 'failed',
              detail: `${account.name}: missing ${describeMissing(missing)}: run \`writeback connect ${name}\` and grant them`,
            }
          : {
              ...base,
              status: 'ok',
              detail: `${account.name} (${account.id}); scopes ${granted ?? ''} cover its syncs`,
            },
      );
    } catch (err) {
      const { code, message } = describeError(err);
      checks.push({ ...base, status: 'failed', detail: `${code}: ${message}` });
    }
  }
  return checks;
}

/**
 * A static credential (a token, a key, client credentials) as stored: the vendor's identity call
 * accepts it, and what it may do covers what the syncs do.
 */
async function checkStatic(
  name: string,
  connection: ConnectionConfig,
  credentials: StaticCredentials,
  uses: Parameters<StaticCredentials['check']>[2],
  stores: ConnectionStores,
): Promise<Pick<ConnectionCheck, 'status' | 'detail'>> {
  try {
    const fields = await stores.read(name, connection);
    const absent = credentials.fields.filter(
      (f) => !fields?.[f.field] && !(f.fromConfig && (connection as Record<string, unknown>)[f.fromConfig]),
    );
    if (!fields || absent.length > 0) {
      return {
        status: 'failed',
        detail: `not connected (${stores.describe(name, connection)} holds no ${absent.map((f) => f.field).join(', ')}): run \`writeback connect ${name}\``,
      };
    }
    const { account, granted, missing } = await credentials.check(connection, fields, uses);
    return missing.length > 0
      ? {
          status: 'failed',
          detail: `${account.name}: missing ${describeMissing(missing)}: grant them, then run \`writeback connect ${name}\` again`,
        }
      : { status: 'ok', detail: `${account.name} (${account.id}); granted ${granted}: covers its syncs` };
  } catch (err) {
    const { code, message } = describeError(err);
    return { status: 'failed', detail: `${code}: ${message}` };
  }
}

/** The local files `writeback connect` writes without --stack: `<dir>/<connection>.json`, 0600. */
export function localStores(dir = '.wb/connections'): ConnectionStores {
  const path = (name: string, c: ConnectionConfig) => localTokenFile(name, c, dir);
  return {
    read: async (name, c) =>
      existsSync(path(name, c))
        ? (JSON.parse(readFileSync(path(name, c), 'utf8')) as Record<string, string>)
        : undefined,
    rotation: (name, c) => ({
      store: new FileTokenStore(path(name, c)),
      lease: new FileLease(`${path(name, c)}.lock`),
    }),
    describe: (name, c) => path(name, c),
  };
}

/** A deployed stack's connection secrets, and the refresh lease its writers use (the state table). */
export function stackStores(
  client: SecretsManagerClient,
  lease: { readonly ddb: ConstructorParameters<typeof DynamoRefreshLease>[0]; readonly stateTable: string },
): ConnectionStores {
  const secretOf = (name: string, c: ConnectionConfig) => c.secret ?? `connections.${name}.secret`;
  return {
    read: async (_name, c) => {
      if (!c.secret) return undefined;
      const { GetSecretValueCommand, ResourceNotFoundException } = await import(
        '@aws-sdk/client-secrets-manager'
      );
      try {
        const out = await client.send(new GetSecretValueCommand({ SecretId: c.secret }));
        return JSON.parse(out.SecretString ?? '{}') as Record<string, string>;
      } catch (err) {
        if (err instanceof ResourceNotFoundException) return undefined;
        throw err;
      }
    },
    rotation: (name, c) => ({
      store: new SecretsManagerTokenStore(client, secretOf(name, c)),
      lease: new DynamoRefreshLease(lease.ddb, lease.stateTable, name),
    }),
    describe: (name, c) => `the secret ${secretOf(name, c)}`,
  };
}

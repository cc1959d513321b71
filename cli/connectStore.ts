import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ConnectionConfig } from '../shared/config/schema.ts';
import { writeSecretFile } from '../shared/oauth/FileTokenStore.ts';
import { UsageError } from '../shared/ops/errors.ts';

/** Where `writeback connect` stores what it got, and who may ask it to (the client for --stack). */
export interface StoreOptions {
  /** Store in the connection's Secrets Manager secret (the stack reads it) instead of a local file. */
  readonly stack?: string;
  readonly region?: string;
  /** The local file to write. @default .wb/connections/<connection>.json */
  readonly secretFile?: string;
  /** The Secrets Manager client for --stack (tests point it at a local endpoint). */
  readonly secretsManager?: SecretsManagerClient;
}

/** Stores a connection's fields where the deployment reads them: its secret (--stack) or a 0600 file. Says where. */
export async function storeConnection(
  name: string,
  connection: ConnectionConfig,
  fields: Record<string, string>,
  opts: StoreOptions,
): Promise<string> {
  return opts.stack
    ? storeInSecret(connection, name, fields, opts)
    : storeInFile(opts.secretFile ?? localTokenFile(name, connection), fields);
}

/** Where a connection's tokens go without --stack: its `tokenFile` (the local stack reads it), or .wb/connections/. */
export function localTokenFile(name: string, connection: ConnectionConfig, dir = '.wb/connections'): string {
  return (connection as { tokenFile?: string }).tokenFile ?? `${dir}/${name}.json`;
}

function storeInFile(path: string, fields: Record<string, string>): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeSecretFile(path, fields);
  return `${path} (mode 0600)`;
}

async function storeInSecret(
  connection: ConnectionConfig,
  name: string,
  fields: Record<string, string>,
  opts: StoreOptions,
): Promise<string> {
  if (!connection.secret)
    throw new UsageError(`--stack: connections.${name}.secret names no secret to store the tokens in`);
  const sdk = await import('@aws-sdk/client-secrets-manager');
  const client =
    opts.secretsManager ?? new sdk.SecretsManagerClient(opts.region ? { region: opts.region } : {});
  const SecretString = JSON.stringify(fields);
  try {
    await client.send(new sdk.PutSecretValueCommand({ SecretId: connection.secret, SecretString }));
    return `the secret ${connection.secret} (a new version; the previous one is kept as AWSPREVIOUS)`;
  } catch (err) {
    if (!(err instanceof sdk.ResourceNotFoundException)) throw err;
    await client.send(new sdk.CreateSecretCommand({ Name: connection.secret, SecretString }));
    return `the new secret ${connection.secret}`;
  } finally {
    if (!opts.secretsManager) client.destroy();
  }
}

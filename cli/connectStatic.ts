import type { ConnectionConfig } from '../shared/config/schema.ts';
import type { ConnectorDefinition } from '../shared/connectors/ConnectorDefinition.ts';
import { describeError } from '../shared/errors.ts';
import type { CredentialField, StaticCredentials, SyncUse } from '../shared/oauth/CredentialCheck.ts';
import { describeMissing } from '../shared/oauth/OAuthApp.ts';
import { UsageError } from '../shared/ops/errors.ts';
import { type StoreOptions, storeConnection } from './connectStore.ts';
import { EXIT } from './output.ts';
import type { Prompt } from './prompt.ts';

export interface StaticConnectOptions extends StoreOptions {
  /** The value of a field given as the CLI option (`--client-id`). */
  readonly clientId?: string;
  readonly out: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly prompt: Prompt | undefined;
}

/**
 * `writeback connect` for a vendor whose credential the user already holds (a HubSpot private app
 * token, a Stripe restricted key, a Salesforce connected app's client credentials): asked for
 * (secrets without echo, or from their environment variable; never a CLI option), checked with the
 * vendor's identity call and for what the syncs do, and stored only when both pass. Returns the
 * exit code: 1 with nothing stored when the vendor refuses the credential or it lacks a permission.
 */
export async function runStaticConnect(
  name: string,
  connection: ConnectionConfig,
  definition: ConnectorDefinition,
  uses: readonly SyncUse[],
  opts: StaticConnectOptions,
): Promise<number> {
  const credentials = definition.credentials as StaticCredentials;
  const fields: Record<string, string> = {};
  for (const field of credentials.fields) {
    const value = await fieldValue(field, connection, opts, definition.title);
    if (value !== undefined) fields[field.field] = value;
  }
  let checked: Awaited<ReturnType<StaticCredentials['check']>>;
  try {
    checked = await credentials.check(connection, fields, uses);
  } catch (err) {
    const { code, message } = describeError(err);
    opts.out(
      `${definition.title} did not accept the credentials for connection ${name} (${code}: ${message}). Nothing was stored.`,
    );
    return EXIT.failed;
  }
  const { account, missing } = checked;
  if (missing.length > 0) {
    opts.out(
      `${name}: ${account.name} lacks what its syncs need: ${describeMissing(missing)}. Nothing was stored: grant them and run \`writeback connect ${name}\` again.`,
    );
    return EXIT.failed;
  }
  const where = await storeConnection(name, connection, { ...fields, ...checked.fields }, opts);
  opts.out(`Connected ${name} to ${account.name} (${account.id}); granted: ${checked.granted}`);
  opts.out(`Stored in ${where}.`);
  return EXIT.ok;
}

/** A field's value: from the config, the CLI option, the environment, or asked at the terminal. */
async function fieldValue(
  field: CredentialField,
  connection: ConnectionConfig,
  opts: StaticConnectOptions,
  vendor: string,
): Promise<string | undefined> {
  if (field.fromConfig) {
    const configured = (connection as Record<string, unknown>)[field.fromConfig];
    if (typeof configured === 'string' && configured !== '') return undefined;
  }
  const given =
    (field.option ? opts[field.option] : undefined) ?? (field.env ? opts.env[field.env] : undefined);
  if (given !== undefined && given !== '') return given.trim();
  if (!opts.prompt) {
    const how = field.env
      ? `set ${field.env}`
      : field.option
        ? `pass --${field.option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
        : `set connections.<name>.${field.fromConfig ?? field.field} in the config`;
    throw new UsageError(`no terminal to ask for the ${vendor} ${field.field} on: ${how}`);
  }
  const answer = (
    await (field.hidden ? opts.prompt.askHidden(field.question) : opts.prompt.ask(field.question))
  ).trim();
  if (!answer) throw new UsageError(`no ${vendor} ${field.field} given`);
  return answer;
}

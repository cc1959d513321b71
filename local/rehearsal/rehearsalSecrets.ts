import type { WritebackConfig } from '../../shared/config/schema.ts';
import { ENV } from '../../shared/contracts/RuntimeEnv.ts';
import { WritebackError } from '../../shared/errors.ts';
import type { SeedSecret } from '../aws/LocalSecretsManager.ts';
import type { LocalStack } from '../LocalStack.ts';
import { type ResolvedStack, SECRET_ARN_SUFFIX } from './resolveTemplate.ts';

/**
 * The secrets a rehearsed stack reads, found where the functions are told to read them (their
 * `WB_*_SECRET_ARN` variables: an imported secret's ARN, or one the stack creates, such as the
 * trial database's), with the local world's values: the warehouse's URL for the warehouse secrets,
 * each connection's local credentials (a fake's URL and token, the billing database) for the
 * writer's. A Postgres URL carries no CA file: on AWS the functions trust the RDS authorities
 * through the Lambda runtime's CA bundle (NODE_EXTRA_CA_CERTS), which the rehearsal maps to the
 * local CA, so the same verify-full path is taken.
 */
/** A secret a rehearsed function reads that the rehearsal cannot fill from the local world. */
export class RehearsalSecretError extends WritebackError {
  public constructor(message: string) {
    super('WB_REHEARSAL_SECRET_MISSING', message);
    this.name = 'RehearsalSecretError';
  }
}

/**
 * @param given values from the user's `--secrets <file>`, by secret name or ARN: they win over the
 * local world's (a connection without a local fake, or a sandbox account to rehearse against).
 */
export function rehearsalSecrets(
  stack: ResolvedStack,
  config: WritebackConfig,
  local: LocalStack,
  given: Readonly<Record<string, unknown>> = {},
): SeedSecret[] {
  const values = new Map<string, string>();
  const dwhUrl = withoutCaFile(local.pg.url('dwh'));
  // A secret the stack creates (the trial database's) holds RDS's fields, not a URL: so does the rehearsal's.
  const created = new Set(
    [...stack.physical.values()].filter((p) => p.type === 'AWS::SecretsManager::Secret').map((p) => p.ref),
  );
  for (const r of Object.values(stack.resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const env =
      (r.Properties?.Environment as { Variables?: Record<string, string> } | undefined)?.Variables ?? {};
    for (const key of [ENV.dwhSecretArn, ENV.dwhWriterSecretArn]) {
      const arn = env[key];
      if (arn) values.set(arn, created.has(arn) ? rdsSecret(dwhUrl) : JSON.stringify({ url: dwhUrl }));
    }
    const sync = config.syncs.find((s) => s.name === env[ENV.sync]);
    const connectionArn = env[ENV.connectionSecretArn];
    if (connectionArn && sync && givenValue(given, connectionArn) === undefined) {
      values.set(connectionArn, JSON.stringify(localFields(local, sync.target.connection, connectionArn)));
    }
    for (const arn of [env[ENV.dwhSecretArn], env[ENV.dwhWriterSecretArn], connectionArn]) {
      const value = arn ? givenValue(given, arn) : undefined;
      if (arn && value !== undefined) values.set(arn, value);
    }
  }
  return [...values].map(([arn, value]) => ({ name: secretName(arn), value, arn: fullArn(stack, arn) }));
}

/** The user's value of a secret, by its name or ARN, as Secrets Manager stores it (a string). */
function givenValue(given: Readonly<Record<string, unknown>>, arn: string): string | undefined {
  const value = given[secretName(arn)] ?? given[arn];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A connection's local credentials, or an error saying how to give them. */
function localFields(local: LocalStack, connection: string, arn: string): Record<string, string> {
  try {
    return secretFields(local, connection);
  } catch (err) {
    throw new RehearsalSecretError(
      `secret ${secretName(arn)} of connection '${connection}': ${(err as Error).message}. Give its value in a JSON file, --secrets <file> ({"${secretName(arn)}": {...}}): a sandbox account's credentials, or your own fake's URL`,
    );
  }
}

function secretFields(local: LocalStack, connection: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(local.credentials(connection))) {
    if (typeof v === 'string') fields[k] = k === 'url' ? withoutCaFile(v) : v;
  }
  return fields;
}

/** The secret's name: its ARN without the six characters (a partial ARN has none). */
function secretName(arn: string): string {
  const name = /^arn:aws[\w-]*:secretsmanager:[^:]+:\d{12}:secret:(.+)$/.exec(arn)?.[1] ?? arn;
  return name.endsWith(SECRET_ARN_SUFFIX) ? name.slice(0, -SECRET_ARN_SUFFIX.length) : name;
}

/** The complete ARN the secret has: a partial ARN's secret gets the six characters too. */
function fullArn(stack: ResolvedStack, arn: string): string {
  if (arn.endsWith(SECRET_ARN_SUFFIX)) return arn;
  return `arn:aws:secretsmanager:${stack.region}:${stack.account}:secret:${secretName(arn)}${SECRET_ARN_SUFFIX}`;
}

/** RDS's secret fields (`{engine, host, port, username, password, dbname}`) for a Postgres URL. */
function rdsSecret(url: string): string {
  const u = new URL(url);
  return JSON.stringify({
    engine: 'postgres',
    host: u.hostname,
    port: Number(u.port || 5432),
    username: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    dbname: u.pathname.slice(1),
  });
}

function withoutCaFile(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  params.delete('sslrootcert');
  const rest = params.toString();
  return rest ? `${url.slice(0, q)}?${rest}` : url.slice(0, q);
}

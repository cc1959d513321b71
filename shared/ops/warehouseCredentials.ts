import { readFileSync, statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './errors.ts';

/**
 * Where a password for the warehouse comes from when the operator CLI connects: never the command
 * line (another user sees it in `ps`, the shell keeps it in its history), but, in libpq's order,
 * PGPASSWORD in the environment, then a pgpass file (PGPASSFILE, else ~/.pgpass), then the
 * warehouse secret the config names.
 */
export type PasswordSource = 'PGPASSWORD' | 'pgpass' | 'secret' | 'none';

/** Query parameters of a connection URL that carry a secret (postgres.js passes unknown ones on to the server). */
const SECRET_PARAMS = new Set(['password', 'pass', 'sslpassword', 'token', 'secret', 'apikey', 'api_key']);

/** `scheme://user:password@` in any text: the password is what follows the first colon of the user info. */
const USERINFO_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/?#@]*):([^\s/?#@]*)@/gi;
/** `password=…` (and the other SECRET_PARAMS) in a query string or a key=value connection string. */
const PARAM_SECRET = /([?&;\s]|^)(password|pass|sslpassword|token|secret|apikey|api_key)=([^&\s;]*)/gi;

/** Text with every password in URLs and `password=` parameters replaced by `***`. */
export function redactSecrets(text: string): string {
  return text
    .replace(USERINFO_PASSWORD, (_m, scheme: string, user: string) => `${scheme}${user}:***@`)
    .replace(PARAM_SECRET, (_m, lead: string, name: string) => `${lead}${name}=***`);
}

/**
 * What in an option's value is a secret: a URL whose user info carries a password, or a query
 * parameter such as `password=`; undefined when nothing is.
 */
export function secretInValue(value: string): string | undefined {
  USERINFO_PASSWORD.lastIndex = 0;
  const userinfo = USERINFO_PASSWORD.exec(value);
  USERINFO_PASSWORD.lastIndex = 0;
  if (userinfo && userinfo[3] !== '') return 'a password';
  const query = value.indexOf('?');
  if (query >= 0 && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    for (const [name, v] of new URLSearchParams(value.slice(query + 1))) {
      if (SECRET_PARAMS.has(name.toLowerCase()) && v !== '') return `a ${name} parameter`;
    }
  }
  return undefined;
}

/**
 * Refuses options that carry a secret (`--dwh-url postgres://user:secret@host/db`) with a usage
 * error that says how to pass it instead; the value is named with its secret redacted.
 * `options`: option name (`--dwh-url`) → its value(s), as the parser gave them.
 */
export function refuseSecretOptions(options: Readonly<Record<string, unknown>>): void {
  for (const [name, raw] of Object.entries(options)) {
    const values = Array.isArray(raw) ? raw : [raw];
    for (const value of values) {
      if (typeof value !== 'string') continue;
      const what = secretInValue(value);
      if (!what) continue;
      throw new UsageError(
        `${name} ${redactSecrets(value)} carries ${what}: a secret on the command line is visible to other users (ps) and kept in your shell history, so the CLI refuses it. ` +
          'Pass the URL without it, and give the password as PGPASSWORD in the environment, in a pgpass file ' +
          '(~/.pgpass, or the file PGPASSFILE names; lines host:port:database:user:password, * matches anything, mode 0600), ' +
          "or leave it to the warehouse secret the config names (warehouse.secret: its password is used for the URL's user)",
      );
    }
  }
}

/** Who and where a connection URL logs in, with postgres.js's defaults for what the URL leaves out. */
export interface LoginTarget {
  readonly host: string;
  readonly port: string;
  readonly database: string;
  readonly user: string;
}

/** The host, port, database and user postgres.js will use for `url` (its defaults: PG* variables, the OS user). */
export function loginTarget(url: string, env: NodeJS.ProcessEnv = process.env): LoginTarget {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  const firstHost = (parsed?.hostname ?? '').split(',')[0]!.replace(/^\[(.*)\]$/, '$1');
  const user = decodeURIComponent(parsed?.username ?? '') || env.PGUSERNAME || env.PGUSER || osUser();
  return {
    host: firstHost || env.PGHOST || 'localhost',
    port: parsed?.port || env.PGPORT || '5432',
    database: decodeURIComponent((parsed?.pathname ?? '').slice(1)) || env.PGDATABASE || user,
    user,
  };
}

/** One line of a pgpass file: four patterns (`*` matches anything) and the password. */
export interface PgpassEntry {
  readonly host: string;
  readonly port: string;
  readonly database: string;
  readonly user: string;
  readonly password: string;
}

/**
 * The lines of a pgpass file, in order: `hostname:port:database:username:password`, `\:` and `\\`
 * escaping a colon and a backslash, `#` starting a comment line; malformed lines are skipped.
 */
export function parsePgpass(text: string): PgpassEntry[] {
  const entries: PgpassEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const fields: string[] = [];
    let field = '';
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (c === '\\' && i + 1 < line.length) {
        field += line[++i];
      } else if (c === ':' && fields.length < 4) {
        fields.push(field);
        field = '';
      } else {
        field += c;
      }
    }
    fields.push(field);
    if (fields.length !== 5) continue;
    const [host, port, database, user, password] = fields as [string, string, string, string, string];
    entries.push({ host, port, database, user, password });
  }
  return entries;
}

/** The password of the first pgpass entry that matches the login (libpq's rule); undefined when none does. */
export function pgpassPassword(entries: readonly PgpassEntry[], target: LoginTarget): string | undefined {
  const match = (pattern: string, value: string) => pattern === '*' || pattern === value;
  const found = entries.find(
    (e) =>
      match(e.host, target.host) &&
      match(e.port, target.port) &&
      match(e.database, target.database) &&
      match(e.user, target.user),
  );
  return found?.password;
}

/**
 * The pgpass file's password for a login: PGPASSFILE, else ~/.pgpass. As libpq does, a file that
 * the group or others can read is ignored, with a warning (it would leak the passwords it holds).
 */
export function readPgpass(
  target: LoginTarget,
  env: NodeJS.ProcessEnv = process.env,
  warn: (line: string) => void = () => undefined,
): string | undefined {
  const file = env.PGPASSFILE || join(env.HOME || homedir(), '.pgpass');
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) return undefined;
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      warn(
        `pgpass file ${file} is readable by the group or others: ignored (chmod 0600 ${file} makes it usable)`,
      );
      return undefined;
    }
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  return pgpassPassword(parsePgpass(text), target);
}

/** What the warehouse's secret holds for a login: its user and password (an RDS-style secret or a url). */
export interface SecretLogin {
  readonly user?: string;
  readonly password?: string;
}

/** The user and password of a secret's JSON: `username`/`password`, or those of its `url`. */
export function secretLogin(secret: Readonly<Record<string, string>>): SecretLogin {
  if (secret.password !== undefined) {
    return { ...(secret.username ? { user: secret.username } : {}), password: secret.password };
  }
  if (secret.url) {
    try {
      const u = new URL(secret.url);
      return {
        ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
        ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      };
    } catch {
      return {};
    }
  }
  return {};
}

/** The password (and, when the URL names no user, the user) to connect with, and where it came from. */
export interface WarehouseLogin {
  readonly source: PasswordSource;
  readonly password?: string;
  readonly username?: string;
}

/**
 * How the CLI logs in to the warehouse at `url` (a URL without a password: refuseSecretOptions
 * saw to that for --dwh-url): PGPASSWORD (postgres.js reads it itself), else the pgpass file's
 * matching line, else the warehouse secret's password when the secret's user is the URL's (or the
 * URL names none), else no password (trust or certificate authentication).
 */
export async function warehouseLogin(
  url: string,
  opts: {
    readonly env?: NodeJS.ProcessEnv;
    readonly readSecret?: () => Promise<Readonly<Record<string, string>>>;
    readonly warn?: (line: string) => void;
  } = {},
): Promise<WarehouseLogin> {
  const env = opts.env ?? process.env;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed?.password) return { source: 'none' };
  if (env.PGPASSWORD) return { source: 'PGPASSWORD' };
  const target = loginTarget(url, env);
  const fromFile = readPgpass(target, env, opts.warn);
  if (fromFile !== undefined) return { source: 'pgpass', password: fromFile };
  if (opts.readSecret) {
    let login: SecretLogin;
    try {
      login = secretLogin(await opts.readSecret());
    } catch (err) {
      opts.warn?.(
        `the warehouse secret could not be read for the password: ${redactSecrets((err as Error).message)}`,
      );
      return { source: 'none' };
    }
    const urlUser = decodeURIComponent(parsed?.username ?? '');
    if (login.password !== undefined && (!urlUser || !login.user || login.user === urlUser)) {
      return {
        source: 'secret',
        password: login.password,
        ...(!urlUser && login.user ? { username: login.user } : {}),
      };
    }
  }
  return { source: 'none' };
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? '';
  }
}

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { type ConnectionOptions, checkServerIdentity, type PeerCertificate } from 'node:tls';
import { ConfigValidationError, WritebackError } from './errors.ts';

/**
 * How a connection to Postgres uses TLS, libpq's names. Writeback knows no mode that falls back to
 * plaintext (libpq's `allow` and `prefer`): a connection is encrypted, or plaintext because its
 * URL says `sslmode=disable`.
 *
 * | sslmode       | encrypted | CA checked | host name checked |
 * | ------------- | --------- | ---------- | ----------------- |
 * | `disable`     | no        | no         | no                |
 * | `require`     | yes       | no (yes with `sslrootcert`, as libpq: then it is `verify-ca`) | no |
 * | `verify-ca`   | yes       | yes        | no                |
 * | `verify-full` | yes       | yes        | yes (the default) |
 *
 * The CAs are Node's (Mozilla's list plus `NODE_EXTRA_CA_CERTS`, which the stack points at the
 * Lambda runtime's Amazon bundle), or only those of `sslrootcert` when it names a file or holds
 * PEM text; `sslrootcert=system` is Node's list, and like libpq it allows only `verify-full`.
 */
export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** Without `sslmode` in the URL: TLS with the certificate and the host name verified. */
export const DEFAULT_SSL_MODE: SslMode = 'verify-full';

/**
 * The URL parameters read here and removed from the URL: postgres.js would send a parameter it
 * does not know (`sslrootcert`, `sslcert`, `sslkey`) to the server as a session setting, which
 * the server refuses. `ssl` is postgres.js's own name for sslmode (`ssl=true` is verify-full).
 */
const TLS_PARAMS = ['sslmode', 'ssl', 'sslrootcert', 'sslcert', 'sslkey'] as const;

export interface PostgresTls {
  readonly mode: SslMode;
  /** The URL without the TLS parameters. */
  readonly url: string;
  /** postgres.js's `ssl` option: false, or the options of Node's tls.connect. */
  readonly ssl: false | ConnectionOptions;
}

/** Reads a file named by sslrootcert/sslcert/sslkey (injectable for tests). */
export type ReadPem = (path: string) => string;

const readPemFile: ReadPem = (path) => readFileSync(path, 'utf8');

/**
 * The TLS of a connection URL: its `sslmode` (default verify-full), `sslrootcert` (a file, PEM
 * text, or `system`), and a client certificate (`sslcert`, `sslkey`). `label` names the connection
 * in errors (`warehouse`, `postgres target`).
 */
export function postgresTls(url: string, label: string, readPem: ReadPem = readPemFile): PostgresTls {
  const q = url.indexOf('?');
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const rest = new URLSearchParams(params);
  for (const name of TLS_PARAMS) rest.delete(name);
  const plainUrl = (q < 0 ? url : url.slice(0, q)) + (rest.size > 0 ? `?${rest.toString()}` : '');

  const rootcert = params.get('sslrootcert') ?? undefined;
  const asked = params.get('sslmode') ?? sslAlias(params.get('ssl'));
  const mode = sslMode(asked ?? DEFAULT_SSL_MODE, label);
  if (rootcert === 'system' && mode !== 'verify-full') {
    throw new ConfigValidationError([
      `${label} url: sslrootcert=system allows only sslmode=verify-full (libpq refuses weaker modes with it), not ${mode}`,
    ]);
  }
  if (mode === 'disable') return { mode, url: plainUrl, ssl: false };

  const pem = (param: string, value: string): string => {
    if (value.trimStart().startsWith('-----BEGIN')) return value;
    try {
      return readPem(value);
    } catch (err) {
      throw new ConfigValidationError([
        `${label} url: ${param}=${value} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): give a PEM file this process can read`,
      ]);
    }
  };
  const ca = rootcert !== undefined && rootcert !== 'system' ? pem('sslrootcert', rootcert) : undefined;
  const clientCert = params.get('sslcert');
  const clientKey = params.get('sslkey');
  const client = {
    ...(clientCert ? { cert: pem('sslcert', clientCert) } : {}),
    ...(clientKey ? { key: pem('sslkey', clientKey) } : {}),
  };
  // libpq: with a root certificate given, `require` verifies the CA like verify-ca.
  const checks = mode === 'require' && ca !== undefined ? 'verify-ca' : mode;
  if (checks === 'require') return { mode, url: plainUrl, ssl: { ...client, rejectUnauthorized: false } };
  // verify-ca checks the chain only; verify-full also the host name (an IP host against the URL's IP).
  const identity: NonNullable<ConnectionOptions['checkServerIdentity']> =
    checks === 'verify-ca'
      ? () => undefined
      : (host, cert) => hostNameError(urlHosts(url), host, cert, label);
  return {
    mode,
    url: plainUrl,
    ssl: { ...client, ...(ca ? { ca } : {}), rejectUnauthorized: true, checkServerIdentity: identity },
  };
}

/** postgres.js's `ssl` URL parameter: `true` verifies everything, `false` is plaintext, else a mode. */
function sslAlias(value: string | null): string | undefined {
  if (value === null) return undefined;
  if (value === 'true') return 'verify-full';
  if (value === 'false') return 'disable';
  return value;
}

function sslMode(value: string, label: string): SslMode {
  if ((SSL_MODES as readonly string[]).includes(value)) return value as SslMode;
  const why =
    value === 'prefer' || value === 'allow'
      ? `sslmode=${value} falls back to plaintext without saying so, which Writeback does not do`
      : `sslmode=${value} is not one Writeback knows`;
  throw new ConfigValidationError([
    `${label} url: ${why}; use verify-full (the default), verify-ca, require, or disable to connect without TLS`,
  ]);
}

/**
 * The hosts of a URL as postgres.js reads them (`postgres://u:p@h1:5432,h2/db`: h1, h2; no host
 * is localhost).
 */
function urlHosts(url: string): string[] {
  const authority = url.slice(url.indexOf('://') + 3).split(/[?/]/)[0] ?? '';
  const hosts = decodeURIComponent(authority.slice(authority.indexOf('@') + 1));
  return hosts
    .split(',')
    .map((h) => (h.startsWith('[') ? h.slice(1, h.indexOf(']')) : (h.split(':')[0] ?? '')) || 'localhost');
}

/**
 * Node's host-name check (subjectAltName, then CN), against the host the URL names, with an
 * error that says what to do (a tunnel to localhost reaches a server whose certificate names
 * another host). postgres.js gives TLS no server name for an IP address, and Node then checks the
 * name `localhost`: an IP host is checked here against the URL's IP addresses instead.
 */
function hostNameError(
  hosts: readonly string[],
  nodeHost: string,
  cert: PeerCertificate,
  label: string,
): Error | undefined {
  const ips = hosts.filter((h) => isIP(h) !== 0);
  const names = hosts.includes(nodeHost) ? [nodeHost] : ips.length > 0 ? ips : [nodeHost];
  const errors = names.map((name) => checkServerIdentity(name, cert));
  if (errors.some((e) => e === undefined)) return undefined;
  const err = errors[0]!;
  return new WritebackError(
    'WB_POSTGRES_TLS',
    `${label}: sslmode=verify-full refused the server's certificate: ${err.message}. Connect with a host ` +
      `name the certificate names (${cert.subjectaltname ?? `CN=${cert.subject?.CN ?? '?'}`}); through a tunnel ` +
      'or to an address it does not name, set sslmode=verify-ca (the CA is still checked).',
    { cause: err },
  );
}

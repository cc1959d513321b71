import { describe, expect, it } from 'vitest';
import { credentialsFromSecret } from '../../shared/connectors/createConnector.ts';
import { ConfigValidationError } from '../../shared/errors.ts';
import { timeoutsForBudget } from '../../shared/postgresPools.ts';
import { postgresTls } from '../../shared/postgresTls.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const files: Record<string, string> = { '/ca.pem': PEM, '/client.crt': 'CERT', '/client.key': 'KEY' };
const readPem = (path: string): string => {
  const text = files[path];
  if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
  return text;
};
const tls = (url: string) => postgresTls(url, 'warehouse', readPem);
const DB = 'postgres://u:p@db.example.com:5432/dwh';

describe('Function: postgresTls', () => {
  it('verifies the certificate and the host name when the URL says nothing (verify-full)', () => {
    const t = tls(DB);
    expect(t.mode).toBe('verify-full');
    expect(t.url).toBe(DB);
    expect(t.ssl).toMatchObject({ rejectUnauthorized: true });
    // No `ca`: Node's own list plus NODE_EXTRA_CA_CERTS (the Lambda runtime's Amazon bundle).
    expect(t.ssl).not.toHaveProperty('ca');
    expect(typeof (t.ssl as { checkServerIdentity?: unknown }).checkServerIdentity).toBe('function');
  });

  it.each([
    ['disable', false, undefined],
    ['require', { rejectUnauthorized: false }, undefined],
    ['verify-ca', { rejectUnauthorized: true }, 'skips the host name'],
    ['verify-full', { rejectUnauthorized: true }, 'checks the host name'],
  ] as const)('honours sslmode=%s from the URL', (mode, ssl, host) => {
    const t = tls(`${DB}?sslmode=${mode}&application_name=wb`);
    expect(t.mode).toBe(mode);
    // The TLS parameters are read here, the others stay for postgres.js (session settings).
    expect(t.url).toBe(`${DB}?application_name=wb`);
    if (ssl === false) expect(t.ssl).toBe(false);
    else expect(t.ssl).toMatchObject(ssl);
    const check = (t.ssl as { checkServerIdentity?: (h: string, c: object) => Error | undefined })
      .checkServerIdentity;
    if (host === 'skips the host name') expect(check?.('other.example.com', {})).toBeUndefined();
    if (host === 'checks the host name') {
      expect(check?.('db.example.com', { subjectaltname: 'DNS:other.example.com' })?.message).toMatch(
        /sslmode=verify-full refused the server's certificate[\s\S]*sslmode=verify-ca/,
      );
      expect(check?.('db.example.com', { subjectaltname: 'DNS:db.example.com' })).toBeUndefined();
    }
  });

  it('checks an IP host against the URL, not the name Node falls back to (localhost)', () => {
    const t = tls('postgres://u@10.0.0.5:5432/dwh');
    const check = (t.ssl as { checkServerIdentity: (h: string, c: object) => Error | undefined })
      .checkServerIdentity;
    // postgres.js gives TLS no server name for an IP, and Node then checks `localhost`.
    expect(check('localhost', { subjectaltname: 'DNS:localhost' })).toBeInstanceOf(Error);
    expect(check('localhost', { subjectaltname: 'IP Address:10.0.0.5' })).toBeUndefined();
  });

  it('takes postgres.js’s ssl=true|false as verify-full and disable', () => {
    expect(tls(`${DB}?ssl=true`).mode).toBe('verify-full');
    expect(tls(`${DB}?ssl=false`)).toMatchObject({ mode: 'disable', ssl: false, url: DB });
    expect(tls(`${DB}?ssl=true&sslmode=require`).mode).toBe('require');
  });

  it('refuses the modes that fall back to plaintext, and unknown ones, naming the ones it knows', () => {
    for (const mode of ['prefer', 'allow', 'no-verify']) {
      expect(() => tls(`${DB}?sslmode=${mode}`)).toThrow(ConfigValidationError);
    }
    expect(() => tls(`${DB}?sslmode=prefer`)).toThrow(/falls back to plaintext[\s\S]*disable/);
  });

  it('trusts only the sslrootcert CA (a file or PEM text), and makes require check it as libpq does', () => {
    expect(tls(`${DB}?sslrootcert=/ca.pem`).ssl).toMatchObject({ ca: PEM, rejectUnauthorized: true });
    expect(tls(`${DB}?sslrootcert=${encodeURIComponent(PEM)}`).ssl).toMatchObject({ ca: PEM });
    const required = tls(`${DB}?sslmode=require&sslrootcert=/ca.pem`);
    expect(required.mode).toBe('require');
    expect(required.ssl).toMatchObject({ ca: PEM, rejectUnauthorized: true });
    expect(tls(`${DB}?sslmode=disable&sslrootcert=/missing.pem`).ssl).toBe(false);
    expect(() => tls(`${DB}?sslrootcert=/missing.pem`)).toThrow(
      /sslrootcert=\/missing.pem cannot be read \(ENOENT\)/,
    );
  });

  it('takes sslrootcert=system as Node’s own list with verify-full only', () => {
    const t = tls(`${DB}?sslrootcert=system`);
    expect(t.mode).toBe('verify-full');
    expect(t.ssl).not.toHaveProperty('ca');
    expect(() => tls(`${DB}?sslrootcert=system&sslmode=require`)).toThrow(/allows only sslmode=verify-full/);
  });

  it('presents a client certificate from sslcert and sslkey', () => {
    expect(tls(`${DB}?sslcert=/client.crt&sslkey=/client.key`).ssl).toMatchObject({
      cert: 'CERT',
      key: 'KEY',
    });
  });
});

describe('Function: credentialsFromSecret (TLS of a Postgres secret)', () => {
  const rds = { host: 'db.abc.eu-west-1.rds.amazonaws.com', username: 'wb', password: 'p@ss', dbname: 'dwh' };

  it('leaves an RDS secret to the default, verify-full', () => {
    const { url } = credentialsFromSecret(rds);
    expect(url).toBe('postgres://wb:p%40ss@db.abc.eu-west-1.rds.amazonaws.com:5432/dwh');
    expect(tls(url!).mode).toBe('verify-full');
  });

  it('honours the secret’s sslmode and sslrootcert (PEM), the URL’s own first', () => {
    const { url } = credentialsFromSecret({ ...rds, sslmode: 'verify-ca', sslrootcert: PEM });
    const t = tls(url!);
    expect(t.mode).toBe('verify-ca');
    expect(t.ssl).toMatchObject({ ca: PEM });
    expect(t.url).toBe('postgres://wb:p%40ss@db.abc.eu-west-1.rds.amazonaws.com:5432/dwh');
    const own = credentialsFromSecret({ url: 'postgres://wb@h/dwh?sslmode=require', sslmode: 'disable' });
    expect(tls(own.url!).mode).toBe('require');
  });
});

describe('Function: timeoutsForBudget', () => {
  it('stops a statement well before the function does, and a lock wait sooner', () => {
    expect(timeoutsForBudget(60_000)).toEqual({ statementMs: 45_000, lockMs: 11_250 });
    expect(timeoutsForBudget(300_000)).toEqual({ statementMs: 240_000, lockMs: 30_000 });
    expect(timeoutsForBudget(900_000)).toEqual({ statementMs: 720_000, lockMs: 30_000 });
    expect(timeoutsForBudget(3_000).statementMs).toBe(1_000);
  });
});

import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatError } from '../../cli/output.ts';
import { writeLocalState } from '../../shared/contracts/localStateFile.ts';
import { UsageError } from '../../shared/ops/errors.ts';
import {
  loginTarget,
  parsePgpass,
  pgpassPassword,
  redactSecrets,
  secretInValue,
  warehouseLogin,
} from '../../shared/ops/warehouseCredentials.ts';

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const CONFIG = 'test/cli/fixtures/operator.config.ts';

/** Runs `node cli/main.ts …` with this environment (PGPASSWORD and PGPASSFILE unset unless given). */
const cli = (env: Record<string, string>, ...args: string[]): Promise<CliResult> =>
  new Promise((resolve) => {
    const { PGPASSWORD: _p, PGPASSFILE: _f, ...rest } = process.env;
    execFile(
      process.execPath,
      ['cli/main.ts', '-c', CONFIG, ...args],
      { timeout: 30_000, env: { ...rest, HOME: tmpdir(), ...env } },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });

/**
 * A Postgres server that asks for a cleartext password, notes the one it gets and refuses it (28P01),
 * as a server with password authentication does: what the CLI sent, seen from the wire.
 */
function passwordCatcher(): Promise<{ server: Server; port: number; passwords: string[] }> {
  const passwords: string[] = [];
  const server = createServer((socket: Socket) => {
    let buf = Buffer.alloc(0);
    let started = false;
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (!started) {
          if (buf.length < 8) return;
          const len = buf.readInt32BE(0);
          if (buf.length < len) return;
          const code = buf.readInt32BE(4);
          buf = buf.subarray(len);
          if (code === 80877103) {
            socket.write('N'); // no TLS here: the URL says sslmode=disable
            continue;
          }
          started = true;
          const auth = Buffer.alloc(9);
          auth.write('R', 0);
          auth.writeInt32BE(8, 1);
          auth.writeInt32BE(3, 5); // AuthenticationCleartextPassword
          socket.write(auth);
          continue;
        }
        if (buf.length < 5) return;
        const len = buf.readInt32BE(1);
        if (buf.length < len + 1) return;
        const type = String.fromCharCode(buf[0]!);
        const body = buf.subarray(5, len + 1);
        buf = buf.subarray(len + 1);
        if (type === 'p') {
          passwords.push(body.toString('utf8').replace(/\0$/, ''));
          const fields = ['SFATAL', 'VFATAL', 'C28P01', 'Mpassword authentication failed for user "wb"'];
          const payload = Buffer.concat([...fields.map((f) => Buffer.from(`${f}\0`)), Buffer.from([0])]);
          const head = Buffer.alloc(5);
          head.write('E', 0);
          head.writeInt32BE(payload.length + 4, 1);
          socket.end(Buffer.concat([head, payload]));
          return;
        }
      }
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0, passwords });
    });
  });
}

describe('CLI: no password on the command line (--dwh-url and every other option)', () => {
  it.each([
    ['a password in the URL', ['--dwh-url', 'postgres://wb:s3cret-pw@db.example.com:5432/dwh', 'status']],
    ['the option=value form', ['--dwh-url=postgres://wb:s3cret-pw@db.example.com/dwh', 'plan', 'people']],
    ['a password parameter', ['--dwh-url', 'postgres://wb@db.example.com/dwh?password=s3cret-pw', 'status']],
    [
      'an option of the command itself',
      ['dlq', 'redrive', 'people', '--key', 'https://u:s3cret-pw@x.example'],
    ],
  ])(
    'refuses %s with a usage error that says how to pass it, and never prints it (exit 2)',
    async (_, args) => {
      // Act
      const res = await cli({}, '--local-state', '.wb/no-such-stack.json', ...args);
      // Assess: refused before any stack is looked for (exit 2, not 3)
      expect(res.code).toBe(2);
      expect(res.stderr).toContain('error WB_USAGE:');
      expect(res.stderr).toMatch(/carries a (password|password parameter)/);
      expect(res.stderr).toContain('PGPASSWORD');
      expect(res.stderr).toContain('pgpass');
      expect(res.stderr).toContain('PGPASSFILE');
      expect(res.stderr).toContain('warehouse.secret');
      expect(res.stderr).toContain('***');
      expect(res.stderr + res.stdout).not.toContain('s3cret-pw');
    },
  );

  it('accepts a URL without a password (the command then runs: no stack here, exit 3)', async () => {
    // Act
    const res = await cli(
      {},
      '--local-state',
      '.wb/no-such-stack.json',
      '--dwh-url',
      'postgres://wb@db.example.com/dwh',
      'status',
    );
    // Assess
    expect(res.code).toBe(3);
    expect(res.stderr).not.toContain('WB_USAGE');
  });

  it('never prints a password in an error, whatever raised it', () => {
    // Act
    const text = formatError(
      new Error(
        'connect ECONNREFUSED postgres://wb:hunter2@10.0.0.1:5432/dwh?sslmode=require&password=hunter2',
      ),
      true,
    );
    // Assess
    expect(text).not.toContain('hunter2');
    expect(text).toContain('postgres://wb:***@10.0.0.1:5432/dwh?sslmode=require&password=***');
    expect(formatError(new UsageError('bad postgres://a:b@h/d'))).toContain('postgres://a:***@h/d');
  });
});

describe('CLI: where the warehouse password comes from (PGPASSWORD, pgpass, never argv)', () => {
  let dir: string;
  let stateFile: string;
  let catcher: Awaited<ReturnType<typeof passwordCatcher>>;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'writeback-pgpass-'));
    catcher = await passwordCatcher();
    url = `postgres://wb@127.0.0.1:${catcher.port}/dwh?sslmode=disable`;
    // A "running" local stack (this test's process) whose warehouse is the catcher; verify reaches
    // for the warehouse before anything else, so nothing else needs to answer.
    stateFile = join(dir, 'local.json');
    writeLocalState(stateFile, {
      pid: process.pid,
      dwhUrl: url,
      billingUrl: url,
      hubspotUrl: 'http://127.0.0.1:9',
      dynamodbEndpoint: 'http://127.0.0.1:9',
      sqsEndpoint: 'http://127.0.0.1:9',
      stateTable: 'state',
      linksTable: 'links',
      queues: { people: { url: 'http://127.0.0.1:9/q', dlqUrl: 'http://127.0.0.1:9/dlq' } },
    });
  });
  afterAll(async () => {
    await new Promise((resolve) => catcher?.server.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const pgpassFile = (name: string, text: string, mode: number): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    chmodSync(file, mode);
    return file;
  };

  it('logs in with the matching line of the pgpass file PGPASSFILE names, and prints no password', async () => {
    // Prepare: an earlier line for another database, a wildcard line that matches
    const file = pgpassFile(
      'pgpass',
      `# comment\n127.0.0.1:${catcher.port}:other:wb:not-this-one\n*:${catcher.port}:dwh:wb:from-pgpass\n*:*:*:*:not-this-either\n`,
      0o600,
    );
    catcher.passwords.length = 0;
    // Act
    const res = await cli(
      { PGPASSFILE: file },
      '--local-state',
      stateFile,
      '--dwh-url',
      url,
      'verify',
      'people',
    );
    // Assess: the server saw the file's password; the refusal is reported without it
    expect(catcher.passwords).toEqual(['from-pgpass']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('WB_UNREACHABLE');
    expect(res.stderr).toContain('password authentication failed');
    expect(res.stderr).not.toContain('from-pgpass');
  });

  it('takes PGPASSWORD before the pgpass file', async () => {
    // Prepare
    const file = pgpassFile('pgpass2', `*:*:*:*:from-pgpass\n`, 0o600);
    catcher.passwords.length = 0;
    // Act
    await cli({ PGPASSFILE: file, PGPASSWORD: 'from-env' }, '--local-state', stateFile, 'verify', 'people');
    // Assess
    expect(catcher.passwords).toEqual(['from-env']);
  });

  it('ignores a pgpass file others can read, and says so (as libpq does)', async () => {
    // Prepare
    const file = pgpassFile('pgpass3', `*:*:*:*:from-pgpass\n`, 0o644);
    catcher.passwords.length = 0;
    // Act
    const res = await cli({ PGPASSFILE: file }, '--local-state', stateFile, 'verify', 'people');
    // Assess
    expect(catcher.passwords).not.toContain('from-pgpass');
    expect(res.stderr).toContain(`note: pgpass file ${file} is readable by the group or others: ignored`);
  });
});

describe('Functions: pgpass lines, login targets, secrets in values', () => {
  it('parses escaped colons and backslashes, and skips comments and malformed lines', () => {
    // Act
    const entries = parsePgpass(
      '# c\nh\\:1:5432:db:u:pa\\:ss\\\\word\nmalformed:line\n*:*:*:*:p:with:colons\n',
    );
    // Assess
    expect(entries).toEqual([
      { host: 'h:1', port: '5432', database: 'db', user: 'u', password: 'pa:ss\\word' },
      { host: '*', port: '*', database: '*', user: '*', password: 'p:with:colons' },
    ]);
  });

  it('takes the first matching line, with postgres.js defaults for what the URL leaves out', () => {
    // Prepare
    const entries = parsePgpass('db.example.com:6543:dwh:wb:first\ndb.example.com:*:*:wb:second\n');
    // Act / Assess
    expect(loginTarget('postgres://wb@db.example.com:6543/dwh', {})).toEqual({
      host: 'db.example.com',
      port: '6543',
      database: 'dwh',
      user: 'wb',
    });
    expect(pgpassPassword(entries, loginTarget('postgres://wb@db.example.com:6543/dwh', {}))).toBe('first');
    expect(pgpassPassword(entries, loginTarget('postgres://wb@db.example.com/other', {}))).toBe('second');
    expect(pgpassPassword(entries, loginTarget('postgres://else@db.example.com/dwh', {}))).toBeUndefined();
    expect(loginTarget('postgres:///x', { PGHOST: 'h', PGPORT: '1', PGUSER: 'u' })).toEqual({
      host: 'h',
      port: '1',
      database: 'x',
      user: 'u',
    });
  });

  it("uses the warehouse secret's password for the URL's user, not another user's", async () => {
    // Prepare
    const env = { PGPASSFILE: join(tmpdir(), 'no-such-pgpass') };
    const readSecret = async () => ({
      username: 'wb_reader',
      password: 'from-secret',
      host: 'inside-the-vpc',
    });
    // Act
    const same = await warehouseLogin('postgres://wb_reader@localhost:15432/dwh', { env, readSecret });
    const none = await warehouseLogin('postgres://localhost:15432/dwh', { env, readSecret });
    const other = await warehouseLogin('postgres://admin@localhost:15432/dwh', { env, readSecret });
    // Assess
    expect(same).toEqual({ source: 'secret', password: 'from-secret' });
    expect(none).toEqual({ source: 'secret', password: 'from-secret', username: 'wb_reader' });
    expect(other).toEqual({ source: 'none' });
  });

  it('finds secrets in values and redacts them', () => {
    expect(secretInValue('postgres://u:p@h/d')).toBe('a password');
    expect(secretInValue('postgres://u:@h/d')).toBeUndefined();
    expect(secretInValue('postgres://u@h/d?sslmode=require')).toBeUndefined();
    expect(secretInValue('postgres://u@h/d?sslpassword=x')).toBe('a sslpassword parameter');
    expect(secretInValue('42')).toBeUndefined();
    expect(redactSecrets('a postgres://u:p@h/d and mysql://x:y@z')).toBe(
      'a postgres://u:***@h/d and mysql://x:***@z',
    );
  });
});

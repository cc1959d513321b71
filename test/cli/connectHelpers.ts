import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { vi } from 'vitest';
import { runConnect } from '../../cli/connect.ts';
import { runValidateConnections } from '../../cli/validate.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * A config file for `writeback connect` tests: one Xero connection on the fake at `xeroUrl`, and
 * syncs of customers (Contacts) and, unless left out, invoices (Invoices) written through it.
 */
export function writeConnectConfig(
  dir: string,
  name: string,
  opts: {
    readonly xeroUrl: string;
    readonly invoices?: boolean;
    readonly batchSize?: number;
    readonly concurrency?: number;
    readonly maxReceiveCount?: number;
    /** The connection's tokenFile (the local stack writes through the account it holds). */
    readonly tokenFile?: string;
  },
): string {
  const path = join(dir, `${name}.config.ts`);
  const invoices =
    opts.invoices === false
      ? ''
      : `defineSync({
      name: 'invoices',
      schedule: 'rate(5 minutes)',
      source: { table: 'src.invoices', key: 'id', cursor: 'updated_at' },
      target: { connection: 'xero', object: 'Invoices' },
      parent: { sync: 'customers', key: 'customer_id' },
      map: (row) => ({ Type: 'ACCREC', Contact: { ContactID: row.customer_id } }),
    }),`;
  writeFileSync(
    path,
    `import { defineConfig, defineSync } from '${join(ROOT, 'shared/config/defineConfig.ts')}';
export default defineConfig({
  connections: { xero: { type: 'xero', secret: 'writeback/xero', baseUrl: '${opts.xeroUrl}'${opts.tokenFile ? `, tokenFile: '${opts.tokenFile}'` : ''} } },
  syncs: [
    defineSync({
      name: 'customers',
      schedule: 'rate(5 minutes)',
      source: { table: 'src.customers', key: 'id', cursor: 'updated_at' },
      target: { connection: 'xero', object: 'Contacts' },
      map: (row) => ({ Name: String(row.name), EmailAddress: String(row.email) }),
      batchSize: ${opts.batchSize ?? 50},
      concurrency: ${opts.concurrency ?? 2},
      ${opts.maxReceiveCount ? `maxReceiveCount: ${opts.maxReceiveCount},` : ''}
    }),
    ${invoices}
  ],
});
`,
  );
  return path;
}

/**
 * Plays the browser: opens the authorize URL (the vendor consents at once and redirects), then
 * follows the redirect to the loopback server of `writeback connect`. The loopback's answer.
 */
export async function playBrowser(authorizeUrl: string): Promise<Response> {
  const consent = await fetch(authorizeUrl, { redirect: 'manual' });
  const location = consent.headers.get('location');
  if (consent.status !== 302 || !location) {
    throw new Error(`authorize answered ${consent.status} without a redirect: ${await consent.text()}`);
  }
  return fetch(location);
}

/** The URL `writeback connect` prints for the user to open, from its output so far. */
export function printedUrl(output: string): string | undefined {
  return /^\s+(https?:\/\/\S+\?response_type=code&\S+)$/m.exec(output)?.[1];
}

/**
 * The `out` of an in-process `runConnect` that plays the browser as soon as the URL is printed;
 * `browsed()` settles with the browser's last answer (undefined: no URL was printed).
 */
export function browserOnPrintedUrl(onLine: (line: string) => void = () => {}): {
  out: (line: string) => void;
  browsed: () => Promise<Response | undefined>;
} {
  let browser: Promise<Response> | undefined;
  return {
    out: (line) => {
      onLine(line);
      const url = printedUrl(line);
      if (url) browser = playBrowser(url);
    },
    browsed: async () => browser,
  };
}

/** Waits for a `writeback connect` process to print its URL, then plays the browser: the URL and the answer. */
export async function browseWhenPrinted(cli: {
  output: () => string;
}): Promise<{ url: string; page: Response }> {
  const url = await vi.waitFor(
    () => {
      const u = printedUrl(cli.output());
      if (!u) throw new Error('no URL printed yet');
      return u;
    },
    { timeout: 20_000, interval: 50 },
  );
  return { url, page: await playBrowser(url) };
}

/** `node cli/main.ts <args>` as a user runs it, with its output collected as it arrives. */
export function startCli(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): { child: ChildProcess; output: () => string; exit: Promise<number> } {
  const child = spawn(process.execPath, ['cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exit = new Promise<number>((res) => child.on('exit', (code) => res(code ?? 1)));
  return { child, output: () => out, exit };
}

/** One sync of a `writeVendorConfig` config: the object it writes, with deletes or an association. */
export interface VendorSync {
  readonly name: string;
  readonly connection: string;
  readonly object: string;
  /** The target field holding the external id. @default ext_id */
  readonly externalId?: string;
  readonly deletes?: boolean;
  readonly associateWith?: string;
}

/**
 * A config file for `writeback connect` and `validate --connections` tests of any vendor: the
 * connections as given (type, secret, baseUrl…) and syncs that write `object` through them.
 */
export function writeVendorConfig(
  dir: string,
  name: string,
  connections: Readonly<Record<string, Readonly<Record<string, string>>>>,
  syncs: readonly VendorSync[],
): string {
  const path = join(dir, `${name}.config.ts`);
  const parentOf = (s: VendorSync) => syncs.find((p) => p.object === s.associateWith && p !== s);
  const body = syncs
    .map((s) => {
      const parent = s.associateWith ? parentOf(s) : undefined;
      return `defineSync({
      name: '${s.name}',
      schedule: 'rate(5 minutes)',
      source: { table: 'src.${s.name}', key: 'id', cursor: 'updated_at' },
      target: { connection: '${s.connection}', object: '${s.object}', externalId: '${s.externalId ?? 'ext_id'}'${s.associateWith ? `, associate: { with: '${s.associateWith}' }` : ''} },
      map: (row) => ({ name: String(row.name) }),
      ${parent ? `parent: { sync: '${parent.name}', key: 'parent_id' },` : ''}
      ${s.deletes ? "deletes: { column: 'deleted_at' }," : ''}
    })`;
    })
    .join(',\n    ');
  writeFileSync(
    path,
    `import { defineConfig, defineSync } from '${join(ROOT, 'shared/config/defineConfig.ts')}';
export default defineConfig({
  connections: ${JSON.stringify(connections)},
  syncs: [
    ${body}
  ],
});
`,
  );
  return path;
}

/**
 * runConnect in this process, playing the browser as soon as a URL is printed (none is for a
 * static credential): the exit code and the lines it printed.
 */
export async function connectPlayingBrowser(
  connection: string,
  opts: Omit<Parameters<typeof runConnect>[1], 'out'>,
): Promise<{ code: number; lines: string[]; output: string }> {
  const lines: string[] = [];
  const browser = browserOnPrintedUrl((line) => lines.push(line));
  const code = await runConnect(connection, {
    ...opts,
    env: opts.env ?? {},
    out: browser.out,
  }).catch(async (err: unknown) => {
    await browser.browsed().catch(() => undefined);
    throw err;
  });
  await browser.browsed();
  return { code, lines, output: lines.join('\n') };
}

/** `writeback validate --connections` on the local files in `secretDir`: the exit code and the lines. */
export async function validateLocal(
  configPath: string,
  secretDir: string,
): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runValidateConnections({
    configPath,
    localStatePath: join(secretDir, 'no-local-stack.json'),
    secretDir,
    out: (l) => lines.push(l),
  });
  return { code, lines };
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../../local/EmbeddedPostgres.ts';
import { describeError } from '../../../shared/errors.ts';
import { targetPool, warehousePool } from '../../../shared/postgresPools.ts';
import { startTestPostgres } from '../../helpers/localPostgres.ts';

/** Whether this connection's session is encrypted, as the server sees it. */
async function encrypted(sql: Sql): Promise<boolean> {
  try {
    const [row] = await sql<{ ssl: boolean }[]>`select ssl from pg_stat_ssl where pid = pg_backend_pid()`;
    return row!.ssl;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** The error a first query on `sql` fails with, as Writeback describes it (code and message). */
async function refusal(sql: Sql): Promise<{ code: string; message: string }> {
  try {
    await sql`select 1`;
    throw new Error('connected, but should have been refused');
  } catch (err) {
    return describeError(err);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

describe('Postgres TLS: verify-full by default, the URL honoured, never a fall-back to plaintext', () => {
  let pg: Awaited<ReturnType<typeof startTestPostgres>>;
  let plain: EmbeddedPostgres;
  let plainDir: string;
  /** The server's URL without any TLS parameter. */
  const bare = (url: string): string => url.split('?')[0]!;

  beforeAll(async () => {
    plainDir = mkdtempSync(join(tmpdir(), 'wb-test-pg-plain-'));
    [pg, plain] = await Promise.all([
      startTestPostgres(),
      // A server that speaks only plaintext (ssl = off).
      startEmbeddedPostgres({ dataDir: join(plainDir, 'data'), tls: false }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([pg?.stop(), plain?.stop()]);
    rmSync(plainDir, { recursive: true, force: true });
  });

  it('connects with verify-full against the local CA, encrypted, for the warehouse and a target', async () => {
    expect(pg.url).toMatch(/\?sslmode=verify-full&sslrootcert=/);
    expect(await encrypted(warehousePool(pg.url, { max: 1 }))).toBe(true);
    expect(await encrypted(targetPool(pg.url, { max: 1 }))).toBe(true);
  });

  it('refuses a plaintext-only server by default, with a clear error and no fall-back', async () => {
    const { code, message } = await refusal(warehousePool(plain.url(), { max: 1 }));
    expect(code).toBe('WB_POSTGRES_TLS');
    expect(message).toMatch(/does not offer TLS[\s\S]*never falls back to plaintext[\s\S]*sslmode=disable/);
    expect((await refusal(targetPool(plain.url(), { max: 1 }))).code).toBe('WB_POSTGRES_TLS');
  });

  it('connects without TLS when the URL says sslmode=disable (and only then)', async () => {
    expect(await encrypted(targetPool(`${plain.url()}?sslmode=disable`, { max: 1 }))).toBe(false);
    // Even to a server that offers TLS.
    expect(await encrypted(warehousePool(`${bare(pg.url)}?sslmode=disable`, { max: 1 }))).toBe(false);
  });

  it('fails verify-full for a host name the certificate does not name, and verify-ca accepts it', async () => {
    // The certificate names 127.0.0.1 only; localhost reaches the same server.
    const byName = pg.url.replace('127.0.0.1', 'localhost');
    const { code, message } = await refusal(warehousePool(byName, { max: 1 }));
    expect(code).toBe('WB_POSTGRES_TLS');
    expect(message).toMatch(
      /warehouse: sslmode=verify-full refused the server's certificate: Hostname\/IP does not match certificate's altnames: Host: localhost\. .*IP Address:127\.0\.0\.1.*sslmode=verify-ca/,
    );
    expect(await encrypted(warehousePool(byName.replace('verify-full', 'verify-ca'), { max: 1 }))).toBe(true);
  });

  it('refuses a certificate whose CA it does not trust (Node’s list without sslrootcert), also with verify-ca', async () => {
    for (const mode of ['verify-full', 'verify-ca']) {
      const { code, message } = await refusal(targetPool(`${bare(pg.url)}?sslmode=${mode}`, { max: 1 }));
      expect(code).toBe('WB_POSTGRES_TLS');
      expect(message).toMatch(/TLS refused the server's certificate: .*sslrootcert/);
    }
  });

  it('encrypts without checking the certificate with sslmode=require', async () => {
    const url = `${bare(pg.url).replace('127.0.0.1', 'localhost')}?sslmode=require`;
    expect(await encrypted(targetPool(url, { max: 1 }))).toBe(true);
  });
});

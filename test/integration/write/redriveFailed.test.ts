import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStack } from '../../../local/LocalStack.ts';
import { ConfigSchema, type SyncConfig, SyncSchema } from '../../../shared/config/schema.ts';
import type { LinkStatus } from '../../../shared/links/Link.ts';
import type { WriteMessage } from '../../../shared/queue/WriteMessage.ts';
import { contentHash } from '../../../shared/util/contentHash.ts';
import { decodeSourceKey } from '../../../shared/write/readSourceRowsByKey.ts';
import { type RedriveOptions, redriveFailed } from '../../../shared/write/redriveFailed.ts';

const NOW = Date.parse('2026-11-26T12:00:00Z');
const MINUTE = 60_000;

describe('Function: redriveFailed (embedded Postgres, dynalite)', () => {
  let stack: LocalStack;
  let people: SyncConfig;
  let lines: SyncConfig;
  const sent: WriteMessage[] = [];
  const deps = () => ({
    sql: stack.dwh,
    links: stack.links,
    enqueuer: { sendAll: async (m: readonly WriteMessage[]) => void sent.push(...m) },
    now: () => NOW,
  });
  const opts: RedriveOptions = { runId: 'run-2', health: false };

  /** Leaves a link in `status` as of `at`, with `redrives` redrives behind it. */
  const linkIn = async (sync: SyncConfig, key: string, status: LinkStatus, at: number, redrives = 0) => {
    for (let i = 0; i <= redrives; i++) {
      const token = randomUUID();
      const t = at - (redrives - i) * 1000;
      await stack.links.claim({
        sync: sync.name,
        key,
        version: '1',
        hash: 'old',
        token,
        runId: 'run-1',
        now: t,
        leaseMs: 1000,
        // A pending key can be stuck only once its message came back (a first delivery's claim is
        // redelivered while its message lives): that claim puts it in the attention index.
        ...(status === 'pending' ? { retried: true } : {}),
      });
      if (status === 'pending') return;
      await stack.links.recordFailure({
        sync: sync.name,
        key,
        token,
        status: status === 'retrying' ? 'retrying' : status === 'failed' ? 'failed' : 'dead',
        error: { code: 'X', message: 'x', httpStatus: 503 },
        now: t,
      });
      if (i < redrives) {
        const link = (await stack.links.get(sync.name, key))!;
        await stack.links.markRedriven({ sync: sync.name, key, seen: link, runId: 'r', now: t + 1 });
      }
    }
  };

  beforeAll(async () => {
    const config = ConfigSchema.parse({
      connections: { db: { type: 'postgres' } },
      syncs: [
        {
          name: 'people',
          source: { table: 'src.people', key: 'id', cursor: 'updated_at' },
          target: { connection: 'db', object: 'x.people', externalId: 'ext' },
          map: (row: Record<string, unknown>) => ({ email: row.email, name: row.name }),
        },
        {
          name: 'lines',
          source: { table: 'src.lines', key: ['region', 'no'], cursor: 'updated_at' },
          target: { connection: 'db', object: 'x.lines', externalId: 'ext' },
          map: (row: Record<string, unknown>) => ({ qty: row.qty }),
        },
      ],
    });
    stack = await LocalStack.start({ config });
    [people, lines] = config.syncs as [SyncConfig, SyncConfig];
    await stack.dwh`create schema src`;
    await stack.dwh`create table src.people (id integer primary key, email text, name text, updated_at timestamptz not null)`;
    await stack.dwh`create table src.lines (region text, no integer, qty integer, updated_at timestamptz not null, primary key (region, no))`;
    await stack.dwh`
      insert into src.people
      select i, 'p' || i || '@example.test', 'name ' || i, '2026-11-01T00:00:00Z'::timestamptz + i * interval '1 second'
      from generate_series(1, 20) i`;
    await stack.dwh`insert into src.lines values ('eu''west', 7, 3, '2026-11-01T00:00:00Z')`;
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('re-drives a dead key with its current source row, whatever the bookmark', async () => {
    // Prepare
    sent.length = 0;
    await linkIn(people, '1', 'dead', NOW - 10 * MINUTE);
    // Act
    const summary = await redriveFailed(people, deps(), opts);
    // Assess
    expect(summary).toMatchObject({ redriven: 1, dead: 0 });
    const payload = { email: 'p1@example.test', name: 'name 1' };
    expect(sent).toEqual([
      expect.objectContaining({ key: '1', payload, hash: contentHash(payload), runId: 'run-2' }),
    ]);
    expect(sent[0]!.version).toBe(String(Date.parse('2026-11-01T00:00:01Z') * 1000));
    expect(await stack.links.get('people', '1')).toMatchObject({ status: 'retrying', redrives: 1 });
  });

  it('waits longer after each redrive, and gives up after the cap', async () => {
    // Prepare
    sent.length = 0;
    await linkIn(people, '2', 'dead', NOW - 3 * MINUTE); // first redrive after 5 min: not yet
    await linkIn(people, '3', 'dead', NOW - 8 * MINUTE, 1); // second after 10 min: not yet
    await linkIn(people, '4', 'dead', NOW - 11 * MINUTE, 1); // second after 10 min: due
    await linkIn(people, '5', 'dead', NOW - 60 * MINUTE, 2); // cap of 2 reached
    // Act
    const summary = await redriveFailed(people, deps(), { ...opts, maxRedrives: 2 });
    // Assess
    expect(sent.map((m) => m.key)).toEqual(['4']);
    expect(summary).toMatchObject({ redriven: 1, waiting: 2, gaveUp: 1, dead: 3 });
  });

  it('re-drives retrying and pending keys only once they are stuck (their message was lost)', async () => {
    // Prepare
    sent.length = 0;
    await linkIn(people, '6', 'retrying', NOW - 45 * MINUTE);
    await linkIn(people, '7', 'pending', NOW - 45 * MINUTE);
    await linkIn(people, '8', 'retrying', NOW - 5 * MINUTE);
    // Act (key 5 of the test before stays given up)
    const summary = await redriveFailed(people, deps(), { ...opts, maxRedrives: 2 });
    // Assess
    expect(sent.map((m) => m.key).sort()).toEqual(['6', '7']);
    expect(summary.redriven).toBe(2);
  });

  it('counts permanently failed keys without re-driving them', async () => {
    // Prepare
    sent.length = 0;
    await linkIn(people, '9', 'failed', NOW - 60 * MINUTE);
    // Act
    const summary = await redriveFailed(people, deps(), opts);
    // Assess
    expect(sent.map((m) => m.key)).not.toContain('9');
    expect(summary.failed).toBe(1);
  });

  it('reads composite keys with quotes in them', async () => {
    // Prepare
    sent.length = 0;
    const key = JSON.stringify(["eu'west", '7']);
    await linkIn(lines, key, 'dead', NOW - 10 * MINUTE);
    // Act
    const summary = await redriveFailed(lines, deps(), opts);
    // Assess
    expect(summary.redriven).toBe(1);
    expect(sent[0]).toMatchObject({ key, payload: { qty: 3 } });
    expect(decodeSourceKey(key, 2)).toEqual(["eu'west", '7']);
  });

  it('counts a key whose source row is gone', async () => {
    // Prepare
    sent.length = 0;
    await linkIn(people, '999', 'dead', NOW - 10 * MINUTE);
    // Act
    const summary = await redriveFailed(people, deps(), opts);
    // Assess
    expect(summary).toMatchObject({ redriven: 0, sourceGone: 1 });
  });

  it("refuses a sync with embedded children unless given the extract's message builder", async () => {
    // Prepare
    const withLines = SyncSchema.parse({
      ...people,
      source: { table: 'src.people', key: 'id', cursor: 'updated_at' },
      children: [{ as: 'lines', table: 'src.lines', foreignKey: 'no', orderBy: 'no' }],
    });
    // Act
    const run = redriveFailed(withLines, deps(), opts);
    const built = redriveFailed(withLines, { ...deps(), buildMessages: async () => [] }, opts);
    // Assess
    await expect(run).rejects.toThrow(/embeds children; pass deps.buildMessages/);
    await expect(built).resolves.toMatchObject({ redriven: 0 });
  });

  it('re-drives nothing while the target is down', async () => {
    // Prepare
    sent.length = 0;
    await linkIn(people, '10', 'dead', NOW - 10 * MINUTE);
    await stack.links.health.record('people', NOW - 1000, { calls: 10, failedCalls: 10 });
    // Act
    const summary = await redriveFailed(people, deps(), { runId: 'run-3' });
    // Assess
    expect(summary).toMatchObject({ paused: true, redriven: 0 });
    expect(summary.dead).toBeGreaterThanOrEqual(1);
    expect(sent).toEqual([]);
  });
});

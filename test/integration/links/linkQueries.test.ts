import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoLinkStore } from '../../../shared/links/DynamoLinkStore.ts';
import type { LinkStore, LinkSummary } from '../../../shared/links/LinkStore.ts';
import { callsOf, countingClient } from '../../helpers/countingClient.ts';
import { type EmulatorFixture, startEmulatorFixture } from '../../helpers/emulatorFixture.ts';

const NOW = Date.parse('2026-11-26T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The reads of many links through the LinkStore port (census, scan of a sync, the attention and
 * target indexes), with a store whose pages hold two items: the paginators must go past the first
 * page, and stop once a limit is reached.
 */
describe(`Class: DynamoLinkStore, reads of many links (against ${process.env.WB_DYNAMODB === 'local' ? 'DynamoDB Local' : 'dynalite'})`, () => {
  let fx: EmulatorFixture;
  /** The store as the domain sees it: only the port. */
  let links: LinkStore;
  /** The same table through a client that counts its calls, two items a page. */
  let small: { links: LinkStore; calls: string[]; inFlight: () => number; destroy(): void };

  const write = async (
    sync: string,
    key: string,
    end: 'ok' | 'pending' | 'retrying' | 'failed' | 'dead',
    at: number,
    runId = 'r1',
  ) => {
    const token = randomUUID();
    const claim = await links.claim({
      sync,
      key,
      version: String(at),
      hash: `h${at}`,
      token,
      runId,
      now: at,
      leaseMs: 60_000,
    });
    expect(claim.outcome).toBe('claimed');
    if (end === 'ok') {
      await links.commit({
        sync,
        key,
        token,
        targetId: `t-${key}`,
        hash: `h${at}`,
        version: String(at),
        now: at,
      });
    } else if (end !== 'pending') {
      await links.recordFailure({
        sync,
        key,
        token,
        status: end,
        error: { code: 'E_TEST', message: `failed at ${at}` },
        now: at,
      });
    }
  };

  beforeAll(async () => {
    fx = await startEmulatorFixture();
    links = fx.links;
    const counting = countingClient(fx.emulators.dynamodbEndpoint);
    small = {
      links: new DynamoLinkStore(counting.client, fx.resources.linksTable, { pageSize: 2 }),
      calls: counting.calls,
      inFlight: counting.inFlight,
      destroy: () => counting.client.destroy(),
    };

    // census: two created by r1, one created earlier and updated by r1, one dead, one pending,
    // one retrying; another sync; a side item (target health) that is no link.
    await write('c1', 'a', 'ok', NOW);
    await write('c1', 'b', 'ok', NOW + 1);
    await write('c1', 'c', 'ok', NOW - 60_000, 'r0');
    await write('c1', 'c', 'ok', NOW + 2);
    await write('c1', 'd', 'dead', NOW + 3);
    await write('c1', 'e', 'pending', NOW + 4);
    await write('c1', 'f', 'retrying', NOW + 5);
    await write('c2', 'g', 'ok', NOW, 'r9');
    await write('c2', 'h', 'ok', NOW, 'r9');
    await links.health.record('c1', NOW, { calls: 3, failedCalls: 1 });
    // keys by status: seven failed links a second apart, and two ok ones.
    for (let i = 1; i <= 7; i++) await write('k1', `f${i}`, 'failed', NOW + i * 1000);
    await write('k1', 'ok1', 'ok', NOW);
    await write('k1', 'ok2', 'ok', NOW);
    // a scan that stops early: 40 links of one sync.
    for (let i = 0; i < 40; i++) await write('big', `b${i}`, 'ok', NOW);
  });
  afterAll(async () => {
    small?.destroy();
    await fx?.stop();
  });

  describe('Method: census', () => {
    const expected = {
      links: { ok: 3, pending: 1, retrying: 1, failed: 0, dead: 1, deleted: 0 },
      r1: { created: 2, updated: 1, retrying: 2, failed: 1 },
    };
    const runStarts = new Map([['r1', iso(NOW)]]);

    it('counts links by sync, status and the run that last wrote them, skipping side items', async () => {
      // Act
      const census = await links.census({ syncs: new Set(['c1', 'c2']), runStarts });

      // Assert
      expect([...census.keys()].sort()).toEqual(['c1', 'c2']);
      expect(census.get('c1')?.links).toEqual(expected.links);
      expect(census.get('c1')?.byRun.get('r1')).toEqual(expected.r1);
      expect(census.get('c1')?.byRun.has('r0')).toBe(false);
      expect(census.get('c2')?.links.ok).toBe(2);
      // r9 has no start time: its ok links count as updated.
      expect(census.get('c2')?.byRun.get('r9')).toEqual({ created: 0, updated: 2, retrying: 0, failed: 0 });
    });

    it('counts the same page by page, in one segment or four, and reports its progress after each page', async () => {
      // Prepare
      const progress: number[] = [];
      small.calls.length = 0;

      // Act
      const one = await small.links.census({
        syncs: new Set(['c1']),
        runStarts,
        segments: 1,
        onProgress: (n) => progress.push(n),
      });
      const scans = callsOf(small.calls, 'Scan');
      const four = await small.links.census({ syncs: new Set(['c1']), runStarts });

      // Assert
      expect(one.get('c1')?.links).toEqual(expected.links);
      expect(one.get('c1')?.byRun.get('r1')).toEqual(expected.r1);
      expect(four.get('c1')?.links).toEqual(expected.links);
      expect([...one.keys()]).toEqual(['c1']);
      // 58 items (57 links and the side item), two a page.
      expect(scans).toBeGreaterThanOrEqual(29);
      expect(progress).toHaveLength(scans);
      expect(progress.at(-1)).toBe(58);
      expect(progress).toEqual([...progress].sort((x, y) => x - y));
    });
  });

  describe('Method: scan', () => {
    const collect = async (source: AsyncIterable<LinkSummary>) => {
      const out: LinkSummary[] = [];
      for await (const s of source) out.push(s);
      return out.sort((x, y) => x.key.localeCompare(y.key));
    };

    it('reads every link of one sync and nothing else, with what a verification compares', async () => {
      // Act
      const all = await collect(links.scan('c1'));

      // Assert
      expect(all.map((s) => s.key)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
      expect(all.find((s) => s.key === 'c')).toMatchObject({
        status: 'ok',
        targetId: 't-c',
        hash: `h${NOW + 2}`,
        version: String(NOW + 2),
        attempts: 0,
        lastError: undefined,
        updatedAt: iso(NOW + 2),
      });
      const dead = all.find((s) => s.key === 'd');
      expect(dead).toMatchObject({ status: 'dead', targetId: undefined, attempts: 1 });
      expect(JSON.parse(dead?.lastError ?? '{}')).toMatchObject({ code: 'E_TEST' });
    });

    it('reads the same page by page', async () => {
      // Prepare
      small.calls.length = 0;

      // Act
      const paged = await collect(small.links.scan('c1'));

      // Assert
      expect(paged).toEqual(await collect(links.scan('c1')));
      // Four segments, and at least one of them holds more than two of the 58 items.
      expect(callsOf(small.calls, 'Scan')).toBeGreaterThan(4);
    });

    it('stops reading once its reader stops', async () => {
      // Prepare
      small.calls.length = 0;
      const full = await collect(small.links.scan('big'));
      const fullScans = callsOf(small.calls, 'Scan');
      small.calls.length = 0;

      // Act
      for await (const first of small.links.scan('big')) {
        expect(first.key).toMatch(/^b\d+$/);
        break;
      }
      // The pages asked for before it stopped land; none is asked for after.
      await vi.waitFor(() => expect(small.inFlight()).toBe(0));

      // Assert
      expect(full).toHaveLength(40);
      expect(fullScans).toBeGreaterThanOrEqual(29);
      // The first pages of the segments, and the next ones already asked for: not the whole table.
      expect(callsOf(small.calls, 'Scan')).toBeLessThanOrEqual(16);
    });
  });

  describe('Methods: keysByStatus, listByStatus, countByStatus, keysByTarget', () => {
    it('answers newest first, going past the first page', async () => {
      // Prepare
      small.calls.length = 0;

      // Act
      const keys = await small.links.keysByStatus('k1', 'failed', 100);
      const listed = await small.links.listByStatus('k1', 'failed');
      const count = await small.links.countByStatus('k1', 'failed');

      // Assert
      expect(keys).toEqual(['f7', 'f6', 'f5', 'f4', 'f3', 'f2', 'f1']);
      expect(listed.map((l) => l.key)).toEqual(keys);
      expect(listed[0]).toMatchObject({ sync: 'k1', status: 'failed', attempts: 1 });
      expect(count).toBe(7);
      expect(callsOf(small.calls, 'Query')).toBeGreaterThanOrEqual(12);
      expect(await links.countByStatus('k1', 'pending')).toBe(0);
    });

    it('stops reading pages once the limit is reached', async () => {
      // Prepare
      small.calls.length = 0;

      // Act
      const keys = await small.links.keysByStatus('k1', 'failed', 3);
      const keyQueries = callsOf(small.calls, 'Query');
      const listed = await small.links.listByStatus('k1', 'failed', 3);

      // Assert
      expect(keys).toEqual(['f7', 'f6', 'f5']);
      expect(listed.map((l) => l.key)).toEqual(['f7', 'f6', 'f5']);
      expect(keyQueries).toBe(2);
      expect(callsOf(small.calls, 'Query')).toBe(4);
    });

    it('lists only links last touched before a time, and finds a link by its target id', async () => {
      // Act
      const before = await small.links.listByStatus('k1', 'failed', 10, iso(NOW + 3500));
      const byTarget = await small.links.keysByTarget('c1', 't-b');

      // Assert
      expect(before.map((l) => l.key)).toEqual(['f3', 'f2', 'f1']);
      expect(byTarget).toEqual(['b']);
      expect(await small.links.keysByStatus('k1', 'failed', 0)).toEqual([]);
    });
  });
});

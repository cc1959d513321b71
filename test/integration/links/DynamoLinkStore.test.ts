import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLinkStore } from '../../../shared/links/DynamoLinkStore.ts';
import type { ClaimRequest } from '../../../shared/links/LinkStore.ts';
import { isHashedKey, linkPk, MAX_KEY_BYTES } from '../../../shared/links/linkKeys.ts';
import { countingClient } from '../../helpers/countingClient.ts';
import { type EmulatorFixture, startEmulatorFixture } from '../../helpers/emulatorFixture.ts';
import { StaleReads } from '../../helpers/staleReads.ts';

const NOW = Date.parse('2026-11-26T10:00:00Z');

describe(`Class: DynamoLinkStore (against ${process.env.WB_DYNAMODB === 'local' ? 'DynamoDB Local' : 'dynalite'})`, () => {
  let fx: EmulatorFixture;
  let n = 0;
  /** A fresh key per test: tests share one table. */
  const newKey = () => `k${++n}`;
  const claimReq = (key: string, over: Partial<ClaimRequest> = {}): ClaimRequest => ({
    sync: 's1',
    key,
    version: '10',
    hash: 'h10',
    token: randomUUID(),
    runId: 'r1',
    now: NOW,
    leaseMs: 60_000,
    ...over,
  });
  const commit = (key: string, token: string, version = '10', hash = 'h10') =>
    fx.links.commit({ sync: 's1', key, token, targetId: `t-${key}`, hash, version, now: NOW + 1 });

  beforeAll(async () => {
    fx = await startEmulatorFixture();
  });
  afterAll(async () => {
    await fx?.stop();
  });

  describe('Method: claim', () => {
    it('claims a new key and records the intent before any target call', async () => {
      // Prepare
      const key = newKey();
      // Act
      const res = await fx.links.claim(claimReq(key));
      // Assess
      expect(res).toEqual({ outcome: 'claimed', previous: undefined });
      const link = await fx.links.get('s1', key);
      expect(link).toMatchObject({
        status: 'pending',
        pendingVersion: '10',
        pendingHash: 'h10',
        attempts: 0,
      });
      expect(link?.targetId).toBeUndefined();
    });

    it('lets exactly one of many concurrent writers claim a key', async () => {
      // Prepare
      const key = newKey();
      // Act
      const results = await Promise.all(Array.from({ length: 8 }, () => fx.links.claim(claimReq(key))));
      // Assess
      expect(results.filter((r) => r.outcome === 'claimed')).toHaveLength(1);
      expect(results.filter((r) => r.outcome === 'busy')).toHaveLength(7);
    });

    it('is busy while another lease lives, and claimable once it expired (a crashed writer)', async () => {
      // Prepare
      const key = newKey();
      await fx.links.claim(claimReq(key));
      // Act
      const during = await fx.links.claim(claimReq(key, { now: NOW + 59_000 }));
      const after = await fx.links.claim(claimReq(key, { now: NOW + 61_000 }));
      // Assess
      expect(during.outcome).toBe('busy');
      expect(after).toMatchObject({
        outcome: 'claimed',
        previous: { status: 'pending', targetId: undefined },
      });
    });

    it('refuses an older version than the committed one as stale', async () => {
      // Prepare
      const key = newKey();
      const first = claimReq(key);
      await fx.links.claim(first);
      await commit(key, first.token);
      // Act
      const res = await fx.links.claim(claimReq(key, { version: '9', hash: 'h9', now: NOW + 2 }));
      // Assess
      expect(res.outcome).toBe('stale');
    });

    it('refuses an older version than one claimed and not committed as stale', async () => {
      // Prepare
      const key = newKey();
      const newer = claimReq(key, { version: '20', hash: 'h20' });
      await fx.links.claim(newer);
      await fx.links.recordFailure({
        sync: 's1',
        key,
        token: newer.token,
        status: 'failed',
        error: { code: 'X', message: 'refused' },
        now: NOW + 1,
      });
      // Act
      const res = await fx.links.claim(claimReq(key, { version: '15', hash: 'h15', now: NOW + 2 }));
      // Assess
      expect(res.outcome).toBe('stale');
    });

    it('answers unchanged for a duplicate of content the target already holds', async () => {
      // Prepare
      const key = newKey();
      const first = claimReq(key);
      await fx.links.claim(first);
      await commit(key, first.token);
      // Act
      const res = await fx.links.claim(claimReq(key, { now: NOW + 2 }));
      // Assess
      expect(res.outcome).toBe('unchanged');
    });

    it('learns why a claim was refused from the refusal itself where the engine returns the item (AWS does: no read)', async () => {
      // Prepare
      const key = newKey();
      const first = claimReq(key);
      await fx.links.claim(first);
      await commit(key, first.token);
      const counting = countingClient(fx.emulators.dynamodbEndpoint);
      const links = new DynamoLinkStore(counting.client, fx.resources.linksTable);
      // Act: a duplicate, and an older version
      const duplicate = await links.claim(claimReq(key, { now: NOW + 2 }));
      const older = await links.claim(claimReq(key, { version: '9', hash: 'h9', now: NOW + 2 }));
      // Assess: DynamoDB Local returns the item with the refusal; dynalite returns none (re-read)
      expect([duplicate.outcome, older.outcome]).toEqual(['unchanged', 'stale']);
      expect(duplicate).toMatchObject({ link: { status: 'ok', version: '10', hash: 'h10' } });
      expect(counting.calls).toEqual(
        process.env.WB_DYNAMODB === 'local'
          ? ['UpdateItem', 'UpdateItem']
          : ['UpdateItem', 'GetItem', 'UpdateItem', 'GetItem'],
      );
      counting.client.destroy();
    });

    it('claims a newer version of a committed key and returns the target id it holds', async () => {
      // Prepare
      const key = newKey();
      const first = claimReq(key);
      await fx.links.claim(first);
      await commit(key, first.token);
      // Act
      const res = await fx.links.claim(claimReq(key, { version: '11', hash: 'h11', now: NOW + 2 }));
      // Assess
      expect(res).toMatchObject({ outcome: 'claimed', previous: { status: 'ok', targetId: `t-${key}` } });
    });
  });

  describe('Method: commit', () => {
    it('commits with its own lease and clears the intent', async () => {
      // Prepare
      const key = newKey();
      const req = claimReq(key);
      await fx.links.claim(req);
      // Act
      const ok = await commit(key, req.token);
      // Assess
      expect(ok).toBe(true);
      expect(await fx.links.get('s1', key)).toMatchObject({
        status: 'ok',
        targetId: `t-${key}`,
        hash: 'h10',
        version: '10',
        pendingVersion: undefined,
        leaseToken: undefined,
        attempts: 0,
        redrives: 0,
      });
    });

    it('refuses to commit once another writer took the lease over', async () => {
      // Prepare
      const key = newKey();
      const slow = claimReq(key);
      await fx.links.claim(slow);
      const takeover = claimReq(key, { now: NOW + 61_000 });
      await fx.links.claim(takeover);
      // Act
      const ok = await commit(key, slow.token);
      // Assess
      expect(ok).toBe(false);
      expect((await fx.links.get('s1', key))?.leaseToken).toBe(takeover.token);
    });
  });

  describe('Method: recordFailure', () => {
    it('keeps the last error and counts attempts', async () => {
      // Prepare
      const key = newKey();
      const req = claimReq(key);
      await fx.links.claim(req);
      // Act
      await fx.links.recordFailure({
        sync: 's1',
        key,
        token: req.token,
        status: 'retrying',
        error: { code: 'HUBSPOT_RATE_LIMITED', message: '429', httpStatus: 429 },
        now: NOW + 5,
      });
      // Assess
      const link = await fx.links.get('s1', key);
      expect(link).toMatchObject({
        status: 'retrying',
        attempts: 1,
        leaseToken: undefined,
        pendingVersion: '10',
        lastError: { code: 'HUBSPOT_RATE_LIMITED', message: '429', httpStatus: 429 },
      });
      expect(link?.lastError?.at).toBe(new Date(NOW + 5).toISOString());
    });
  });

  describe('Method: touchVersion', () => {
    it('moves an ok link to a newer version with the same content', async () => {
      // Prepare
      const key = newKey();
      const req = claimReq(key);
      await fx.links.claim(req);
      await commit(key, req.token);
      // Act
      const moved = await fx.links.touchVersion({
        sync: 's1',
        key,
        version: '12',
        hash: 'h10',
        now: NOW + 2,
      });
      const stale = await fx.links.claim(claimReq(key, { version: '11', hash: 'h11', now: NOW + 3 }));
      // Assess
      expect(moved).toBe(true);
      expect(stale.outcome).toBe('stale');
    });

    it('refuses when the link changed since it was read: other content, a live claim, or not older', async () => {
      // Prepare: committed h10 at 10, then claimed for h11 at 11 (a writer holds it)
      const key = newKey();
      const req = claimReq(key);
      await fx.links.claim(req);
      await commit(key, req.token);
      const touch = (version: string, hash: string) =>
        fx.links.touchVersion({ sync: 's1', key, version, hash, now: NOW + 2 });
      // Act
      const notOlder = await touch('10', 'h10');
      const otherContent = await touch('12', 'h9');
      await fx.links.claim(claimReq(key, { version: '11', hash: 'h11', now: NOW + 1 }));
      const claimed = await touch('12', 'h10');
      // Assess
      expect([notOlder, otherContent, claimed]).toEqual([false, false, false]);
      expect(await fx.links.get('s1', key)).toMatchObject({ version: '10', pendingVersion: '11' });
    });

    it('moves a deleted link on for a newer delete', async () => {
      // Prepare
      const key = newKey();
      const req = claimReq(key);
      await fx.links.claim(req);
      await fx.links.commitDeleted({ sync: 's1', key, token: req.token, version: '10', now: NOW + 1 });
      // Act
      const moved = await fx.links.touchVersion({
        sync: 's1',
        key,
        version: '11',
        hash: 'deleted',
        now: NOW + 2,
      });
      // Assess
      expect(moved).toBe(true);
      expect(await fx.links.get('s1', key)).toMatchObject({ status: 'deleted', version: '11' });
    });
  });

  describe("Keys and items at DynamoDB's limits", () => {
    /** A key whose readable item key `s-xxxxxx#<key>` (the syncs below) is exactly `bytes` long. */
    const keyOfItemKeyBytes = (bytes: number) => 'x'.repeat(bytes - 's-xxxxxx#'.length);
    const rawPk = async (pk: string) =>
      (
        await fx.aws.ddb.send(
          new GetItemCommand({
            TableName: fx.resources.linksTable,
            Key: { pk: { S: pk } },
            ConsistentRead: true,
          }),
        )
      ).Item;

    it.each([
      ['a key whose item key is exactly 2048 bytes', keyOfItemKeyBytes(MAX_KEY_BYTES), false],
      ['a key one byte longer', keyOfItemKeyBytes(MAX_KEY_BYTES + 1), true],
      ['a 3 KB key', 'k'.repeat(3000), true],
      ['a key of 700 emoji (1400 UTF-16 units, 2800 bytes)', '\u{1F600}'.repeat(700), true],
      ['a key with #, quotes and a newline', `a#b"c'd\ne`, false],
      ['a key spelled like a hashed one', `~sha256:${'A'.repeat(43)}`, false],
    ])('claims, commits, reads and lists %s by its full key', async (_name, key, hashed) => {
      // Prepare
      const sync = `s-${randomUUID().slice(0, 6)}`;
      const req = claimReq(key, { sync });
      // Act
      const claimed = await fx.links.claim(req);
      await fx.links.recordFailure({
        sync,
        key,
        token: req.token,
        status: 'retrying',
        error: { code: 'X', message: 'x' },
        now: NOW + 1,
      });
      const again = await fx.links.claim(claimReq(key, { sync, now: NOW + 2, token: 'second' }));
      const committed = await fx.links.commit({
        sync,
        key,
        token: 'second',
        targetId: 't1',
        hash: 'h10',
        version: '10',
        now: NOW + 3,
      });
      // Assess
      expect([claimed.outcome, again.outcome, committed]).toEqual(['claimed', 'claimed', true]);
      expect(isHashedKey(linkPk(sync, key))).toBe(hashed);
      expect((await rawPk(linkPk(sync, key)))?.skey?.S).toBe(key);
      expect(await fx.links.get(sync, key)).toMatchObject({ key, status: 'ok', targetId: 't1' });
      expect([...(await fx.links.batchGet(sync, [key, 'other'])).keys()]).toEqual([key]);
      expect(await fx.links.keysByTarget(sync, 't1')).toEqual([key]);
    });

    it('finds a link by a target id longer than an index key may be', async () => {
      // Prepare
      const sync = `s-${randomUUID().slice(0, 6)}`;
      const targetId = `T${'9'.repeat(4000)}`;
      const key = newKey();
      const req = claimReq(key, { sync });
      await fx.links.claim(req);
      // Act
      const ok = await fx.links.commit({
        sync,
        key,
        token: req.token,
        targetId,
        hash: 'h',
        version: '10',
        now: NOW,
      });
      // Assess
      expect(ok).toBe(true);
      expect(await fx.links.keysByTarget(sync, targetId)).toEqual([key]);
      expect(await fx.links.keysByTarget(sync, 'T9')).toEqual([]);
    });

    it('keeps 4 KB of a 1 MB error message, with a marker, and the code', async () => {
      // Prepare
      const key = newKey();
      const req = claimReq(key);
      await fx.links.claim(req);
      const message = `validation failed: ${'\u{1F4A5}'.repeat(262_144)}`;
      // Act
      const ok = await fx.links.recordFailure({
        sync: 's1',
        key,
        token: req.token,
        status: 'failed',
        error: { code: 'TARGET_VALIDATION', message, httpStatus: 422 },
        now: NOW + 1,
      });
      // Assess
      expect(ok).toBe(true);
      const link = await fx.links.get('s1', key);
      expect(link?.lastError).toMatchObject({ code: 'TARGET_VALIDATION', httpStatus: 422 });
      expect(Buffer.byteLength(link!.lastError!.message)).toBeLessThanOrEqual(4096);
      expect(link!.lastError!.message).toMatch(
        /^validation failed: (\u{1F4A5})+… \[truncated, \d+ bytes\]$/u,
      );
    });
  });

  describe('Method: batchGet', () => {
    it('reads strongly when asked: eventually consistent reads may lag, strong ones never', async () => {
      // Prepare
      const key = newKey();
      const stale = new StaleReads(fx.emulators.dynamodbEndpoint, fx.resources.linksTable);
      const req = claimReq(key);
      await stale.links.claim(req);
      await stale.freeze('s1', [key]);
      await stale.links.commit({
        sync: 's1',
        key,
        token: req.token,
        targetId: 't',
        hash: 'h10',
        version: '10',
        now: NOW,
      });
      // Act
      const eventual = (await stale.links.batchGet('s1', [key])).get(key);
      const strong = (await stale.links.batchGet('s1', [key], { consistent: true })).get(key);
      stale.destroy();
      // Assess
      expect(eventual?.status).toBe('pending');
      expect(strong?.status).toBe('ok');
    });
  });

  describe('Methods: markRedriven, listByStatus, countByStatus', () => {
    it('marks a dead link redriven once, and only as it was read', async () => {
      // Prepare
      const sync = `s-${randomUUID().slice(0, 6)}`;
      const key = newKey();
      const req = claimReq(key, { sync });
      await fx.links.claim(req);
      await fx.links.recordFailure({
        sync,
        key,
        token: req.token,
        status: 'dead',
        error: { code: 'HUBSPOT_SERVER_ERROR', message: '503', httpStatus: 503 },
        now: NOW + 1,
      });
      const [dead] = await fx.links.listByStatus(sync, 'dead');
      // Act
      const first = await fx.links.markRedriven({ sync, key, seen: dead!, runId: 'r2', now: NOW + 2 });
      const second = await fx.links.markRedriven({ sync, key, seen: dead!, runId: 'r3', now: NOW + 3 });
      // Assess
      expect([first, second]).toEqual([true, false]);
      expect(await fx.links.get(sync, key)).toMatchObject({ status: 'retrying', redrives: 1 });
      expect(await fx.links.countByStatus(sync, 'dead')).toBe(0);
      expect(await fx.links.countByStatus(sync, 'retrying')).toBe(1);
    });

    it("keeps a first delivery's claim out of the attention index, and a claim of a message that came back in it until its commit", async () => {
      // Prepare
      const sync = `s-${randomUUID().slice(0, 6)}`;
      const first = claimReq('first', { sync });
      const retried = claimReq('again', { sync, retried: true });
      // Act
      await fx.links.claim(first);
      await fx.links.claim(retried);
      // Assess: only the retried claim can be found as pending (where a stuck one is looked for)
      expect((await fx.links.listByStatus(sync, 'pending')).map((l) => l.key)).toEqual(['again']);
      expect(await fx.links.oldestUpdate(sync, 'pending')).toBe(new Date(NOW).toISOString());
      await fx.links.commit({
        sync,
        key: 'again',
        token: retried.token,
        targetId: 't',
        hash: 'h10',
        version: '10',
        now: NOW + 1,
      });
      expect(await fx.links.countByStatus(sync, 'pending')).toBe(0);
      expect(await fx.links.oldestUpdate(sync, 'pending')).toBeUndefined();
    });

    it('takes a failed link out of the attention index when a first delivery claims it again', async () => {
      // Prepare
      const sync = `s-${randomUUID().slice(0, 6)}`;
      const req = claimReq('k', { sync });
      await fx.links.claim(req);
      await fx.links.recordFailure({
        sync,
        key: 'k',
        token: req.token,
        status: 'failed',
        error: { code: 'X', message: 'x' },
        now: NOW,
      });
      expect(await fx.links.countByStatus(sync, 'failed')).toBe(1);
      // Act: the row changed, its new content is claimed
      await fx.links.claim(claimReq('k', { sync, version: '11', hash: 'h11', now: NOW + 1 }));
      // Assess
      expect(await fx.links.countByStatus(sync, 'failed')).toBe(0);
      expect(await fx.links.get(sync, 'k')).toMatchObject({ status: 'pending', pendingHash: 'h11' });
    });

    it('lists only links last touched before a time', async () => {
      // Prepare
      const sync = `s-${randomUUID().slice(0, 6)}`;
      for (const [key, at] of [
        ['old', NOW],
        ['new', NOW + 60_000],
      ] as const) {
        const req = claimReq(key, { sync, now: at });
        await fx.links.claim(req);
        await fx.links.recordFailure({
          sync,
          key,
          token: req.token,
          status: 'retrying',
          error: { code: 'X', message: 'x' },
          now: at,
        });
      }
      // Act
      const stuck = await fx.links.listByStatus(sync, 'retrying', 100, new Date(NOW + 30_000).toISOString());
      // Assess
      expect(stuck.map((l) => l.key)).toEqual(['old']);
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLinkStore } from '../../../shared/links/DynamoLinkStore.ts';
import { processWriteBatch } from '../../../shared/write/processWriteBatch.ts';
import { countingClient } from '../../helpers/countingClient.ts';
import { type EmulatorFixture, startEmulatorFixture } from '../../helpers/emulatorFixture.ts';
import { MemoryTarget } from '../../helpers/MemoryTarget.ts';
import { StaleReads } from '../../helpers/staleReads.ts';
import { delivered, message, testSync, WriteRecorder } from '../../helpers/writeHarness.ts';

/**
 * The writer as it was before reads were strong and "unchanged" depended on a conditional write:
 * an eventually consistent read, and the result of touchVersion ignored. Kept here to show that
 * the scenarios below do break it, so the tests prove the fix and not just the happy path.
 */
class LinksBeforeTheFix extends DynamoLinkStore {
  public override batchGet(sync: string, keys: readonly string[]) {
    return super.batchGet(sync, keys);
  }
  public override async touchVersion(args: Parameters<DynamoLinkStore['touchVersion']>[0]) {
    await super.touchVersion(args);
    return true;
  }
}

const A = { email: 'k@example.test', name: 'A' };
const B = { email: 'k@example.test', name: 'B' };

describe(`Write path under DynamoDB's eventual consistency (${process.env.WB_DYNAMODB === 'local' ? 'DynamoDB Local' : 'dynalite'})`, () => {
  let fx: EmulatorFixture;
  let syncNo = 0;
  const stores: StaleReads[] = [];
  const freshSync = () => testSync({ name: `stale-${++syncNo}` });
  const staleReads = () => {
    const s = new StaleReads(fx.emulators.dynamodbEndpoint, fx.resources.linksTable);
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    fx = await startEmulatorFixture();
  });
  afterAll(async () => {
    for (const s of stores) s.destroy();
    await fx?.stop();
  });

  /**
   * The row goes A (v1) → B (v2) → A (v3). B is committed, but an eventually consistent read just
   * after it still shows A at v1: the v3 message looks like a duplicate of what the target holds.
   * The v3 message is a redelivery (its first delivery failed): only a redelivery reads the link
   * before its claim (a first delivery's claim decides alone, see the last tests).
   */
  async function revertAfterStaleRead(useStore: (stale: StaleReads) => DynamoLinkStore) {
    const sync = freshSync();
    const target = new MemoryTarget({ mode: 'native' });
    const rec = new WriteRecorder();
    const stale = staleReads();
    const links = useStore(stale);
    await processWriteBatch(sync, [delivered(message(sync, 'k', 1, A))], rec.deps(links, target));
    await stale.freeze(sync.name, ['k']);
    await processWriteBatch(sync, [delivered(message(sync, 'k', 2, B))], rec.deps(links, target));
    // The injection: eventually consistent reads lag, strong ones do not.
    const eventual = (await links.batchGet(sync.name, ['k'])).get('k');
    const strong = (await fx.links.batchGet(sync.name, ['k'], { consistent: true })).get('k');
    expect({ eventual: eventual?.version, strong: strong?.version }).toEqual({ eventual: '1', strong: '2' });
    const res = await processWriteBatch(
      sync,
      [delivered(message(sync, 'k', 3, A), 2)],
      rec.deps(links, target),
    );
    return { sync, target, res };
  }

  it('without the fix, a stale read acknowledges the revert as unchanged and the target stays behind', async () => {
    // Act
    const { target, res } = await revertAfterStaleRead(
      (s) => new LinksBeforeTheFix(s.client, fx.resources.linksTable),
    );
    // Assess: the source says A, the target says B
    expect(res.counts.unchanged).toBe(1);
    expect(target.byExternalId('k')[0]!.fields.name).toBe('B');
  });

  it('with strong reads, the revert is written: the target has the newest content', async () => {
    // Act
    const { sync, target, res } = await revertAfterStaleRead((s) => s.links);
    // Assess
    expect(res.counts).toMatchObject({ unchanged: 0, updated: 1 });
    expect(target.byExternalId('k')).toHaveLength(1);
    expect(target.byExternalId('k')[0]!.fields.name).toBe('A');
    expect(await fx.links.get(sync.name, 'k')).toMatchObject({ status: 'ok', version: '3' });
  });

  /**
   * The read is current, but another writer commits B between it and the acknowledgement: only the
   * conditional write (touchVersion) can notice. The v3 message is a redelivery, as above.
   */
  async function commitBetweenReadAndAck(useStore: (stale: StaleReads) => DynamoLinkStore) {
    const sync = freshSync();
    const target = new MemoryTarget({ mode: 'native' });
    const rec = new WriteRecorder();
    const stale = staleReads();
    const links = useStore(stale);
    await processWriteBatch(sync, [delivered(message(sync, 'k', 1, A))], rec.deps(fx.links, target));
    // Act: the v3 message (A again) reads the link; right then a writer commits the v2 message (B)
    stale.afterBatchGet = async () => {
      await processWriteBatch(sync, [delivered(message(sync, 'k', 2, B))], rec.deps(fx.links, target));
    };
    const res = await processWriteBatch(
      sync,
      [delivered(message(sync, 'k', 3, A), 2)],
      rec.deps(links, target),
    );
    expect(stale.afterBatchGet).toBeUndefined();
    return { sync, target, res };
  }

  it('without the fix, a commit between the read and the acknowledgement leaves the target behind', async () => {
    const { target } = await commitBetweenReadAndAck(
      (s) => new LinksBeforeTheFix(s.client, fx.resources.linksTable),
    );
    expect(target.byExternalId('k')[0]!.fields.name).toBe('B');
  });

  it('with the fix, a failed touchVersion is not acknowledged: the message is claimed and written', async () => {
    // Act
    const { sync, target, res } = await commitBetweenReadAndAck((s) => s.links);
    // Assess
    expect(res.counts).toMatchObject({ unchanged: 0, updated: 1 });
    expect(target.byExternalId('k')[0]!.fields.name).toBe('A');
    expect(await fx.links.get(sync.name, 'k')).toMatchObject({ status: 'ok', version: '3' });
  });

  it('retries, not acknowledges, a message the claim found unchanged when the link moves on before the touch', async () => {
    // Prepare: A (v1) claimed by a writer that has not committed yet
    const sync = freshSync();
    const target = new MemoryTarget({ mode: 'native' });
    const rec = new WriteRecorder();
    const stale = staleReads();
    await fx.links.claim({
      sync: sync.name,
      key: 'k',
      version: '1',
      hash: message(sync, 'k', 1, A).hash,
      token: 'first',
      runId: 'r',
      now: Date.now(),
      leaseMs: 60_000,
    });
    // Act: the v3 message (A again), a redelivery, reads the link (pending: to the claim); then
    // the first writer commits A, so the claim finds A written (unchanged at v1); then, before the
    // touch, B (v2) is committed by a third writer.
    stale.afterBatchGet = async () => {
      await fx.links.commit({
        sync: sync.name,
        key: 'k',
        token: 'first',
        targetId: 'x',
        hash: message(sync, 'k', 1, A).hash,
        version: '1',
        now: Date.now(),
      });
    };
    stale.afterRefusal = async () => {
      await processWriteBatch(sync, [delivered(message(sync, 'k', 2, B))], rec.deps(fx.links, target));
    };
    const a3 = delivered(message(sync, 'k', 3, A), 2);
    const first = await processWriteBatch(sync, [a3], rec.deps(stale.links, target));
    const again = await processWriteBatch(sync, [{ ...a3, receiveCount: 3 }], rec.deps(fx.links, target));
    // Assess
    expect(first).toMatchObject({ retry: [a3.messageId], counts: { unchanged: 0, busy: 1 } });
    expect(again.counts.updated).toBe(1);
    expect(target.byExternalId('k')[0]!.fields.name).toBe('A');
  });

  it('still acknowledges a true duplicate on its first delivery without a target call, and moves the version for a newer one', async () => {
    // Prepare
    const sync = freshSync();
    const target = new MemoryTarget({ mode: 'native' });
    const rec = new WriteRecorder();
    const links = staleReads().links;
    await processWriteBatch(sync, [delivered(message(sync, 'k', 1, A))], rec.deps(links, target));
    // Act
    const dup = await processWriteBatch(sync, [delivered(message(sync, 'k', 1, A))], rec.deps(links, target));
    const newer = await processWriteBatch(
      sync,
      [delivered(message(sync, 'k', 2, A))],
      rec.deps(links, target),
    );
    const older = await processWriteBatch(
      sync,
      [delivered(message(sync, 'k', 1, B))],
      rec.deps(links, target),
    );
    // Assess
    expect(target.calls.upsert).toBe(1);
    expect([dup.counts.unchanged, newer.counts.unchanged, older.counts.stale]).toEqual([1, 1, 1]);
    expect(await fx.links.get(sync.name, 'k')).toMatchObject({ status: 'ok', version: '2' });
  });

  it('claims a first delivery without reading its link first: two conditional writes, and a stale read cannot hide a revert', async () => {
    // Prepare: A (v1) and B (v2) committed; eventually consistent reads still show A at v1
    const sync = freshSync();
    const target = new MemoryTarget({ mode: 'native' });
    const rec = new WriteRecorder();
    const stale = staleReads();
    const before = new LinksBeforeTheFix(stale.client, fx.resources.linksTable);
    await processWriteBatch(sync, [delivered(message(sync, 'k', 1, A))], rec.deps(before, target));
    await stale.freeze(sync.name, ['k']);
    await processWriteBatch(sync, [delivered(message(sync, 'k', 2, B))], rec.deps(before, target));
    const counting = countingClient(fx.emulators.dynamodbEndpoint);
    const links = new DynamoLinkStore(counting.client, fx.resources.linksTable);
    // Act: the revert to A (v3), first delivery, even through the store that reads eventually
    const res = await processWriteBatch(
      sync,
      [delivered(message(sync, 'k', 3, A))],
      rec.deps(before, target),
    );
    const counted = await processWriteBatch(
      sync,
      [delivered(message(sync, 'k', 4, B))],
      rec.deps(links, target),
    );
    // Assess: written both times; the second one read nothing (its writes: the claim, the commit,
    // and the batch's health record)
    expect([res.counts.updated, counted.counts.updated]).toEqual([1, 1]);
    expect(target.byExternalId('k')[0]!.fields.name).toBe('B');
    expect(counting.calls.filter((c) => c !== 'UpdateItem')).toEqual([]);
    counting.client.destroy();
  });

  it('retries, not acknowledges, a first delivery the claim found unchanged when the link moves on before the touch', async () => {
    // Prepare: A (v1) committed
    const sync = freshSync();
    const target = new MemoryTarget({ mode: 'native' });
    const rec = new WriteRecorder();
    const stale = staleReads();
    await processWriteBatch(sync, [delivered(message(sync, 'k', 1, A))], rec.deps(fx.links, target));
    // Act: the v3 message (A again), a first delivery, is refused by its claim (A is written) and
    // learns why (the item returned with the refusal, or re-read); right then B (v2) is committed
    // by another writer
    stale.afterRefusal = async () => {
      await processWriteBatch(sync, [delivered(message(sync, 'k', 2, B))], rec.deps(fx.links, target));
    };
    const a3 = delivered(message(sync, 'k', 3, A));
    const first = await processWriteBatch(sync, [a3], rec.deps(stale.links, target));
    const again = await processWriteBatch(sync, [{ ...a3, receiveCount: 2 }], rec.deps(fx.links, target));
    // Assess
    expect(stale.afterRefusal).toBeUndefined();
    expect(first).toMatchObject({ retry: [a3.messageId], counts: { unchanged: 0, busy: 1 } });
    expect(again.counts.updated).toBe(1);
    expect(target.byExternalId('k')[0]!.fields.name).toBe('A');
  });
});

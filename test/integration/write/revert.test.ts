import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoLinkStore } from '../../../shared/links/DynamoLinkStore.ts';
import { selectChanged } from '../../../shared/links/selectChanged.ts';
import type { WriteMessage } from '../../../shared/queue/WriteMessage.ts';
import { processWriteBatch, type WriteDeps } from '../../../shared/write/processWriteBatch.ts';
import { type EmulatorFixture, startEmulatorFixture } from '../../helpers/emulatorFixture.ts';
import { MemoryTarget } from '../../helpers/MemoryTarget.ts';
import { StaleReads } from '../../helpers/staleReads.ts';
import { delivered, message, testSync, WriteRecorder } from '../../helpers/writeHarness.ts';

/**
 * A → B → A while the B message still waits in the queue: the row must end as A in the target,
 * whichever comes first of the B message's claim, its commit, and the extract's look at the
 * reverted row (selectChanged, as enqueueChanged calls it).
 */
describe(`A row that reverts while its change waits in the queue (${process.env.WB_DYNAMODB === 'local' ? 'DynamoDB Local' : 'dynalite'})`, () => {
  let fx: EmulatorFixture;
  let syncNo = 0;
  const A = (key: string) => ({ email: `${key}@example.test`, name: 'A' });
  const B = (key: string) => ({ email: `${key}@example.test`, name: 'B' });

  beforeAll(async () => {
    fx = await startEmulatorFixture();
  });
  afterAll(async () => {
    await fx?.stop();
  });

  /** A sync whose keys were written as A (v1); the B (v2) messages are built, not yet delivered. */
  async function written(keys: readonly string[], over: Partial<WriteDeps> = {}) {
    const sync = testSync({ name: `revert-${++syncNo}`, batchSize: 100 });
    const target = new MemoryTarget({ mode: 'native' });
    const rec = new WriteRecorder();
    const deps = (links: DynamoLinkStore = fx.links, more: Partial<WriteDeps> = {}) =>
      rec.deps(links, target, { ...over, ...more });
    await processWriteBatch(
      sync,
      keys.map((k) => delivered(message(sync, k, 1, A(k)))),
      deps(),
    );
    const queuedB = keys.map((k) => message(sync, k, 2, B(k)));
    const revertedA = keys.map((k) => message(sync, k, 3, A(k)));
    /** What the extract sends for the reverted rows. */
    const extract = (links: DynamoLinkStore = fx.links) =>
      selectChanged(links, sync.name, revertedA, Date.now);
    const deliver = (msgs: readonly WriteMessage[], links?: DynamoLinkStore, more?: Partial<WriteDeps>) =>
      processWriteBatch(
        sync,
        msgs.map((m) => delivered(m)),
        deps(links, more),
      );
    const names = () => keys.map((k) => target.byExternalId(k).map((r) => r.fields.name));
    return { sync, target, queuedB, revertedA, extract, deliver, names };
  }

  it('B written before the extract looks: A is sent, and written after B', async () => {
    // Prepare
    const s = await written(['k']);
    await s.deliver(s.queuedB);
    // Act
    const sent = await s.extract();
    await s.deliver(sent.send);
    // Assess
    expect(sent.send.map((m) => m.version)).toEqual(['3']);
    expect(s.names()).toEqual([['A']]);
  });

  it('B written before, but the extract reads a stale link that still shows A: the touch fails, A is sent', async () => {
    // Prepare
    const s = await written(['k']);
    const stale = new StaleReads(fx.emulators.dynamodbEndpoint, fx.resources.linksTable);
    await stale.freeze(s.sync.name, ['k']);
    await s.deliver(s.queuedB);
    // Act
    const sent = await s.extract(stale.links);
    await s.deliver(sent.send);
    stale.destroy();
    // Assess
    expect(stale.served).toBeGreaterThan(0);
    expect(sent).toMatchObject({ touched: 0, unchanged: 0 });
    expect(s.names()).toEqual([['A']]);
  });

  it('B delivered after the extract looked: the link moved on, B is stale, nothing is written', async () => {
    // Prepare
    const s = await written(['k']);
    // Act
    const sent = await s.extract();
    const res = await s.deliver(s.queuedB);
    // Assess
    expect(sent).toMatchObject({ send: [], touched: 1 });
    expect(res.counts.stale).toBe(1);
    expect(s.target.calls.upsert).toBe(1);
    expect(s.names()).toEqual([['A']]);
  });

  it('B claimed and in flight while the extract looks: A is sent and wins once B commits', async () => {
    // Prepare: the extract looks while B's writer holds the key (between its claim and its write)
    const s = await written(['k']);
    let sent: Awaited<ReturnType<typeof s.extract>> | undefined;
    // Act
    await s.deliver(s.queuedB, undefined, {
      faults: {
        at: async (step) => {
          if (step === 'claimed') sent = await s.extract();
        },
      },
    });
    await s.deliver(sent!.send);
    // Assess
    expect(sent!.send.map((m) => m.version)).toEqual(['3']);
    expect(s.names()).toEqual([['A']]);
  });

  it('B claimed, written and crashed before its commit: A is sent and wins after the lease', async () => {
    // Prepare: B reaches the target, its writer dies before the commit (the link stays pending)
    const s = await written(['k']);
    await expect(
      s.deliver(s.queuedB, undefined, {
        faults: {
          at: (step) => {
            if (step === 'written') throw new Error('crash');
          },
        },
      }),
    ).rejects.toThrow('crash');
    expect(s.names()).toEqual([['B']]);
    // Act
    const sent = await s.extract();
    // The next deliveries come after the crashed writer's lease (120 s) ran out.
    const later = { now: () => Date.now() + 121_000 };
    await s.deliver(sent.send, undefined, later);
    const redelivered = await s.deliver(s.queuedB, undefined, later);
    // Assess
    expect(sent.send.map((m) => m.version)).toEqual(['3']);
    expect(redelivered.counts.stale).toBe(1);
    expect(s.names()).toEqual([['A']]);
  });

  it("B's claim racing the extract's touch on 40 keys: every key ends as A", async () => {
    // Prepare
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const s = await written(keys);
    // Act: B's writer and the extract at the same time, then what the extract sent
    const [, sent] = await Promise.all([s.deliver(s.queuedB), s.extract()]);
    await s.deliver(sent.send);
    // Assess
    expect(s.names()).toEqual(keys.map(() => ['A']));
    expect(sent.touched + sent.send.length).toBe(keys.length);
  });

  it('sends a deleted row for a record written a moment ago or being written, though a stale read shows no link', async () => {
    // Prepare: k1 written (a stale read still shows no link), k2 being created (claimed), k3 never sent
    const sync = testSync({ name: `revert-${++syncNo}` });
    const target = new MemoryTarget({ mode: 'native' });
    const rec = new WriteRecorder();
    const stale = new StaleReads(fx.emulators.dynamodbEndpoint, fx.resources.linksTable);
    await stale.freeze(sync.name, ['k1']);
    await processWriteBatch(sync, [delivered(message(sync, 'k1', 1, A('k1')))], rec.deps(fx.links, target));
    await fx.links.claim({
      sync: sync.name,
      key: 'k2',
      version: '1',
      hash: 'h',
      token: 't',
      runId: 'r',
      now: Date.now(),
      leaseMs: 60_000,
    });
    const del = (key: string): WriteMessage => ({
      ...message(sync, key, 2, {}),
      hash: 'deleted',
      delete: true,
    });
    // Act
    const sent = await selectChanged(stale.links, sync.name, [del('k1'), del('k2'), del('k3')], Date.now);
    stale.destroy();
    // Assess
    expect(stale.served).toBeGreaterThan(0);
    expect(sent.send.map((m) => m.key)).toEqual(['k1', 'k2']);
  });

  it('a deleted record that is restored and deleted again while the restore waits stays deleted', async () => {
    // Prepare: deleted at v1 (link deleted), restored at v2 (queued), deleted again at v3
    const sync = testSync({ name: `revert-${++syncNo}` });
    const target = new MemoryTarget({ mode: 'native' });
    const rec = new WriteRecorder();
    const del = (version: number): WriteMessage => ({
      ...message(sync, 'k', version, {}),
      hash: 'deleted',
      delete: true,
    });
    await processWriteBatch(sync, [delivered(message(sync, 'k', 0, A('k')))], rec.deps(fx.links, target));
    await fx.links.claim({
      sync: sync.name,
      key: 'k',
      version: '1',
      hash: 'deleted',
      token: 't',
      runId: 'r',
      now: Date.now(),
      leaseMs: 60_000,
    });
    await fx.links.commitDeleted({ sync: sync.name, key: 'k', token: 't', version: '1', now: Date.now() });
    // Act
    const sent = await selectChanged(fx.links, sync.name, [del(3)], Date.now);
    const restore = await processWriteBatch(
      sync,
      [delivered(message(sync, 'k', 2, B('k')))],
      rec.deps(fx.links, target),
    );
    // Assess
    expect(sent).toMatchObject({ send: [], touched: 1 });
    expect(restore.counts.stale).toBe(1);
    expect(await fx.links.get(sync.name, 'k')).toMatchObject({ status: 'deleted', version: '3' });
  });
});

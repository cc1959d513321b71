import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, UpsertRecord } from '../../../shared/connectors/Connector.ts';
import type { WriteMessage } from '../../../shared/queue/WriteMessage.ts';
import { processWriteBatch } from '../../../shared/write/processWriteBatch.ts';
import { type EmulatorFixture, startEmulatorFixture } from '../../helpers/emulatorFixture.ts';
import { MemoryTarget, type TargetMode } from '../../helpers/MemoryTarget.ts';
import { delivered, message, testSync, WriteRecorder } from '../../helpers/writeHarness.ts';

/** The target as it was, with the records it was sent (what a repair hands the connector). */
class Spy {
  public readonly sent: UpsertRecord[] = [];
  public target: MemoryTarget;

  public constructor(mode: TargetMode) {
    this.target = new MemoryTarget({ mode });
  }

  /** The connector the writer sees: the current target, recording each record sent. */
  public connector(): Connector {
    const spy = this;
    return {
      type: 'memory',
      get capabilities() {
        return spy.target.capabilities;
      },
      upsertBatch: async (object, records) => {
        spy.sent.push(...records);
        return spy.target.upsertBatch(object, records);
      },
      lookup: (object, externalId) => spy.target.lookup(object, externalId),
      list: () => spy.target.list(),
      close: async () => undefined,
    };
  }
}

const asRepair = (m: WriteMessage, runId = 'repair-1'): WriteMessage => ({ ...m, repair: true, runId });

describe('Write protocol: repair messages (writeback verify --repair)', () => {
  let fx: EmulatorFixture;
  let syncNo = 0;
  const freshSync = () => testSync({ name: `repair-${++syncNo}` });

  beforeAll(async () => {
    fx = await startEmulatorFixture();
  });
  afterAll(async () => {
    await fx?.stop();
  });

  it('writes content the link says the target holds, where a duplicate is skipped', async () => {
    // Prepare: written once; then the record is edited in the target behind our back
    const sync = freshSync();
    const spy = new Spy('native');
    const rec = new WriteRecorder();
    const msg = message(sync, 'a', 1);
    await processWriteBatch(sync, [delivered(msg)], rec.deps(fx.links, spy.connector()));
    await spy.target.upsertBatch('people', [
      { key: 'a', externalId: 'a', idempotencyKey: 'hand', payload: { name: 'edited by hand' } },
    ]);
    // Act
    const duplicate = await processWriteBatch(sync, [delivered(msg)], rec.deps(fx.links, spy.connector()));
    const repair = await processWriteBatch(
      sync,
      [delivered(asRepair(msg))],
      rec.deps(fx.links, spy.connector()),
    );
    // Assess
    expect(duplicate.counts).toMatchObject({ unchanged: 1, updated: 0 });
    expect(repair.counts).toMatchObject({ unchanged: 0, updated: 1 });
    expect(spy.target.byExternalId('a')).toEqual([expect.objectContaining({ fields: msg.payload })]);
    expect(await fx.links.get(sync.name, 'a')).toMatchObject({ status: 'ok', hash: msg.hash, version: '1' });
  });

  it('is still stale against a newer version, and wins a tie with a normal delivery in one batch', async () => {
    // Prepare
    const sync = freshSync();
    const spy = new Spy('native');
    const rec = new WriteRecorder();
    const v1 = message(sync, 'a', 1);
    const v2 = message(sync, 'a', 2);
    await processWriteBatch(sync, [delivered(v2)], rec.deps(fx.links, spy.connector()));
    // Act
    const stale = await processWriteBatch(
      sync,
      [delivered(asRepair(v1))],
      rec.deps(fx.links, spy.connector()),
    );
    const tie = await processWriteBatch(
      sync,
      [delivered(asRepair(v2)), delivered(v2)],
      rec.deps(fx.links, spy.connector()),
    );
    // Assess
    expect(stale.counts).toMatchObject({ stale: 1, updated: 0 });
    expect(tie.counts).toMatchObject({ stale: 1, updated: 1 });
    expect(spy.target.byExternalId('a')).toHaveLength(1);
    expect(spy.target.byExternalId('a')[0]!.fields.name).toBe('v2');
  });

  it.each([
    ['native', 'upserts by external id', 0],
    ['lookup', 'looks the record up by external id first, then creates it', 1],
    ['idempotency', 'looks it up first and creates it under the repair’s own idempotency key', 1],
  ] as const)(
    'recreates a record gone from the target (%s: %s), not trusting the link’s target id',
    async (mode, _how, lookups) => {
      // Prepare: written once; then the target loses every record (a new, empty target)
      const sync = freshSync();
      const spy = new Spy(mode);
      const rec = new WriteRecorder();
      const msg = message(sync, 'a', 1);
      await processWriteBatch(sync, [delivered(msg)], rec.deps(fx.links, spy.connector()));
      const oldId = (await fx.links.get(sync.name, 'a'))!.targetId;
      spy.target = new MemoryTarget({ mode });
      await spy.target.upsertBatch('people', [
        { key: 'x', externalId: 'x', idempotencyKey: 'x', payload: { name: 'another record' } },
      ]);
      spy.sent.length = 0;
      // Act
      const res = await processWriteBatch(
        sync,
        [delivered(asRepair(msg, 'repair-42'))],
        rec.deps(fx.links, spy.connector()),
      );
      // Assess
      expect(res.counts).toMatchObject({ created: 1, failed: 0 });
      expect(spy.sent).toEqual([
        expect.objectContaining({ key: 'a', idempotencyKey: `${sync.name}:a:repair-42` }),
      ]);
      expect(spy.sent[0]!.targetId).toBeUndefined();
      expect(spy.target.calls.lookup).toBe(lookups);
      const recreated = spy.target.byExternalId('a');
      expect(recreated).toHaveLength(1);
      const link = await fx.links.get(sync.name, 'a');
      expect(link).toMatchObject({ status: 'ok', targetId: recreated[0]!.targetId });
      expect(link!.targetId).not.toBe(oldId);
    },
  );
});

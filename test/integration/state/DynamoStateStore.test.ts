import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStateStore } from '../../../shared/state/DynamoStateStore.ts';
import type { OperatorAction } from '../../../shared/state/OperatorAction.ts';
import type { RunRecord } from '../../../shared/state/RunRecord.ts';
import type { StateStore } from '../../../shared/state/StateStore.ts';
import type { VerifyReport } from '../../../shared/verify/VerifyReport.ts';
import { callsOf, countingClient } from '../../helpers/countingClient.ts';
import { type EmulatorFixture, startEmulatorFixture } from '../../helpers/emulatorFixture.ts';

const NOW = Date.parse('2026-11-26T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

const run = (sync: string, i: number): RunRecord => ({
  sync,
  runId: `run-${i}`,
  startedAt: iso(NOW + i * 60_000),
  finishedAt: iso(NOW + i * 60_000 + 1000),
  outcome: 'succeeded',
  counts: { read: i, unchanged: 0, enqueued: i, invalid: 0 },
  bookmarkBefore: undefined,
  bookmarkAfter: { cursor: String(i), key: [String(i)] },
  backlog: false,
});

const report = (sync: string, i: number): VerifyReport => ({
  sync,
  at: iso(NOW + i * 60_000),
  against: 'copy.items',
  sourceRows: i,
  targetRecords: i,
  counts: { missing: 0, drift: 0, orphan: 0, backlog: 0, dead: 0 },
  findings: [],
  clean: true,
  durationMs: 10,
});

/** The history queries of the state store, with pages of two items: paginated, and cut at the limit. */
describe(`Class: DynamoStateStore (against ${process.env.WB_DYNAMODB === 'local' ? 'DynamoDB Local' : 'dynalite'})`, () => {
  let fx: EmulatorFixture;
  let state: StateStore;
  let small: { state: StateStore; calls: string[]; destroy(): void };

  beforeAll(async () => {
    fx = await startEmulatorFixture();
    state = new DynamoStateStore(fx.aws.ddb, fx.resources.stateTable);
    const counting = countingClient(fx.emulators.dynamodbEndpoint);
    small = {
      state: new DynamoStateStore(counting.client, fx.resources.stateTable, { pageSize: 2 }),
      calls: counting.calls,
      destroy: () => counting.client.destroy(),
    };
    // Five runs and three verifications of s1, beside its state item; one run of s2.
    for (let i = 1; i <= 5; i++) await state.recordRun(run('s1', i));
    for (let i = 1; i <= 3; i++) await state.recordVerify(report('s1', i));
    await state.recordRun(run('s2', 9));
    expect(await state.acquireLease('s1', 'owner', NOW, 60_000)).toBe(true);
  });
  afterAll(async () => {
    small?.destroy();
    await fx?.stop();
  });

  describe('Method: listRuns', () => {
    it("lists a sync's runs newest first, and only its runs", async () => {
      // Act
      const runs = await state.listRuns('s1');

      // Assert
      expect(runs.map((r) => r.runId)).toEqual(['run-5', 'run-4', 'run-3', 'run-2', 'run-1']);
      expect(runs[0]).toEqual(run('s1', 5));
      expect((await state.listRuns('s2')).map((r) => r.runId)).toEqual(['run-9']);
      expect(await state.listRuns('nope')).toEqual([]);
    });

    it('reads past the first page, and stops once the limit is reached', async () => {
      // Prepare
      small.calls.length = 0;

      // Act
      const all = await small.state.listRuns('s1');
      const allQueries = callsOf(small.calls, 'Query');
      small.calls.length = 0;
      const three = await small.state.listRuns('s1', 3);

      // Assert
      expect(all.map((r) => r.runId)).toEqual(['run-5', 'run-4', 'run-3', 'run-2', 'run-1']);
      expect(allQueries).toBeGreaterThanOrEqual(3);
      expect(three.map((r) => r.runId)).toEqual(['run-5', 'run-4', 'run-3']);
      expect(callsOf(small.calls, 'Query')).toBe(2);
    });
  });

  describe('Methods: recordAction, listActions (the audit trail)', () => {
    const action = (i: number, outcome: OperatorAction['outcome']): OperatorAction => ({
      id: `a-${i}`,
      sync: 's3',
      action: 'dlq-purge',
      at: iso(NOW + i * 60_000),
      outcome,
      actor: { kind: 'local', id: 'alice', osUser: 'alice', host: 'laptop' },
      where: 'local stack (pid 1)',
      ...(outcome === 'started' ? {} : { finishedAt: iso(NOW + i * 60_000 + 500), records: i }),
    });

    it('keeps each action once, its outcome replacing its start, newest first beside the runs', async () => {
      // Prepare
      for (let i = 1; i <= 3; i++) await state.recordAction(action(i, 'started'));
      await state.recordAction(action(1, 'ok'));
      await state.recordAction(action(3, 'failed'));
      await state.recordRun(run('s3', 1));

      // Act
      const all = await small.state.listActions('s3');
      const one = await state.listActions('s3', 1);

      // Assert
      expect(all).toEqual([action(3, 'failed'), action(2, 'started'), action(1, 'ok')]);
      expect(one).toEqual([action(3, 'failed')]);
      expect((await state.listRuns('s3')).map((r) => r.runId)).toEqual(['run-1']);
      expect(await state.listActions('s1')).toEqual([]);
    });
  });

  describe('Method: listVerifies', () => {
    it('lists verification reports newest first, page by page, up to the limit', async () => {
      // Prepare
      small.calls.length = 0;

      // Act
      const all = await small.state.listVerifies('s1');
      const one = await state.listVerifies('s1', 1);

      // Assert
      expect(all.map((r) => r.at)).toEqual([iso(NOW + 180_000), iso(NOW + 120_000), iso(NOW + 60_000)]);
      expect(all[0]).toEqual(report('s1', 3));
      expect(callsOf(small.calls, 'Query')).toBeGreaterThanOrEqual(2);
      expect(one).toEqual([report('s1', 3)]);
      expect(await state.listVerifies('s2')).toEqual([]);
    });
  });
});

import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addRunMetrics, addWriteMetrics, publishMetrics } from '../../../functions/runMetrics.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../../../shared/contracts/metricNames.ts';
import type { RunRecord } from '../../../shared/state/RunRecord.ts';
import { emptyWriteCounts, type WriteCounts } from '../../../shared/write/processWriteBatch.ts';
import { captureEmf, emfValues } from '../../helpers/emf.ts';

const metrics = () => new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });

const run = (overrides: Partial<RunRecord> = {}): RunRecord => ({
  sync: 'contacts',
  runId: 'r1',
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:00:01.000Z',
  outcome: 'succeeded',
  counts: { read: 120, unchanged: 20, enqueued: 100, invalid: 0, redriven: 3, failed: 2, dead: 0 },
  bookmarkBefore: undefined,
  bookmarkAfter: undefined,
  backlog: false,
  ...overrides,
});

const writeCounts = (overrides: Partial<WriteCounts> = {}): WriteCounts => ({
  ...emptyWriteCounts(),
  ...overrides,
});

describe('Functions: run metrics', () => {
  afterEach(() => vi.restoreAllMocks());

  it('publishes nothing for a quiet run, and RunsStarted with the outcome of a run that did something', async () => {
    // Prepare
    const quiet = metrics();
    const busy = metrics();
    // Act
    addRunMetrics(quiet, { ...run(), quiet: true });
    addRunMetrics(busy, run());
    const emf = await captureEmf(() => busy.publishStoredMetrics());
    // Assess
    expect(quiet.hasStoredMetrics()).toBe(false);
    expect(emf[0]!._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'Writeback',
      Dimensions: [['service', 'sync']],
    });
    expect(emf[0]).toMatchObject({ service: 'writeback', sync: 'contacts' });
    expect(emfValues(emf[0]!)).toMatchObject({ RunsStarted: 1 });
  });

  it("maps a run's counts; links failed and dead are gauges, published even when zero", async () => {
    // Prepare
    const m = metrics();
    // Act
    addRunMetrics(m, run());
    const emf = await captureEmf(() => m.publishStoredMetrics());
    // Assess
    expect(emfValues(emf[0]!)).toEqual({
      RowsRead: 120,
      RowsEnqueued: 100,
      Redriven: 3,
      LinksFailed: 2,
      LinksDead: 0,
      RunsStarted: 1,
    });
    expect(emf[0]).toMatchObject({ sync: 'contacts' });
  });

  it.each([
    ['failed', 'RunsFailed'],
    ['partial', 'RunsPartial'],
    ['skipped', 'RunsSkipped'],
  ] as const)('counts a %s run as %s', async (outcome, metric) => {
    // Prepare
    const m = metrics();
    // Act
    addRunMetrics(m, run({ outcome, counts: { read: 0, unchanged: 0, enqueued: 0, invalid: 0 } }));
    const emf = await captureEmf(() => m.publishStoredMetrics());
    // Assess: zero counters and unknown gauges are left out
    expect(emfValues(emf[0]!)).toEqual({ RunsStarted: 1, [metric]: 1 });
  });

  it('maps a write batch: every dead-lettered record counts as Failed, those out of retries also as Dead', async () => {
    // Prepare
    const m = metrics();
    // Act
    addWriteMetrics(
      m,
      'contacts',
      writeCounts({ created: 3, updated: 4, failed: 1, dead: 2, retrying: 5, waitingForParent: 2 }),
    );
    const emf = await captureEmf(() => m.publishStoredMetrics());
    // Assess
    expect(emfValues(emf[0]!)).toEqual({ Written: 7, Failed: 3, Dead: 2, Retrying: 5, WaitingForParent: 2 });
  });

  it('publishes nothing, and warns about nothing, for a batch of unchanged and stale records', async () => {
    // Prepare
    const m = metrics();
    const warn = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { after } = publishMetrics(m);
    // Act
    addWriteMetrics(m, 'contacts', writeCounts({ unchanged: 10, stale: 2 }));
    const emf = await captureEmf(() => after?.({} as never));
    // Assess
    expect(emf).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('publishes what was added when the handler throws', async () => {
    // Prepare
    const m = metrics();
    const { onError } = publishMetrics(m);
    addRunMetrics(m, run({ outcome: 'failed' }));
    // Act
    const emf = await captureEmf(() => onError?.({} as never));
    // Assess
    expect(emfValues(emf[0]!)).toMatchObject({ RunsFailed: 1 });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTargetHealth } from '../../../shared/write/checkTargetHealth.ts';
import { type EmulatorFixture, startEmulatorFixture } from '../../helpers/emulatorFixture.ts';

const NOW = Date.parse('2026-11-26T10:00:00Z');

describe('Function: checkTargetHealth (against dynalite)', () => {
  let fx: EmulatorFixture;
  let n = 0;
  const sync = () => `sync-${++n}`;

  beforeAll(async () => {
    fx = await startEmulatorFixture();
  });
  afterAll(async () => {
    await fx?.stop();
  });

  it('pauses a sync whose target fails most calls outright', async () => {
    // Prepare
    const s = sync();
    await fx.links.health.record(s, NOW - 20_000, { calls: 6, failedCalls: 6 });
    await fx.links.health.record(s, NOW - 1000, { calls: 4, failedCalls: 2 });
    // Act
    const health = await checkTargetHealth(fx.links, s, NOW);
    // Assess
    expect(health).toMatchObject({ paused: true, calls: 10, failedCalls: 8 });
    expect(health.reason).toMatch(/8 of 10 calls \(80%\) failed/);
  });

  it('runs a sync whose target fails a few calls', async () => {
    // Prepare
    const s = sync();
    await fx.links.health.record(s, NOW - 1000, { calls: 10, failedCalls: 2 });
    // Act
    const health = await checkTargetHealth(fx.links, s, NOW);
    // Assess
    expect(health.paused).toBe(false);
  });

  it('takes too few calls as no evidence (the half-open probe after an outage)', async () => {
    // Prepare
    const s = sync();
    await fx.links.health.record(s, NOW - 1000, { calls: 2, failedCalls: 2 });
    // Act
    const health = await checkTargetHealth(fx.links, s, NOW);
    // Assess
    expect(health.paused).toBe(false);
  });

  it('forgets failures older than the window', async () => {
    // Prepare
    const s = sync();
    await fx.links.health.record(s, NOW - 10 * 60_000, { calls: 50, failedCalls: 50 });
    // Act
    const health = await checkTargetHealth(fx.links, s, NOW);
    // Assess
    expect(health).toMatchObject({ paused: false, calls: 0 });
  });

  it('pauses a sync whose queue is far behind', async () => {
    // Prepare
    const s = sync();
    await fx.links.health.record(s, NOW - 1000, { calls: 10, failedCalls: 0, lagMs: 20 * 60_000 });
    // Act
    const health = await checkTargetHealth(fx.links, s, NOW, { maxLagMs: 15 * 60_000 });
    // Assess
    expect(health.paused).toBe(true);
    expect(health.reason).toMatch(/queue behind: messages waited 1200 s/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLinkStore } from '../../../shared/links/DynamoLinkStore.ts';
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

  describe('refused credentials', () => {
    const refusal = {
      code: 'HUBSPOT_UNAUTHORIZED',
      message: 'HubSpot 401: the token is revoked',
      httpStatus: 401,
      connection: 'hubspot',
      secret: 'writeback/hubspot',
    };

    it('pauses a sync whose credentials the target refuses, whatever the counts, with what to do', async () => {
      // Prepare: refused 40 min ago for the first time, 5 min ago last; few calls in the window
      const s = sync();
      await fx.links.health.recordAuthRefusal(s, NOW - 40 * 60_000, refusal);
      await fx.links.health.recordAuthRefusal(s, NOW - 5 * 60_000, refusal);
      await fx.links.health.record(s, NOW - 1000, { calls: 1, failedCalls: 0 });
      // Act
      const health = await checkTargetHealth(fx.links, s, NOW);
      // Assess: since the first refusal, not the last
      expect(health).toMatchObject({ paused: true, auth: { code: 'HUBSPOT_UNAUTHORIZED' } });
      expect(health.reason).toBe(
        'credentials refused by hubspot (HUBSPOT_UNAUTHORIZED) since 2026-11-26T09:20:00.000Z: update the secret writeback/hubspot',
      );
    });

    it('probes again once no writer was refused for authPauseMs (half-open)', async () => {
      // Prepare
      const s = sync();
      await fx.links.health.recordAuthRefusal(s, NOW - 31 * 60_000, refusal);
      // Act
      const health = await checkTargetHealth(fx.links, s, NOW, { authPauseMs: 30 * 60_000 });
      // Assess: the outage is still reported, the sync runs
      expect(health).toMatchObject({ paused: false, auth: { since: NOW - 31 * 60_000 } });
    });

    it('ends the pause when a call goes through after the last refusal, not before', async () => {
      // Prepare
      const s = sync();
      await fx.links.health.recordAuthRefusal(s, NOW - 60_000, refusal);
      // Act: a success that started before the refusal clears nothing; a later one clears it
      await fx.links.health.clearAuthRefusal(s, NOW - 120_000);
      const before = await checkTargetHealth(fx.links, s, NOW);
      await new DynamoLinkStore(fx.aws.ddb, fx.resources.linksTable).health.clearAuthRefusal(s, NOW - 1000);
      const after = await checkTargetHealth(fx.links, s, NOW);
      // Assess
      expect(before.paused).toBe(true);
      expect(after).toMatchObject({ paused: false });
      expect(after.auth).toBeUndefined();
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../../shared/config/loadConfig.ts';
import { createConnector } from '../../../shared/connectors/createConnector.ts';
import type { ContractTarget } from '../../../shared/connectors/index.ts';
import { connectorDefinition } from '../../../shared/connectors/registry.ts';
import { startAcmeFake } from '../../fixtures/userConnector/acmeFake.ts';

const CONFIG = 'test/fixtures/userConnector/writeback.config.ts';

describe('A user connector (defineConnector in a config outside shared/)', () => {
  let fake: ContractTarget;
  beforeAll(async () => {
    fake = await startAcmeFake();
  });
  afterAll(async () => {
    await fake.stop();
  });

  it('is known once its config is loaded, and its connection is parsed by its own schema', async () => {
    // Act
    const config = await loadConfigFile(CONFIG);

    // Assess
    expect(config.connections.tickets).toEqual({ type: 'acme-tickets', secret: 'acme/token' });
    expect(connectorDefinition('acme-tickets')?.title).toBe('Acme Tickets');
  });

  it('writes through createConnector like ours: per-record results, and a 429 handed back with its wait', async () => {
    // Prepare
    const config = await loadConfigFile(CONFIG);
    const sync = config.syncs[0]!;
    const connector = createConnector(sync, config.connections.tickets!, fake.creds);
    const record = (key: string, payload: Record<string, unknown>) => ({
      key,
      externalId: `ext-${key}`,
      idempotencyKey: key,
      payload,
    });

    // Act
    const written = await connector.upsertBatch('tickets', [
      record('a', { subject: 'Printer on fire', email: 'a@example.com' }),
      record('b', { subject: 'Bad', email: 'nope' }),
    ]);
    fake.faults!.rateLimitNext(30);
    const [limited] = await connector.upsertBatch('tickets', [record('c', { subject: 'Later' })]);

    // Assess
    expect(written.map((r) => [r.key, r.ok])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    expect(limited).toMatchObject({
      ok: false,
      error: { code: 'ACME_RATE_LIMITED', disposition: 'retryable', retryAfterSeconds: 30 },
    });
    // The shared client paused the connection's limiter on the 429, as it does for ours.
    expect(connector.metrics?.().http.rateLimited).toBe(1);
    await connector.close();
  });
});

import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createVerifyHandler, type VerifyEvent } from '../../../functions/verify.ts';
import { defineConfig, defineSync } from '../../../shared/config/defineConfig.ts';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import type { WriteMessage } from '../../../shared/queue/WriteMessage.ts';
import type { StateStore } from '../../../shared/state/StateStore.ts';
import type { Finding } from '../../../shared/verify/VerifyReport.ts';
import { verifySyncFindings } from '../../../shared/verify/verifySync.ts';
import { startTestPostgres } from '../../helpers/localPostgres.ts';

vi.mock('../../../shared/verify/verifySync.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../shared/verify/verifySync.ts')>()),
  verifySyncFindings: vi.fn(),
}));

const config = validateConfig(
  defineConfig({
    connections: { hubspot: { type: 'hubspot' } },
    syncs: [
      defineSync({
        name: 'people',
        schedule: 'rate(1 day)',
        source: { table: 'crm.people', key: 'id', cursor: 'updated_at' },
        target: { connection: 'hubspot', object: 'contacts', externalId: 'dwh_id' },
        map: (row) => ({ email: row.email }),
      }),
    ],
  }),
);

/** Three records found missing or drifted: what the verify function is asked to repair. */
const FINDINGS: Finding[] = [
  { kind: 'missing', key: '1', reason: 'linked, but the target has no record with this external id' },
  { kind: 'drift', key: '2', reason: 'fields differ', fields: ['email'] },
  { kind: 'missing', key: '3', reason: 'no link' },
];

/**
 * The deployed verify function's repair, as `writeback verify --repair` invokes it on AWS:
 * `dryRun` builds and sends nothing, `max` holds a repair of more records than it (the CLI asks,
 * then invokes again with the number it confirmed).
 */
describe('Function: the verify handler repairs within the CLI’s cap (event.dryRun, event.max)', () => {
  let pg: { sql: Sql; stop: () => Promise<void> };
  const sent: WriteMessage[] = [];

  const invoke = async (event: VerifyEvent) => {
    vi.mocked(verifySyncFindings).mockResolvedValueOnce({
      report: {
        sync: 'people',
        at: new Date().toISOString(),
        against: 'hubspot.contacts',
        sourceRows: 3,
        targetRecords: 2,
        counts: { missing: 2, drift: 1, orphan: 0, backlog: 0, dead: 0 },
        findings: FINDINGS,
        clean: false,
        durationMs: 1,
      },
      findings: FINDINGS,
    });
    const state = { recordVerify: async () => undefined } as unknown as StateStore;
    return createVerifyHandler(async () => ({
      config,
      logger: new Logger({ logLevel: 'SILENT' }),
      depsFor: () => ({ dwh: pg.sql, links: undefined as never, state, now: Date.now }),
      enqueuerFor: () => ({
        sendAll: async (messages: readonly WriteMessage[]) => {
          sent.push(...messages);
        },
      }),
    }))(event, {} as Context);
  };

  beforeAll(async () => {
    pg = await startTestPostgres();
    await pg.sql`create schema crm`;
    await pg.sql`create table crm.people (id int primary key, email text, updated_at timestamptz not null)`;
    await pg.sql`create index on crm.people (updated_at, id)`;
    await pg.sql`insert into crm.people values (1, 'a@example.com', now()), (2, 'b@example.com', now())`;
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it('lists what it would re-send with dryRun, and sends nothing', async () => {
    // Act
    const answer = await invoke({ sync: 'people', repair: true, dryRun: true });
    // Assess: key 3's row is gone, so two would be sent
    expect(sent).toEqual([]);
    expect(answer.repair).toMatchObject({
      dryRun: true,
      requested: 3,
      enqueued: 0,
      wouldEnqueue: 2,
      wouldEnqueueKeys: ['1', '2'],
      sourceGone: ['3'],
    });
  });

  it('holds a repair of more records than max, and sends it within a max that covers it', async () => {
    // Act
    const held = await invoke({ sync: 'people', repair: true, max: 2 });
    const heldSent = sent.length;
    const confirmed = await invoke({ sync: 'people', repair: true, max: 3 });
    // Assess
    expect(held.repair).toMatchObject({ heldOverMax: 2, requested: 3, enqueued: 0 });
    expect(heldSent).toBe(0);
    expect(confirmed.repair).toMatchObject({ requested: 3, enqueued: 2, sourceGone: ['3'] });
    expect(confirmed.repair!.heldOverMax).toBeUndefined();
    expect(sent.map((m) => [m.key, m.repair])).toEqual([
      ['1', true],
      ['2', true],
    ]);
  });
});

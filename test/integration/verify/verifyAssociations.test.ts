import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLines } from '../../../cli/ops/verifyCommand.ts';
import { LOCAL_HUBSPOT_TOKEN, type LocalStack } from '../../../local/LocalStack.ts';
import {
  apiAssociatedIds,
  fakeAssociatedIds,
  listHubSpotRecords,
  loadHubSpotCopy,
  loadTargetCopies,
} from '../../../local/loadTargetCopies.ts';
import type { SyncInput } from '../../../shared/config/schema.ts';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import { HubSpotConnector } from '../../../shared/connectors/hubspot/HubSpotConnector.ts';
import { SqsEnqueuer } from '../../../shared/queue/SqsEnqueuer.ts';
import { enqueueRepairs, repairableKeys } from '../../../shared/verify/repairSync.ts';
import type { VerifyReport } from '../../../shared/verify/VerifyReport.ts';
import { type VerifyDeps, verifySync, verifySyncFindings } from '../../../shared/verify/verifySync.ts';
import { DEALS_SYNC, dealLinesSync, startDealLinesStack } from '../../helpers/dealLines.ts';

/** Deals and their line items in HubSpot; the line items are associated with their deal. */
const DEALS = DEALS_SYNC;
const lines = (verify: SyncInput['verify']): SyncInput => dealLinesSync(verify ? { verify } : {});
const CONNECTIONS = { hubspot: { type: 'hubspot' } } as const;
/** Verified against the HubSpot API: records listed, associations read in batches. */
const config = validateConfig({ connections: CONNECTIONS, syncs: [DEALS, lines({})] });
/** Verified against the warehouse copy, which carries each line item's deal as ELT tools load it. */
const copyConfig = validateConfig({
  connections: CONNECTIONS,
  syncs: [
    DEALS,
    lines({
      table: 'hubspot.line_items',
      externalIdColumn: 'dwh_line_id',
      loadedAtColumn: '_loaded_at',
      parentColumn: 'deal_id',
    }),
  ],
});
const viaApi = config.syncs[1]!;
const viaCopy = copyConfig.syncs[1]!;
const BATCH_READ = { method: 'POST', path: '/crm/v4/associations/line_items/deals/batch/read' };
/** What the test breaks in HubSpot behind Writeback's back, by line key. */
const UNASSOCIATED = '4';
const MOVED = '8';
const ALSO_ELSEWHERE = '12';

describe('Verify associated children: each line item is associated with its deal in HubSpot', () => {
  let stack: LocalStack;
  let deps: VerifyDeps;
  const target = async (sync: string, key: string) => (await stack.links.get(sync, key))!.targetId!;
  const dealsOf = async (line: string) =>
    stack.hubspot.associations('line_items', await target('deal-lines', line), 'deals').map((a) => a.toId);
  /** A person in HubSpot's UI, through the fake's associations v4 API. */
  const hubspot = async (method: string, path: string) => {
    const res = await fetch(`${stack.hubspot.url}/crm/v4/objects/line_items/${path}`, {
      method,
      headers: { Authorization: `Bearer ${LOCAL_HUBSPOT_TOKEN}` },
    });
    expect(res.status, `${method} ${path}`).toBeLessThan(300);
  };
  const drift = (r: VerifyReport) =>
    r.findings.filter((f) => f.kind === 'drift').map((f) => [f.key, f.fields, f.reason]);

  beforeAll(async () => {
    stack = await startDealLinesStack(config);
    await stack.runExtract('deals');
    await stack.runExtract('deal-lines');
    await stack.drain();
    deps = {
      dwh: stack.dwh,
      links: stack.links,
      state: stack.state,
      connector: new HubSpotConnector({
        baseUrl: stack.hubspot.url,
        token: LOCAL_HUBSPOT_TOKEN,
        idProperty: { line_items: 'dwh_line_id' },
        readProperties: { line_items: ['name', 'quantity', 'price'] },
        rateLimit: false,
      }),
      now: Date.now,
    };
  });
  afterAll(async () => {
    await deps?.connector?.close();
    await stack?.stop();
  });

  it('is clean when every line item is associated with its deal, reading 15 children in one call', async () => {
    // Act
    const before = stack.hubspot.callCount(BATCH_READ);
    const report = await verifySync(viaApi, deps);
    // Assess
    expect(report.counts).toEqual({ missing: 0, drift: 0, orphan: 0, backlog: 0, dead: 0 });
    expect(report.associations).toEqual({
      with: 'deals',
      against: 'hubspot API (line_items → deals)',
      checked: 15,
    });
    expect(stack.hubspot.callCount(BATCH_READ) - before).toBe(1);
  });

  it('finds exactly the line item whose association was removed and the one moved to another deal', async () => {
    // Prepare: in HubSpot, line 4 loses its deal; line 8 is moved to deal 2; line 12 is also
    // put on deal 1 (an association of someone else's, which Writeback does not answer for)
    const [line4, line8, line12] = await Promise.all(
      [UNASSOCIATED, MOVED, ALSO_ELSEWHERE].map((k) => target('deal-lines', k)),
    );
    const [deal1, deal2, deal3, deal4, deal5] = await Promise.all(
      ['1', '2', '3', '4', '5'].map((k) => target('deals', k)),
    );
    await hubspot('DELETE', `${line4}/associations/deals/${deal5}`);
    await hubspot('DELETE', `${line8}/associations/deals/${deal4}`);
    await hubspot('PUT', `${line8}/associations/default/deals/${deal2}`);
    await hubspot('PUT', `${line12}/associations/default/deals/${deal1}`);
    expect(await dealsOf(ALSO_ELSEWHERE)).toEqual([deal1, deal3].sort());
    const before = stack.hubspot.callCount(BATCH_READ);
    // Act
    const report = await verifySync(viaApi, deps);
    // Assess
    expect(report.counts).toEqual({ missing: 0, drift: 2, orphan: 0, backlog: 0, dead: 0 });
    expect(report.clean).toBe(false);
    expect(drift(report)).toEqual([
      [
        UNASSOCIATED,
        ['association'],
        `not associated with its parent (deals ${deal5}, source key 5) in the target: no deals associated`,
      ],
      [
        MOVED,
        ['association'],
        `not associated with its parent (deals ${deal4}, source key 4) in the target: associated with deals ${deal2} instead`,
      ],
    ]);
    expect(report.findings.find((f) => f.key === MOVED)!.targetId).toBe(line8);
    expect(stack.hubspot.callCount(BATCH_READ) - before).toBe(1);
    // What the CLI prints (`writeback verify`): the summary line counts them as drift.
    const text = verifyLines([report]);
    expect(text[1]).toMatch(
      /^deal-lines\s+FINDINGS\s+15\s+15\s+0\s+2\s+0\s+0\s+0\s+hubspot API \(line_items\)/,
    );
    expect(text).toContain(
      '  deal-lines associations with deals: 15 checked against hubspot API (line_items → deals)',
    );
    expect(text).toContain('  deal-lines drift 2: 4 (association), 8 (association)');
  });

  it('compares in SQL when the warehouse copy carries each line item’s deal, without calling HubSpot', async () => {
    // Prepare: the ELT tool's copy, with each line item's deal(s): one id, or a JSON array of them
    await loadHubSpotCopy(stack.dwh, stack.hubspot, 'line_items');
    await stack.dwh`alter table hubspot.line_items add column deal_id text`;
    for (const r of stack.hubspot.records('line_items')) {
      const deals = stack.hubspot.associations('line_items', r.id, 'deals').map((a) => a.toId);
      const value =
        deals.length === 0 ? null : deals.length === 1 ? deals[0]! : JSON.stringify(deals.map(Number));
      await stack.dwh`update hubspot.line_items set deal_id = ${value} where id = ${r.id}`;
    }
    const before = stack.hubspot.callCount(BATCH_READ);
    // Act
    const report = await verifySync(viaCopy, { ...deps, connector: undefined });
    // Assess
    expect(report.associations).toEqual({
      with: 'deals',
      against: 'hubspot.line_items.deal_id',
      checked: 15,
    });
    expect(drift(report).map(([key, fields]) => [key, fields])).toEqual([
      [UNASSOCIATED, ['association']],
      [MOVED, ['association']],
    ]);
    expect(report.counts).toMatchObject({ missing: 0, drift: 2, orphan: 0 });
    expect(stack.hubspot.callCount(BATCH_READ)).toBe(before);
  });

  it('repairs through the write path: both are associated with their deal again, verify is clean', async () => {
    // Prepare
    const { findings } = await verifySyncFindings(viaApi, deps);
    // Act
    const repair = await enqueueRepairs(viaApi, repairableKeys(findings), {
      sql: stack.dwh,
      enqueuer: new SqsEnqueuer(stack.aws.sqs, stack.resources.queues['deal-lines']!.url),
      now: Date.now,
    });
    await stack.drain();
    const report = await verifySync(viaApi, deps);
    // Assess
    expect(repair).toMatchObject({ requested: 2, enqueued: 2, sourceGone: [], invalid: [] });
    expect(report.counts).toEqual({ missing: 0, drift: 0, orphan: 0, backlog: 0, dead: 0 });
    const [deal2, deal4, deal5] = await Promise.all(['2', '4', '5'].map((k) => target('deals', k)));
    expect(await dealsOf(UNASSOCIATED)).toEqual([deal5]);
    // A repair adds the missing association and removes none.
    expect(await dealsOf(MOVED)).toEqual([deal2, deal4].sort());
    expect(await stack.links.get('deal-lines', MOVED)).toMatchObject({ status: 'ok', associatedWith: deal4 });
    expect(stack.hubspot.records('line_items')).toHaveLength(15);
  });

  it('says how to check associations when it cannot read them, and validates verify.parentColumn', async () => {
    await expect(verifySync(viaApi, { ...deps, connector: undefined })).rejects.toMatchObject({
      code: 'WB_VERIFY_NO_ASSOCIATIONS',
      message: expect.stringMatching(/set verify.parentColumn/),
    });
    const wrongColumn = { ...viaCopy, verify: { ...viaCopy.verify!, parentColumn: 'no_such_column' } };
    await expect(verifySync(wrongColumn, { ...deps, connector: undefined })).rejects.toMatchObject({
      code: 'WB_VERIFY_NO_PARENT_COLUMN',
    });
    const invalid = () =>
      validateConfig({
        connections: CONNECTIONS,
        syncs: [{ ...DEALS, verify: { parentColumn: 'deal_id' } }],
      });
    expect(invalid).toThrow('syncs[deals].verify.parentColumn: needs verify.table');
    expect(invalid).toThrow('syncs[deals].verify.parentColumn: only for a sync with target.associate');
  });

  it("loads each line item's deals into the copy's parentColumn (the local ELT stand-in), from the fake or over the API", async () => {
    // Prepare: the lines are associated again (previous test); copy them in from the fake's store
    const fromFake = await loadTargetCopies(stack.dwh, copyConfig, [viaCopy], {
      hubspot: () => stack.hubspot,
      hubspotAssociations: (from, to) => fakeAssociatedIds(stack.hubspot, from, to),
    });
    const clean = await verifySync(viaCopy, { ...deps, connector: undefined });
    // Act: someone removes line 3's deal in HubSpot; the copy is loaded over the API this time
    const line3 = await target('deal-lines', '3');
    await hubspot('DELETE', `${line3}/associations/deals/${await target('deals', '4')}`);
    const api = { baseUrl: stack.hubspot.url, token: LOCAL_HUBSPOT_TOKEN };
    await loadTargetCopies(stack.dwh, copyConfig, [viaCopy], {
      hubspot: (object) => listHubSpotRecords(api, object),
      hubspotAssociations: (from, to) => apiAssociatedIds(api, from, to),
    });
    const broken = await verifySync(viaCopy, { ...deps, connector: undefined });
    // Assess
    expect(fromFake).toMatchObject([{ table: 'hubspot.line_items', records: 15 }]);
    expect(clean.counts).toEqual({ missing: 0, drift: 0, orphan: 0, backlog: 0, dead: 0 });
    expect(broken.associations).toMatchObject({ against: 'hubspot.line_items.deal_id', checked: 15 });
    expect(drift(broken).map(([key, fields]) => [key, fields])).toEqual([['3', ['association']]]);
  });
});

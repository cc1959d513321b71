import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTableCopy } from '../../../local/loadTargetCopies.ts';
import type { Connector } from '../../../shared/connectors/Connector.ts';
import { SqsEnqueuer } from '../../../shared/queue/SqsEnqueuer.ts';
import { enqueueRepairs, repairableKeys } from '../../../shared/verify/repairSync.ts';
import { verifySync, verifySyncFindings } from '../../../shared/verify/verifySync.ts';
import { type ItemsPipeline, itemsConfig, startItemsPipeline } from '../../helpers/itemsPipeline.ts';

describe('Function: verifySync', () => {
  let p: ItemsPipeline;
  const config = itemsConfig({
    verify: { table: 'copies.items', externalIdColumn: 'item_id', loadedAtColumn: '_loaded_at' },
  });
  const sync = config.syncs[0]!;
  const verify = () =>
    verifySync(sync, {
      dwh: p.stack.dwh,
      links: p.stack.links,
      state: p.stack.state,
      now: Date.now,
    });
  const reload = () => loadTableCopy(p.stack.dwh, p.target, 'public.items_copy', 'copies.items');
  const keysOf = (r: Awaited<ReturnType<typeof verify>>, kind: string) =>
    r.findings.filter((f) => f.kind === kind).map((f) => f.key);

  beforeAll(async () => {
    p = await startItemsPipeline(config);
    await p.stack
      .dwh`insert into src.items select i, 'n' || i, i, '2026-01-01'::timestamptz + i * interval '1 s' from generate_series(1, 40) i`;
    p.stack.startWriters();
    await p.stack.runExtract('items');
    await p.stack.drain();
  });
  afterAll(async () => p?.stop());

  it('finds nothing when the target matches the source', async () => {
    await reload();
    const report = await verify();
    expect(report).toMatchObject({ sourceRows: 40, targetRecords: 40, clean: true });
    expect(report.counts).toEqual({ missing: 0, drift: 0, orphan: 0, backlog: 0, dead: 0 });
  });

  it('finds each thing broken behind its back: deleted, edited, foreign record, lost link', async () => {
    // Prepare: break the target and the links the way people and bugs do
    await p.target`delete from public.items_copy where item_id = '3'`;
    await p.target`update public.items_copy set name = 'edited by hand' where item_id = '4'`;
    await p.target`insert into public.items_copy values ('9999', 'foreign', 1)`;
    await p.stack.aws.ddb.send(
      new DeleteItemCommand({ TableName: p.stack.resources.linksTable, Key: { pk: { S: 'items#5' } } }),
    );
    await reload();
    // Act
    const report = await verify();
    // Assess
    expect(report.clean).toBe(false);
    expect(keysOf(report, 'missing').sort()).toEqual(['3', '5']);
    expect(report.findings.find((f) => f.key === '3')!.reason).toMatch(
      /linked, but the target has no record/,
    );
    expect(report.findings.find((f) => f.key === '5')!.reason).toMatch(/no link/);
    expect(report.findings.filter((f) => f.kind === 'drift')).toEqual([
      expect.objectContaining({ key: '4', fields: ['name'] }),
    ]);
    expect(keysOf(report, 'orphan')).toEqual(['9999']);
  });

  it('exports links, runs and findings to the writeback schema in the warehouse', async () => {
    const report = await verifySync(
      sync,
      {
        dwh: p.stack.dwh,
        links: p.stack.links,
        state: p.stack.state,
        now: Date.now,
      },
      { exportLogs: true },
    );
    const [links] = await p.stack.dwh<{ ok: number; total: number }[]>`
      select count(*) filter (where status = 'ok')::int as ok, count(*)::int as total from writeback.links where sync = 'items'`;
    expect(links).toEqual({ ok: 39, total: 39 }); // 40 written, one link lost behind our back
    const [one] = await p.stack.dwh<{ version: string; attempts: number; target_id: string }[]>`
      select version::text, attempts, target_id from writeback.links where sync = 'items' and key = '1'`;
    expect(one).toEqual({ version: '1767225601000000', attempts: 0, target_id: '1' });
    const runs = await p.stack.dwh`select outcome from writeback.runs where sync = 'items'`;
    expect(runs.map((r) => r.outcome)).toEqual(['succeeded']);
    const findings = await p.stack.dwh<{ n: number }[]>`
      select count(*)::int as n from writeback.verify_findings where verified_at = ${report.at}`;
    expect(findings[0]!.n).toBe(report.findings.length);
  });

  it('repairs what it found through the write path and deletes nothing: only the orphan stays', async () => {
    // Prepare: the target is still broken as above (3 deleted, 4 edited, 9999 foreign, link 5 lost)
    const { findings } = await verifySyncFindings(sync, {
      dwh: p.stack.dwh,
      links: p.stack.links,
      state: p.stack.state,
      now: Date.now,
    });
    // Act
    const repair = await enqueueRepairs(sync, repairableKeys(findings), {
      sql: p.stack.dwh,
      enqueuer: new SqsEnqueuer(p.stack.aws.sqs, p.stack.resources.queues.items!.url),
      now: Date.now,
    });
    await p.stack.drain();
    await reload();
    const report = await verify();
    // Assess
    expect(repair).toMatchObject({ requested: 3, enqueued: 3, sourceGone: [], invalid: [] });
    expect(report.counts).toMatchObject({ missing: 0, drift: 0, orphan: 1 });
    expect(keysOf(report, 'orphan')).toEqual(['9999']);
    const rows = await p.targetRows();
    expect(rows.get('3')).toEqual({ name: 'n3', qty: 3 });
    expect(rows.get('4')).toEqual({ name: 'n4', qty: 4 });
    expect(rows.get('9999')).toEqual({ name: 'foreign', qty: 1 });
    expect(await p.stack.links.get('items', '5')).toMatchObject({ status: 'ok', targetId: '5' });
  });

  it('fails cleanly when the target cannot be listed, and the warehouse stays usable', async () => {
    // Prepare: the sync without a warehouse copy, and a target whose listing breaks half-way
    const viaApi = itemsConfig({ verify: {} }).syncs[0]!;
    const broken = {
      type: 'memory',
      async *list() {
        yield { targetId: '1', externalId: '1', fields: { name: 'n1', qty: 1 } };
        throw new Error('target went away');
      },
    } as unknown as Connector;
    // Act
    const act = verifySync(viaApi, {
      dwh: p.stack.dwh,
      links: p.stack.links,
      state: p.stack.state,
      connector: broken,
      now: Date.now,
    });
    // Assess
    await expect(act).rejects.toThrow('target went away');
    expect((await verify()).sourceRows).toBe(40);
  });

  it('reports source rows changed after the bookmark as backlog, not as drift', async () => {
    await p.stack.dwh`update src.items set name = 'changed', loaded_at = now() where id = 10`;
    const report = await verify();
    expect(keysOf(report, 'backlog')).toEqual(['10']);
    expect(keysOf(report, 'drift')).not.toContain('10');
  });
});

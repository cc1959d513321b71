import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTableCopy } from '../../../shared/local/loadTargetCopies.ts';
import { verifySync } from '../../../shared/verify/verifySync.ts';
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
      ddb: p.stack.aws.ddb,
      linksTable: p.stack.resources.linksTable,
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
        ddb: p.stack.aws.ddb,
        linksTable: p.stack.resources.linksTable,
        state: p.stack.state,
        now: Date.now,
      },
      { exportLogs: true },
    );
    const [links] = await p.stack.dwh<{ ok: number; total: number }[]>`
      select count(*) filter (where status = 'ok')::int as ok, count(*)::int as total from writeback.links where sync = 'items'`;
    expect(links).toEqual({ ok: 39, total: 39 }); // 40 written, one link lost behind our back
    const runs = await p.stack.dwh`select outcome from writeback.runs where sync = 'items'`;
    expect(runs.map((r) => r.outcome)).toEqual(['succeeded']);
    const findings = await p.stack.dwh<{ n: number }[]>`
      select count(*)::int as n from writeback.verify_findings where verified_at = ${report.at}`;
    expect(findings[0]!.n).toBe(report.findings.length);
  });

  it('reports source rows changed after the bookmark as backlog, not as drift', async () => {
    await p.stack.dwh`update src.items set name = 'changed', loaded_at = now() where id = 10`;
    const report = await verify();
    expect(keysOf(report, 'backlog')).toEqual(['10']);
    expect(keysOf(report, 'drift')).not.toContain('10');
  });
});

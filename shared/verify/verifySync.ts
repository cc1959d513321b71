import type { ReservedSql, Sql } from 'postgres';
import type { SyncConfig } from '../config/schema.ts';
import type { Connector } from '../connectors/Connector.ts';
import type { LinkStore } from '../links/LinkStore.ts';
import type { StateStore } from '../state/StateStore.ts';
import { mapAsync } from '../util/mapAsync.ts';
import { copyRows, copyTable } from './copyRows.ts';
import { copySource } from './copySource.ts';
import { copyTarget } from './copyTarget.ts';
import { createLinksTempTable, createTempTables } from './createTempTables.ts';
import { exportSyncLogs } from './exportSyncLogs.ts';
import { findings } from './findings.ts';
import { type AssociationSource, associationSource, loadAssociations } from './loadAssociations.ts';
import { FINDING_KINDS, type Finding, type FindingKind, type VerifyReport } from './VerifyReport.ts';

export { ASSOCIATION_FIELD } from './findings.ts';

export interface VerifyDeps {
  /** The warehouse: the source, and the target's copy when `verify.table` is set. Read only. */
  readonly dwh: Sql;
  /**
   * The warehouse as the user that owns the `writeback` schema (warehouse.writerSecret): every
   * write of the export goes through it, so `dwh` can be a read-only user. @default dwh
   */
  readonly dwhWriter?: Sql;
  readonly links: LinkStore;
  readonly state: StateStore;
  /** Lists the target when no warehouse copy is configured. */
  readonly connector?: Connector;
  readonly now: () => number;
}

export interface VerifyOptions {
  /** Findings of each kind kept in the report. @default 100 */
  readonly detailLimit?: number;
  /** Also refresh the `writeback` schema in the warehouse (links, runs, findings) for SQL users. */
  readonly exportLogs?: boolean;
}

/** A verification's report, and every finding (the report keeps `detailLimit` of each kind). */
export interface VerifyOutcome {
  readonly report: VerifyReport;
  readonly findings: readonly Finding[];
}

/**
 * Compares a sync's source (mapped, as it would be written) with the target's copy through the
 * links, reading only. The source rows and the links are copied into temporary tables with COPY
 * and compared in SQL, next to the warehouse copy of the target (or the target API's list, copied
 * in the same way), so a million rows cost a few streaming passes, not a million lookups.
 */
export async function verifySync(
  sync: SyncConfig,
  deps: VerifyDeps,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  return (await verifySyncFindings(sync, deps, opts)).report;
}

/** verifySync, with every finding as well: what a repair needs (each missing and drifted key). */
export async function verifySyncFindings(
  sync: SyncConfig,
  deps: VerifyDeps,
  opts: VerifyOptions = {},
): Promise<VerifyOutcome> {
  const t0 = deps.now();
  const associations = associationSource(sync, deps.connector);
  const conn = await deps.dwh.reserve();
  try {
    await createTempTables(conn);
    const bookmark = (await deps.state.get(sync.name)).bookmark;
    // 1. The links of this sync.
    await copyLinks(conn, sync, deps.links);
    // 2. The source, mapped; rows after the bookmark are backlog, not findings.
    const { sourceRows, fields } = await copySource(conn, sync, deps, bookmark);
    // 3. The target: the warehouse copy, or the API listed through the connector.
    const against = await copyTarget(conn, sync, deps.connector, fields);
    await conn`analyze wb_links`;
    await conn`analyze wb_src`;
    await conn`analyze wb_copy`;
    // 3b. Associated children: the parent each child is associated with in the target.
    const checked = associations ? await loadAssociations(conn, sync, associations) : undefined;
    // 4. Findings, in SQL.
    const found = await findings(conn, fields, associations?.with);
    const report = await buildReport(conn, sync, deps, opts, {
      t0,
      against,
      sourceRows,
      found,
      associations,
      checked,
    });
    if (opts.exportLogs) {
      const [runs, actions] = await Promise.all([
        deps.state.listRuns(sync.name, 200),
        deps.state.listActions(sync.name, 200),
      ]);
      await exportThrough(conn, deps.dwhWriter, (c) => exportSyncLogs(c, sync.name, runs, report, actions));
    }
    return { report, findings: found };
  } finally {
    await conn`discard temp`.catch(() => undefined);
    conn.release();
  }
}

/**
 * Runs the export on the writer's connection when there is one: its own wb_links, streamed from
 * the reader's session (temporary tables belong to one session), then `exportSyncLogs` there.
 * Without a writer, on the reader's session, as the export always did.
 */
async function exportThrough(
  conn: ReservedSql,
  writer: Sql | undefined,
  run: (conn: ReservedSql) => Promise<void>,
): Promise<void> {
  if (!writer) return run(conn);
  const w = await writer.reserve();
  try {
    await createLinksTempTable(w);
    await copyTable(conn, w, 'wb_links');
    await run(w);
  } finally {
    await w`discard temp`.catch(() => undefined);
    w.release();
  }
}

/** Step 1: the sync's links into wb_links. */
async function copyLinks(conn: ReservedSql, sync: SyncConfig, links: LinkStore): Promise<void> {
  await copyRows(
    conn,
    'wb_links',
    ['key', 'status', 'target_id', 'hash', 'updated_at', 'version', 'attempts', 'last_error'],
    mapAsync(links.scan(sync.name), (l) => [
      l.key,
      l.status,
      l.targetId,
      l.hash,
      l.updatedAt,
      l.version,
      String(l.attempts),
      l.lastError,
    ]),
  );
}

/** What the report is made of, besides the findings' counts. */
interface ReportParts {
  readonly t0: number;
  readonly against: string;
  readonly sourceRows: number;
  readonly found: readonly Finding[];
  readonly associations: AssociationSource | undefined;
  readonly checked: number | undefined;
}

/** The report: counts of every kind, `detailLimit` findings of each, clean when none needs action. */
async function buildReport(
  conn: ReservedSql,
  sync: SyncConfig,
  deps: VerifyDeps,
  opts: VerifyOptions,
  parts: ReportParts,
): Promise<VerifyReport> {
  const { t0, associations, checked } = parts;
  const detailLimit = opts.detailLimit ?? 100;
  const counts = Object.fromEntries(FINDING_KINDS.map((k) => [k, 0])) as Record<FindingKind, number>;
  const detail: Finding[] = [];
  for (const f of parts.found) {
    counts[f.kind]++;
    if (counts[f.kind] <= detailLimit) detail.push(f);
  }
  const [{ n: targetRecords }] = (await conn`select count(*)::int as n from wb_copy`) as unknown as [
    { n: number },
  ];
  return {
    sync: sync.name,
    at: new Date(t0).toISOString(),
    against: parts.against,
    sourceRows: parts.sourceRows,
    targetRecords,
    counts,
    findings: detail,
    clean: counts.missing + counts.drift + counts.orphan + counts.dead === 0,
    durationMs: deps.now() - t0,
    ...(associations && checked !== undefined
      ? { associations: { with: associations.with, against: associations.against, checked } }
      : {}),
  };
}

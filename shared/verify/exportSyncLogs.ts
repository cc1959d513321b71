import type { ReservedSql } from 'postgres';
import type { RunRecord } from '../state/RunRecord.ts';
import type { VerifyReport } from './VerifyReport.ts';

/**
 * Refreshes the `writeback` schema in the warehouse from a verification's temporary tables, so
 * users can query where every record went next to their data (SQL, dbt): `writeback.links` (one
 * row per record with its latest outcome and error), `writeback.runs` (the run history) and
 * `writeback.verify_findings`. Incremental: only links whose item changed are rewritten.
 */
export async function exportSyncLogs(
  conn: ReservedSql,
  sync: string,
  runs: readonly RunRecord[],
  report: VerifyReport,
): Promise<void> {
  await conn`create schema if not exists writeback`;
  await conn`
    create table if not exists writeback.links (
      sync text not null, key text not null, status text not null, target_id text, hash text,
      version numeric, attempts int, last_error jsonb, updated_at timestamptz,
      primary key (sync, key)
    )`;
  await conn`
    create table if not exists writeback.runs (
      sync text not null, run_id text primary key, started_at timestamptz, finished_at timestamptz,
      outcome text, read int, unchanged int, enqueued int, invalid int, backlog boolean,
      bookmark_before jsonb, bookmark_after jsonb, message text
    )`;
  await conn`
    create table if not exists writeback.verify_findings (
      sync text not null, verified_at timestamptz not null, kind text not null, key text not null,
      target_id text, reason text, fields text[]
    )`;
  await conn`
    insert into writeback.links
    select ${sync}, key, status, target_id, hash, version, attempts, last_error, updated_at from wb_links
    on conflict (sync, key) do update set
      status = excluded.status, target_id = excluded.target_id, hash = excluded.hash, version = excluded.version,
      attempts = excluded.attempts, last_error = excluded.last_error, updated_at = excluded.updated_at
    where writeback.links.updated_at is distinct from excluded.updated_at`;
  // Links whose item is gone from DynamoDB are gone here too.
  await conn`
    delete from writeback.links w where w.sync = ${sync}
      and not exists (select 1 from wb_links l where l.key = w.key)`;
  if (runs.length > 0) {
    await conn`
      insert into writeback.runs ${conn(
        runs.map((r) => ({
          sync: r.sync,
          run_id: r.runId,
          started_at: r.startedAt,
          finished_at: r.finishedAt,
          outcome: r.outcome,
          read: r.counts.read,
          unchanged: r.counts.unchanged,
          enqueued: r.counts.enqueued,
          invalid: r.counts.invalid,
          backlog: r.backlog,
          bookmark_before: r.bookmarkBefore ? JSON.stringify(r.bookmarkBefore) : null,
          bookmark_after: r.bookmarkAfter ? JSON.stringify(r.bookmarkAfter) : null,
          message: r.message ?? null,
        })),
      )}
      on conflict (run_id) do nothing`;
  }
  if (report.findings.length > 0) {
    await conn`
      insert into writeback.verify_findings ${conn(
        report.findings.map((f) => ({
          sync,
          verified_at: report.at,
          kind: f.kind,
          key: f.key,
          target_id: f.targetId ?? null,
          reason: f.reason,
          fields: f.fields ? [...f.fields] : null,
        })),
      )}`;
  }
}

import type { ReservedSql, Sql } from 'postgres';
import { WritebackError } from '../errors.ts';
import type { OperatorAction } from '../state/OperatorAction.ts';
import type { RunRecord } from '../state/RunRecord.ts';
import type { VerifyReport } from './VerifyReport.ts';

/**
 * Refreshes the `writeback` schema in the warehouse from a verification's temporary tables, so
 * users can query where every record went next to their data (SQL, dbt): `writeback.links` (one
 * row per record with its latest outcome and error), `writeback.runs` (the run history) and
 * `writeback.verify_findings`, and `writeback.operator_actions` (the audit trail of the state
 * table, newest first, `actions`). Incremental: only links whose item changed are rewritten.
 */
export async function exportSyncLogs(
  conn: ReservedSql,
  sync: string,
  runs: readonly RunRecord[],
  report: VerifyReport,
  actions: readonly OperatorAction[] = [],
): Promise<void> {
  try {
    await exportAll(conn, sync, runs, report, actions);
  } catch (err) {
    throw exportDenied(err, sync) ?? err;
  }
}

/** Postgres' "permission denied" and "read-only transaction": the user may not write the schema. */
const DENIED = new Set(['42501', '25006']);

/** A refused write as WB_VERIFY_EXPORT_DENIED, naming the user and the fix; other errors as they are. */
function exportDenied(err: unknown, sync: string): WritebackError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !DENIED.has(code)) return undefined;
  return new WritebackError(
    'WB_VERIFY_EXPORT_DENIED',
    `sync ${sync}: verification compared, but could not export to the warehouse's writeback schema ` +
      `(${(err as Error).message}): the user it writes with is read-only. Set warehouse.writerSecret to the ` +
      'credentials of a user that owns the writeback schema (docs/deploy.md, "Secrets")',
    { cause: err },
  );
}

/**
 * The `writeback` schema, created only when it is missing: CREATE SCHEMA IF NOT EXISTS checks the
 * database's CREATE privilege before it looks, which a user that owns only this schema lacks.
 */
async function ensureWritebackSchema(conn: Sql): Promise<void> {
  const [row] = await conn<{ ok: boolean }[]>`select to_regnamespace('writeback') is not null as ok`;
  if (!row?.ok) await conn`create schema if not exists writeback`;
}

async function exportAll(
  conn: ReservedSql,
  sync: string,
  runs: readonly RunRecord[],
  report: VerifyReport,
  actions: readonly OperatorAction[],
): Promise<void> {
  await ensureWritebackSchema(conn);
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
  // Two-way pairs: the conflicts a run resolved (field, both values, winner), for audit in SQL.
  await conn`alter table writeback.runs add column if not exists conflicts jsonb`;
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
          // As JSON values (conn.json), not JSON text: text would be stored as one jsonb string.
          bookmark_before: r.bookmarkBefore ? conn.json(r.bookmarkBefore as never) : null,
          bookmark_after: r.bookmarkAfter ? conn.json(r.bookmarkAfter as never) : null,
          message: r.message ?? null,
          conflicts: r.conflicts ? conn.json(r.conflicts as never) : null,
        })),
      )}
      on conflict (run_id) do nothing`;
  }
  await exportOperatorActions(conn, actions);
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

/**
 * Operator actions into `writeback.operator_actions` (created when missing): one row per action
 * id; a row still `started` takes the action's outcome, a finished one never changes.
 */
export async function exportOperatorActions(conn: Sql, actions: readonly OperatorAction[]): Promise<void> {
  await ensureWritebackSchema(conn);
  await conn`
    create table if not exists writeback.operator_actions (
      id text primary key, sync text not null, action text not null, at timestamptz not null,
      finished_at timestamptz, outcome text not null, actor text not null, actor_kind text not null,
      aws_account text, os_user text, host text, via text, records int, keys text[], run_id text,
      detail text, message text
    )`;
  if (actions.length === 0) return;
  await conn`
    insert into writeback.operator_actions ${conn(
      actions.map((a) => ({
        id: a.id,
        sync: a.sync,
        action: a.action,
        at: a.at,
        finished_at: a.finishedAt ?? null,
        outcome: a.outcome,
        actor: a.actor.id,
        actor_kind: a.actor.kind,
        aws_account: a.actor.account ?? null,
        os_user: a.actor.osUser,
        host: a.actor.host,
        via: a.where,
        records: a.records ?? null,
        keys: a.keys ? [...a.keys] : null,
        run_id: a.runId ?? null,
        detail: a.detail ?? null,
        message: a.message ?? null,
      })),
    )}
    on conflict (id) do update set
      finished_at = excluded.finished_at, outcome = excluded.outcome, records = excluded.records,
      keys = excluded.keys, run_id = excluded.run_id, detail = excluded.detail, message = excluded.message
    where writeback.operator_actions.outcome = 'started'`;
}

import { randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import type { SyncConfig } from '../config/schema.ts';
import { WritebackError } from '../errors.ts';
import type { Position } from '../source/Position.ts';
import { SourceReader } from '../source/SourceReader.ts';
import { quoteIdent, quoteQualified } from '../source/sqlText.ts';
import { audited } from './audit.ts';
import { UsageError } from './errors.ts';
import type { OpsContext } from './OpsContext.ts';

/**
 * Turns a sync's runs on or off without a deploy: the flag in the state table overrides the
 * config's `enabled`, and a disabled sync's runs are recorded as skipped. Its schedule keeps firing
 * (cheaply); the queue and the writers are not affected, so records already queued are written.
 */
export async function setSyncEnabled(
  ctx: OpsContext,
  syncName: string,
  enabled: boolean,
): Promise<{ before: boolean; after: boolean }> {
  const sync = ctx.sync(syncName);
  return audited(
    ctx,
    { sync: sync.name, action: enabled ? 'enable' : 'disable' },
    async () => {
      const state = await ctx.state.get(sync.name);
      await ctx.state.setEnabled(sync.name, enabled);
      return { before: state.enabled ?? sync.enabled, after: enabled };
    },
    (r) => ({ detail: `${r.before ? 'enabled' : 'disabled'} → ${r.after ? 'enabled' : 'disabled'}` }),
  );
}

/** Where `reset --to` moves a bookmark: the start, the end, a cursor value, or an exact position. */
export type ResetTarget =
  | { readonly kind: 'start' }
  | { readonly kind: 'end' }
  | { readonly kind: 'cursor'; readonly cursor: string }
  | { readonly kind: 'position'; readonly position: Position };

/** Parses `--to`: `start`, `end`, a JSON position `{"cursor":"…","key":["…"]}`, or a cursor value. */
export function parseResetTarget(text: string): ResetTarget {
  const t = text.trim();
  if (t === 'start' || t === 'beginning') return { kind: 'start' };
  if (t === 'end') return { kind: 'end' };
  if (t.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch {
      throw new UsageError(`--to ${t}: not valid JSON; expected {"cursor":"…","key":["…"]}`);
    }
    const p = parsed as { cursor?: unknown; key?: unknown };
    if (typeof p.cursor !== 'string' || !Array.isArray(p.key) || p.key.some((k) => typeof k !== 'string')) {
      throw new UsageError(`--to ${t}: expected {"cursor":"…","key":["…"]} with string values`);
    }
    return { kind: 'position', position: { cursor: p.cursor, key: p.key as string[] } };
  }
  if (t === '') throw new UsageError('--to needs a value: start, end, a cursor value or a JSON position');
  return { kind: 'cursor', cursor: t };
}

/**
 * Moves a sync's bookmark outside a run, holding the run lease meanwhile so no run moves it at the
 * same time. A cursor value T becomes the position of the last row before T, so the next run
 * reads every row whose cursor is T or later (rows sharing one timestamp are not split). Rows
 * read again are skipped by hash unless their content changed: a reset costs reads, not writes.
 */
export async function resetBookmark(
  ctx: OpsContext,
  syncName: string,
  target: ResetTarget,
): Promise<{ before: Position | undefined; after: Position | undefined }> {
  const sync = ctx.sync(syncName);
  return audited(
    ctx,
    { sync: sync.name, action: 'reset', detail: `--to ${describeTarget(target)}` },
    () => moveBookmark(ctx, sync, target),
    (r) => ({
      detail: `--to ${describeTarget(target)}: bookmark ${describePosition(r.before)} → ${describePosition(r.after)}`,
    }),
  );
}

function describeTarget(target: ResetTarget): string {
  if (target.kind === 'cursor') return target.cursor;
  if (target.kind === 'position') return JSON.stringify(target.position);
  return target.kind;
}

function describePosition(p: Position | undefined): string {
  return p ? `${p.cursor} #${p.key.join(',')}` : '(start)';
}

async function moveBookmark(
  ctx: OpsContext,
  sync: SyncConfig,
  target: ResetTarget,
): Promise<{ before: Position | undefined; after: Position | undefined }> {
  const after =
    target.kind === 'start' ? undefined : await resolvePosition(await ctx.warehouse(), sync, target);
  const owner = `reset-${randomUUID()}`;
  const now = Date.now();
  if (!(await ctx.state.acquireLease(sync.name, owner, now, 60_000))) {
    const { leaseUntil } = await ctx.state.get(sync.name);
    throw new WritebackError(
      'WB_SYNC_BUSY',
      `a run of ${sync.name} holds the lease${leaseUntil ? ` until ${new Date(leaseUntil).toISOString()}` : ''}: ` +
        'try again when it has finished (`writeback status`), or `writeback disable` the sync first',
    );
  }
  try {
    const { bookmark: before } = await ctx.state.get(sync.name);
    await ctx.state.resetBookmark(sync.name, after);
    return { before, after };
  } finally {
    await ctx.state.releaseLease(sync.name, owner);
  }
}

async function resolvePosition(
  sql: Sql,
  sync: SyncConfig,
  target: Exclude<ResetTarget, { kind: 'start' }>,
): Promise<Position | undefined> {
  const types = await new SourceReader(sql, sync.name, sync.source).columnTypes();
  if (target.kind === 'position') {
    if (target.position.key.length !== sync.source.key.length) {
      throw new UsageError(
        `--to: the key has ${target.position.key.length} part(s); ${sync.name}'s key (${sync.source.key.join(', ')}) has ${sync.source.key.length}`,
      );
    }
    return target.position;
  }
  const relation = sync.source.table ? quoteQualified(sync.source.table) : `(${sync.source.query})`;
  const c = `src.${quoteIdent(sync.source.cursor)}`;
  const keys = sync.source.key.map((k) => `src.${quoteIdent(k)}`);
  const where = [`${c} is not null`];
  if (sync.source.where) where.push(`(${sync.source.where})`);
  const params: string[] = [];
  if (target.kind === 'cursor') {
    params.push(target.cursor);
    where.push(`${c} < $1::text::${types.cursor}`);
  }
  const order = [c, ...keys].map((e) => `${e} desc`).join(', ');
  let rows: Record<string, string>[];
  try {
    // sql.unsafe: quoted identifiers and the user's own SQL; the cursor value is a parameter.
    rows = (await sql.unsafe(
      `select ${c}::text as c, ${keys.map((k, i) => `${k}::text as k${i}`).join(', ')} from ${relation} src where ${where.join(' and ')} order by ${order} limit 1`,
      params,
    )) as Record<string, string>[];
  } catch (err) {
    throw new UsageError(
      `--to ${target.kind === 'cursor' ? target.cursor : 'end'}: not a value of ${sync.source.cursor} (${types.cursor}): ${(err as Error).message}`,
    );
  }
  const row = rows[0];
  if (!row) return undefined;
  return { cursor: row.c!, key: sync.source.key.map((_, i) => row[`k${i}`]!) };
}

import { awaitKeys } from '../../shared/ops/awaitWrites.ts';
import { listDeadLetters, purgeDeadLetters, showDeadLetter } from '../../shared/ops/dlq.ts';
import { UsageError } from '../../shared/ops/errors.ts';
import type { OpsContext } from '../../shared/ops/OpsContext.ts';
import { queueDepth } from '../../shared/ops/queueDepth.ts';
import { type ParentRedrive, redriveDeadLetters } from '../../shared/ops/redriveDeadLetters.ts';
import { parseSince, parseTimeout } from '../args.ts';
import { ago, cut, table, when } from '../format.ts';
import { confirm, EXIT, out, outJson, progress, progressDone, progressLog } from '../output.ts';

export interface DlqListOptions {
  readonly key?: string[];
  readonly code?: string;
  readonly since?: string;
  readonly limit?: number;
}

/** `writeback dlq list <sync>`: one line per failed source key, oldest first. */
export async function dlqListCommand(
  ctx: OpsContext,
  sync: string,
  opts: DlqListOptions,
  json: boolean,
): Promise<number> {
  const since = parseSince(opts.since);
  const entries = await listDeadLetters(
    ctx,
    sync,
    {
      ...(opts.key ? { keys: opts.key } : {}),
      ...(opts.code ? { code: opts.code } : {}),
      ...(since ? { since } : {}),
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    },
    progressLog,
  );
  progressDone();
  if (json) {
    outJson({ sync, count: entries.length, entries });
    return EXIT.ok;
  }
  if (entries.length === 0) {
    out(`${sync}: the DLQ is empty${opts.key || opts.code || opts.since ? ' (for these filters)' : ''}`);
    return EXIT.ok;
  }
  const rows = entries.map((e) => [
    e.key ?? '(unreadable)',
    e.reason.code,
    e.reason.httpStatus ? String(e.reason.httpStatus) : '-',
    e.attempts === undefined ? '-' : String(e.attempts),
    when(e.firstFailedAt),
    e.messages > 1 ? `${when(e.lastFailedAt)} (${e.messages}×)` : ago(e.lastFailedAt),
    cut(e.reason.message, 200),
  ]);
  for (const l of table(['KEY', 'CODE', 'HTTP', 'ATTEMPTS', 'FIRST FAILED', 'LAST FAILED', 'MESSAGE'], rows))
    out(l);
  out(
    `${entries.length} key(s). Details: writeback dlq show ${sync} <key>. After fixing: writeback dlq redrive ${sync} --all`,
  );
  return EXIT.ok;
}

/** `writeback dlq show <sync> <key>`: payload, link and failures of one key. */
export async function dlqShowCommand(
  ctx: OpsContext,
  sync: string,
  key: string,
  json: boolean,
): Promise<number> {
  const d = await showDeadLetter(ctx, sync, key, progressLog);
  progressDone();
  if (json) {
    outJson({ sync, ...d });
    return EXIT.ok;
  }
  out(`${sync} key ${key}`);
  if (d.link) {
    const l = d.link;
    out(
      `  link: ${l.status}, target id ${l.targetId ?? '-'}, version ${l.version ?? '-'}` +
        `${l.pendingVersion ? ` (tried ${l.pendingVersion})` : ''}, attempts ${l.attempts}, updated ${when(l.updatedAt)}`,
    );
    if (l.lastError) {
      out(
        `  last error: ${l.lastError.code}${l.lastError.httpStatus ? ` (HTTP ${l.lastError.httpStatus})` : ''} at ${when(l.lastError.at)}: ${l.lastError.message}`,
      );
    }
  } else out('  link: none (the key was never claimed by a writer)');
  if (d.invalid) out(`  no payload: map() failed: ${d.invalid.message}`);
  if (d.payload) {
    out('  payload:');
    for (const line of JSON.stringify(d.payload, null, 2).split('\n')) out(`    ${line}`);
  }
  if (d.history.length === 0) {
    out('  not in the DLQ');
    return EXIT.ok;
  }
  out('  failures (oldest first):');
  const rows = d.history.map((h) => [
    when(h.failedAt),
    h.reason.code,
    h.reason.httpStatus ? String(h.reason.httpStatus) : '-',
    h.attempts === undefined ? '-' : String(h.attempts),
    h.version ?? '-',
    h.reason.message,
  ]);
  for (const l of table(['FAILED', 'CODE', 'HTTP', 'ATTEMPTS', 'VERSION', 'MESSAGE'], rows)) out(`    ${l}`);
  return EXIT.ok;
}

export interface RedriveCommandOptions {
  readonly key?: string[];
  readonly all?: boolean;
  readonly stored?: boolean;
  readonly wait?: boolean;
  readonly timeout?: string;
}

/**
 * `writeback dlq redrive <sync> --key K… | --all`: back to the queue, from the current source row
 * (default) or as stored (`--stored`, also `writeback replay`); `--wait` waits for the writes.
 */
export async function dlqRedriveCommand(
  ctx: OpsContext,
  sync: string,
  opts: RedriveCommandOptions,
  json: boolean,
): Promise<number> {
  if (!opts.all && !opts.key?.length) throw new UsageError('say which records: --key <key…> or --all');
  if (opts.all && opts.key?.length) throw new UsageError('give either --key or --all, not both');
  const timeoutMs = parseTimeout(opts.timeout);
  const result = await redriveDeadLetters(ctx, sync, {
    ...(opts.key ? { keys: opts.key } : {}),
    from: opts.stored ? 'stored' : 'source',
    onProgress: progressLog,
  });
  progressDone();
  const waited = opts.wait
    ? await awaitKeys(ctx, sync, result.redriven, {
        timeoutMs,
        onTick: (d) => progress(`${sync}: writing… queue ${d.visible + d.inFlight} · dlq ${d.dlq}`),
      })
    : undefined;
  progressDone();
  const incomplete =
    result.notFound.length + result.sourceGone.length + result.stillInvalid.length > 0 ||
    result.parents.some(parentLeftSomething) ||
    (waited !== undefined && (waited.notOk.length > 0 || !waited.drained));
  if (json) {
    outJson({ sync, ...result, ...(waited ? { waited } : {}) });
    return incomplete ? EXIT.failed : EXIT.ok;
  }
  out(
    `${sync}: redriven ${result.redriven.length} key(s) (${result.messagesRemoved} DLQ message(s) removed)` +
      ` ${opts.stored ? 'as stored' : 'from the current source rows'}`,
  );
  for (const line of parentLines(result.parents)) out(line);
  if (result.notFound.length > 0) out(`  not in the DLQ: ${result.notFound.join(', ')}`);
  for (const s of result.stillInvalid) out(`  left in the DLQ: ${s.key}: ${cut(s.message, 140)}`);
  if (result.sourceGone.length > 0) {
    out(
      `  left in the DLQ, source row gone: ${result.sourceGone.join(', ')} (writeback dlq purge ${sync} --key … removes them)`,
    );
  }
  if (result.unreadable > 0)
    out(`  left in the DLQ: ${result.unreadable} unreadable message(s) (see dlq list)`);
  if (waited) {
    const s = waited.byStatus;
    out(
      `  written: ok ${s.ok ?? 0}, failed ${(s.failed ?? 0) + (s.dead ?? 0)}, still retrying ${(s.retrying ?? 0) + (s.pending ?? 0)}` +
        (waited.drained ? '' : ' (timed out waiting for the queue)'),
    );
    if (waited.notOk.length > 0) out(`  not written yet or failed again: writeback dlq list ${sync}`);
  } else if (result.redriven.length > 0)
    out(`  --wait waits for the writes; writeback status shows the queue`);
  return incomplete ? EXIT.failed : EXIT.ok;
}

/** A parent that could not be redriven leaves its children to fail again. */
function parentLeftSomething(p: ParentRedrive): boolean {
  return (
    p.sourceGone.length + p.stillInvalid.length + p.missingFromDlq.length > 0 ||
    p.parents.some(parentLeftSomething)
  );
}

/** What redriving the failed parents first did, indented under the child's line. */
function parentLines(parents: readonly ParentRedrive[], indent = '  '): string[] {
  const lines: string[] = [];
  for (const p of parents) {
    lines.push(
      `${indent}parents first: ${p.sync}: redriven ${p.redriven.length} key(s) (${p.messagesRemoved} DLQ message(s) removed)`,
    );
    lines.push(...parentLines(p.parents, `${indent}  `));
    for (const s of p.stillInvalid)
      lines.push(`${indent}  left in its DLQ: ${s.key}: ${cut(s.message, 120)}`);
    if (p.sourceGone.length > 0)
      lines.push(`${indent}  left in its DLQ, source row gone: ${p.sourceGone.join(', ')}`);
    if (p.fromSource.length > 0) {
      lines.push(`${indent}  not in its DLQ (purged?), sent from the source row: ${p.fromSource.join(', ')}`);
    }
    if (p.missingFromDlq.length > 0) {
      lines.push(
        `${indent}  failed but not in its DLQ (purged?), nothing stored to replay: ${p.missingFromDlq.join(', ')}; redrive without --stored sends them from the source`,
      );
    }
  }
  return lines;
}

/** `writeback dlq purge <sync> [--key K…] --yes`: delete dead letters for good. */
export async function dlqPurgeCommand(
  ctx: OpsContext,
  sync: string,
  opts: { key?: string[]; yes?: boolean },
  json: boolean,
): Promise<number> {
  ctx.sync(sync);
  const depth = await queueDepth(ctx.aws.sqs, ctx.syncResources(sync));
  const what = opts.key?.length
    ? `delete the DLQ messages of ${opts.key.length} key(s) of ${sync}`
    : `delete all ${depth.dlq} message(s) in the DLQ of ${sync}`;
  await confirm(what, sync, opts.yes);
  const res = await purgeDeadLetters(ctx, sync, {
    ...(opts.key ? { keys: opts.key } : {}),
    onProgress: progressLog,
  });
  progressDone();
  if (json) outJson({ sync, ...res });
  else {
    out(
      res.keys === undefined
        ? `${sync}: purged the DLQ (${res.messagesRemoved} message(s))`
        : `${sync}: deleted ${res.messagesRemoved} DLQ message(s) of ${res.keys} key(s)`,
    );
    out('  their links stay failed: a change of the source row sends them again');
  }
  return EXIT.ok;
}

import type { Link } from '../../shared/links/Link.ts';
import { ATTENTION_STATUSES, type AttentionStatus } from '../../shared/links/Link.ts';
import { UsageError } from '../../shared/ops/errors.ts';
import { linkOf, linksByTarget, linksNeedingAttention } from '../../shared/ops/links.ts';
import type { OpsContext } from '../../shared/ops/OpsContext.ts';
import { cut, table, when } from '../format.ts';
import { EXIT, out, outJson } from '../output.ts';

export interface LinksOptions {
  readonly target?: string;
  readonly status?: string;
  /** Without a key: at most this many links. @default 100 */
  readonly limit?: number;
}

/**
 * `writeback links <sync> [key]`: where a source row went; `--target <id>`: which row a target
 * record came from; no key: the links that need attention (`--status` to pick one status).
 */
export async function linksCommand(
  ctx: OpsContext,
  sync: string,
  key: string | undefined,
  opts: LinksOptions,
  json: boolean,
): Promise<number> {
  let links: Link[];
  if (key !== undefined && opts.target !== undefined)
    throw new UsageError('give a key or --target, not both');
  if (key !== undefined) {
    const link = await linkOf(ctx, sync, key);
    links = link ? [link] : [];
  } else if (opts.target !== undefined) {
    links = await linksByTarget(ctx, sync, opts.target);
  } else {
    const statuses = opts.status ? [parseStatus(opts.status)] : ATTENTION_STATUSES;
    links = await linksNeedingAttention(ctx, sync, statuses, opts.limit ?? 100);
  }
  if (json) {
    outJson({ sync, links });
  } else if (links.length === 0) {
    out(
      key !== undefined
        ? `${sync}: no link for key ${key}: the row was never sent (not read yet, or filtered out)`
        : opts.target !== undefined
          ? `${sync}: no link points at target id ${opts.target}`
          : `${sync}: no link needs attention${opts.status ? ` (status ${opts.status})` : ''}`,
    );
  } else {
    const rows = links.map((l) => [
      l.key,
      l.status,
      l.targetId ?? '-',
      l.version ?? '-',
      l.hash ? l.hash.slice(0, 12) : '-',
      String(l.attempts),
      when(l.updatedAt),
      l.lastError ? cut(`${l.lastError.code}: ${l.lastError.message}`, 60) : '',
    ]);
    for (const line of table(
      ['KEY', 'STATUS', 'TARGET ID', 'VERSION', 'HASH', 'ATTEMPTS', 'UPDATED', 'LAST ERROR'],
      rows,
    )) {
      out(line);
    }
  }
  // A key or target id that leads nowhere is a failed lookup for a script.
  return links.length === 0 && (key !== undefined || opts.target !== undefined) ? EXIT.failed : EXIT.ok;
}

function parseStatus(text: string): AttentionStatus {
  if ((ATTENTION_STATUSES as readonly string[]).includes(text)) return text as AttentionStatus;
  throw new UsageError(
    `--status ${text}: one of ${ATTENTION_STATUSES.join(', ')} (ok links are not indexed: look one up by key)`,
  );
}

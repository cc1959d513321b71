import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { LocalStack } from '../../local/LocalStack.ts';
import type { Payload, Row, SyncConfig } from '../../shared/config/schema.ts';
import { contentHash } from '../../shared/util/contentHash.ts';
import { DLQ_ATTRIBUTES } from '../../shared/write/DeadLetterSink.ts';

/** How the checker reads one sync's target. */
export interface TargetView {
  readonly sync: string;
  records(): { externalId: string; fields: Record<string, unknown> }[];
  /** Whether a stored record holds exactly the mapped payload (the target's own representation). */
  same(expected: Payload, actual: Record<string, unknown>): boolean;
}

/** Counts per key; a key is exactly one of ok, dlq, missing, stale, unaccounted. */
export interface InvariantCounts {
  keys: number;
  /** The target holds the newest content once, and the link says ok with its hash. */
  ok: number;
  /** Not in the target with the newest content, but its newest version is in the DLQ with a reason and the link says failed or dead. */
  dlq: number;
  /** Extra records for one external id (0 when nothing was created twice). */
  duplicates: number;
  /** Not in the target, not in the DLQ. */
  missing: number;
  /** In the target with older content, not in the DLQ. */
  stale: number;
  /** Newest content in the target but a link that does not say so. */
  unaccounted: number;
  /** Keys whose newest row the target refuses (an email without @): these belong in the DLQ. */
  expectedDlq: number;
  dlqMessages: number;
  /** DLQ messages without the writer's reason attributes (moved by SQS's own redrive). */
  dlqWithoutReason: number;
}

export interface ChaosReport extends InvariantCounts {
  readonly seed: number;
  readonly records: number;
  readonly pass: boolean;
  readonly durationMs: number;
  readonly faults: Record<string, number>;
  readonly perSync: Record<string, InvariantCounts & { problems: string[] }>;
}

interface DlqEntry {
  readonly key: string;
  readonly version: string;
  readonly code: string | undefined;
}

/**
 * The invariant of the write protocol, checked after the queues drained: for every source key of
 * every sync, exactly one target record with the newest content (and an ok link), or the newest
 * version in the DLQ with its reason.
 */
export async function checkInvariant(args: {
  seed: number;
  records: number;
  stack: LocalStack;
  syncs: readonly SyncConfig[];
  views: readonly TargetView[];
  faults: Record<string, number>;
  startedAt: number;
}): Promise<ChaosReport> {
  const { stack } = args;
  const rows = await stack.dwh<Row[]>`
    select *, (extract(epoch from updated_at) * 1000000)::bigint::text as _version from chaos.people order by id`;
  const perSync: ChaosReport['perSync'] = {};
  const total = emptyCounts();
  for (const sync of args.syncs) {
    const view = args.views.find((v) => v.sync === sync.name)!;
    const counts = { ...emptyCounts(), problems: [] as string[] };
    const problem = (text: string) => {
      if (counts.problems.length < 10) counts.problems.push(text);
    };
    const byExternalId = new Map<string, Record<string, unknown>[]>();
    for (const r of view.records())
      byExternalId.set(r.externalId, [...(byExternalId.get(r.externalId) ?? []), r.fields]);
    const keys = rows.map((r) => String(r.id));
    const links = await stack.links.batchGet(sync.name, keys);
    const dlq = await readDlq(stack, sync.name);
    counts.dlqMessages = dlq.length;
    counts.dlqWithoutReason = dlq.filter((d) => d.code === undefined).length;

    for (const row of rows) {
      const key = String(row.id);
      const { _version, ...source } = row;
      const version = String(_version);
      // A row map() cannot handle belongs in the DLQ (WB_MAP_FAILED), like one the target refuses.
      let payload: Record<string, unknown> | undefined;
      try {
        payload = sync.map(source, { sync: sync.name });
      } catch {
        payload = undefined;
      }
      const hash = payload ? contentHash(payload) : undefined;
      const stored = byExternalId.get(key) ?? [];
      const link = links.get(key);
      counts.keys++;
      if (!String(source.email).includes('@') || !payload) counts.expectedDlq++;
      counts.duplicates += Math.max(0, stored.length - 1);
      if (stored.length > 1) problem(`${key}: ${stored.length} records`);
      const newestInTarget =
        payload !== undefined && stored.length > 0 && stored.every((f) => view.same(payload, f));
      const inDlq = dlq.some((d) => d.key === key && d.version === version && d.code !== undefined);
      const dlqNote = () => {
        const entries = dlq.filter((d) => d.key === key).map((d) => `${d.version}:${d.code ?? 'no reason'}`);
        return entries.length > 0 ? `; DLQ ${entries.join(', ')}` : '';
      };
      if (newestInTarget && link?.status === 'ok' && link.hash === hash) counts.ok++;
      else if (!newestInTarget && inDlq && (link?.status === 'failed' || link?.status === 'dead'))
        counts.dlq++;
      else if (stored.length === 0) {
        counts.missing++;
        problem(
          `${key}: missing (link ${link?.status ?? 'none'}, ${link?.lastError?.code ?? 'no error'})${dlqNote()}`,
        );
      } else if (!newestInTarget) {
        counts.stale++;
        problem(
          `${key}: stale (link ${link?.status} v${link?.version} pending v${link?.pendingVersion} at ${link?.updatedAt}, source v${version})${dlqNote()}`,
        );
      } else {
        counts.unaccounted++;
        problem(
          `${key}: newest content but link ${link?.status} ${link?.hash === hash ? '' : '(other hash)'}`,
        );
      }
    }
    perSync[sync.name] = counts;
    for (const k of Object.keys(total) as (keyof InvariantCounts)[]) total[k] += counts[k];
  }
  const pass =
    total.duplicates === 0 &&
    total.missing === 0 &&
    total.stale === 0 &&
    total.unaccounted === 0 &&
    total.ok + total.dlq === total.keys;
  return {
    seed: args.seed,
    records: args.records,
    ...total,
    pass,
    durationMs: Date.now() - args.startedAt,
    faults: args.faults,
    perSync,
  };
}

function emptyCounts(): InvariantCounts {
  return {
    keys: 0,
    ok: 0,
    dlq: 0,
    duplicates: 0,
    missing: 0,
    stale: 0,
    unaccounted: 0,
    expectedDlq: 0,
    dlqMessages: 0,
    dlqWithoutReason: 0,
  };
}

/** Every message of a sync's DLQ (kept invisible while reading, so none is read twice). */
async function readDlq(stack: LocalStack, sync: string): Promise<DlqEntry[]> {
  const url = stack.resources.queues[sync]!.dlqUrl;
  const out: DlqEntry[] = [];
  for (;;) {
    const res = await stack.aws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 600,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = res.Messages ?? [];
    if (messages.length === 0) return out;
    for (const m of messages) {
      let body: { key?: string; version?: string } = {};
      try {
        body = JSON.parse(m.Body ?? '{}') as typeof body;
      } catch {
        // An unreadable body still counts as a DLQ message, for no key.
      }
      out.push({
        key: body.key ?? '',
        version: body.version ?? '',
        code: m.MessageAttributes?.[DLQ_ATTRIBUTES.code]?.StringValue,
      });
    }
  }
}

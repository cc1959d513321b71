import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import type { Sql } from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runExtract } from '../../../shared/extract/runExtract.ts';
import { DynamoLinkStore } from '../../../shared/links/DynamoLinkStore.ts';
import { warehousePool } from '../../../shared/postgresPools.ts';
import { DynamoRunStartReader } from '../../../shared/state/DynamoRunStartReader.ts';
import { DynamoStateStore } from '../../../shared/state/DynamoStateStore.ts';
import { countingClient } from '../../helpers/countingClient.ts';
import {
  type ItemsPipeline,
  insertItems,
  itemsConfig,
  startItemsPipeline,
} from '../../helpers/itemsPipeline.ts';

/**
 * The quiet path (issue 19): a run when nothing changed reads its state and the redrive flag, probes
 * the source in one statement, and stops there: no lease, no run record. Everything else (a changed
 * row, a flagged dead link, a pass left unfinished) still takes the full path.
 */
describe('Function: runExtract, when nothing changed', () => {
  let p: ItemsPipeline;
  let sql: Sql;
  let statements = 0;
  /** Called as each statement is sent. */
  let onStatement: (() => void) | undefined;
  let counting: ReturnType<typeof countingClient>;
  let state: DynamoStateStore;
  let links: DynamoLinkStore;
  const config = itemsConfig({ source: { lookback: '0s' } });
  const sync = config.syncs[0]!;

  let runStart: DynamoRunStartReader;
  const run = (now: () => number = Date.now) =>
    runExtract(
      sync,
      { sql, state, links, runStart, enqueuer: p.stack.enqueuer('items'), now },
      { runId: crypto.randomUUID(), remainingMs: () => 600_000 },
    );
  /** What one run costs: its DynamoDB requests and SQL statements. */
  const measured = async (now?: () => number) => {
    counting.calls.length = 0;
    statements = 0;
    const result = await run(now);
    return { result, requests: [...counting.calls], statements };
  };

  beforeAll(async () => {
    p = await startItemsPipeline(config);
    sql = warehousePool(p.stack.pg.url('dwh'), {
      max: 2,
      debug: () => {
        statements++;
        onStatement?.();
      },
    });
    counting = countingClient(p.stack.emulators.dynamodbEndpoint);
    state = new DynamoStateStore(counting.client, p.stack.resources.stateTable);
    links = new DynamoLinkStore(counting.client, p.stack.resources.linksTable);
    // As the extract function has it (functions/awsDeps.ts).
    runStart = new DynamoRunStartReader(counting.client, {
      state: p.stack.resources.stateTable,
      links: p.stack.resources.linksTable,
    });
  });
  afterAll(async () => {
    await sql?.end();
    counting?.client.destroy();
    await p?.stop();
  });
  beforeEach(async () => {
    await p.stack.dwh`truncate src.items`;
    await p.stack.state.resetBookmark('items', undefined);
    await p.stack.aws.sqs.send(new PurgeQueueCommand({ QueueUrl: p.stack.resources.queues.items!.url }));
    await insertItems(p, 20, 'n');
    // The first run reads everything, and settles the redrive flag (none was ever set: it looks once).
    expect((await run()).counts.enqueued).toBe(20);
  });

  it('makes at most 4 DynamoDB requests and 2 SQL statements, takes no lease and records no run', async () => {
    const runsBefore = (await p.stack.state.listRuns('items', 50)).length;
    const { result, requests, statements: sqlStatements } = await measured();
    expect(result).toMatchObject({ outcome: 'succeeded', quiet: true, counts: { read: 0, enqueued: 0 } });
    expect(requests.length).toBeLessThanOrEqual(4);
    // One read of both tables: the state item, the redrive flag and the auth outage.
    expect(requests).toEqual(['BatchGetItem']);
    expect(sqlStatements).toBeLessThanOrEqual(2);
    expect((await p.stack.state.listRuns('items', 50)).length).toBe(runsBefore);
    expect((await p.stack.state.get('items')).leaseOwner).toBeUndefined();
  });

  it('reads a row that changed after the bookmark, on the full path', async () => {
    await p.stack.dwh`update src.items set name = 'changed', loaded_at = '2026-01-02' where id = 7`;
    const { result } = await measured();
    expect(result.quiet).toBeUndefined();
    expect(result.counts).toMatchObject({ read: 1, enqueued: 1 });
    expect((await p.stack.state.listRuns('items', 1))[0]!.runId).toBe(result.runId);
  });

  it('re-drives a dead link only once a writer flagged the sync, then is quiet again', async () => {
    const now = Date.now();
    await links.claim({
      sync: 'items',
      key: '3',
      version: '1',
      hash: 'h',
      token: 't',
      runId: 'r',
      now,
      leaseMs: 1,
    });
    await links.recordFailure({
      sync: 'items',
      key: '3',
      token: 't',
      status: 'dead',
      error: { code: 'X', message: 'out of retries' },
      now,
    });
    // Past the dead key's first backoff (5 minutes).
    const later = () => Date.now() + 10 * 60_000;
    // Not flagged: a dead link alone does not make a run look.
    expect((await measured(later)).result.quiet).toBe(true);
    // A writer flags it (a message came back on its last attempt).
    await links.health.flagRedrive('items', now, now);
    const flagged = await measured(later);
    expect(flagged.result.counts).toMatchObject({ redriven: 1, dead: 0 });
    // The flag moved to when the re-driven key would turn stuck: quiet until then.
    expect((await measured(later)).result.quiet).toBe(true);
  });

  it('goes on with an unfinished pass instead of probing', async () => {
    await p.stack
      .dwh`insert into src.items select i, 'n' || i, i, '2026-01-03'::timestamptz + i * interval '1 s' from generate_series(21, 140) i`;
    const first = await runExtract(
      { ...sync, testLimit: 50 },
      { sql, state, links, enqueuer: p.stack.enqueuer('items'), now: Date.now },
      { runId: crypto.randomUUID(), remainingMs: () => 600_000 },
    );
    expect(first.counts.read).toBe(50);
    const next = await run();
    expect(next.quiet).toBeUndefined();
    expect(next.counts.read).toBe(70);
  });

  it('in a warm container, sends its probe while the state is being read, not after', async () => {
    // The run before this one was quiet in this container: it remembers what the state holds.
    expect((await run()).quiet).toBe(true);
    let probeSent!: () => void;
    const sent = new Promise<void>((resolve) => {
      probeSent = resolve;
    });
    onStatement = probeSent;
    // Each read holds its answer until the probe is sent: a probe that waited for the reads would
    // never be sent, and the test would fail on its timeout.
    const sentBeforeAnswer: number[] = [];
    counting.client.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        await sent;
        sentBeforeAnswer.push(statements);
        return out;
      },
      { step: 'initialize', name: 'holdAnswerForProbe' },
    );
    try {
      const { result, statements: sqlStatements } = await measured();
      expect(result.quiet).toBe(true);
      expect(sqlStatements).toBe(1);
      expect(sentBeforeAnswer).toEqual([1]);
    } finally {
      counting.client.middlewareStack.remove('holdAnswerForProbe');
      onStatement = undefined;
    }
  });

  it('probes again with the state it read when that moved since the run it remembers', async () => {
    // Remembered: the bookmark after row 20. Then the bookmark is reset by hand, so every row
    // lies after it again: the probe sent beside the read (after row 20: nothing) must not count.
    expect((await run()).quiet).toBe(true);
    await p.stack.state.resetBookmark('items', undefined);
    const { result, statements: sqlStatements } = await measured();
    expect(result.quiet).toBeUndefined();
    expect(result.counts.read).toBe(20);
    expect(sqlStatements).toBeGreaterThan(2);
  });
});

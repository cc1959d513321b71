import { GetQueueAttributesCommand, PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EnqueueError } from '../../../shared/errors.ts';
import { runExtract } from '../../../shared/extract/runExtract.ts';
import { targetPool } from '../../../shared/postgresPools.ts';
import { SqsEnqueuer } from '../../../shared/queue/SqsEnqueuer.ts';
import {
  type ItemsPipeline,
  insertItems,
  itemsConfig,
  startItemsPipeline,
} from '../../helpers/itemsPipeline.ts';

describe('Function: runExtract', () => {
  let p: ItemsPipeline;
  const config = itemsConfig({ source: { lookback: '0s' } });
  const sync = config.syncs[0]!;

  const depsWith = (enqueuer = new SqsEnqueuer(p.stack.aws.sqs, p.stack.resources.queues.items!.url)) => ({
    sql: p.stack.dwh,
    state: p.stack.state,
    links: p.stack.links,
    enqueuer,
    now: Date.now,
  });
  const run = (over: Partial<typeof sync> = {}, remainingMs = () => 600_000, enqueuer?: SqsEnqueuer) =>
    runExtract({ ...sync, ...over }, depsWith(enqueuer), { runId: crypto.randomUUID(), remainingMs });
  const queued = async () => {
    const res = await p.stack.aws.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: p.stack.resources.queues.items!.url,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    return Number(res.Attributes?.ApproximateNumberOfMessages ?? 0);
  };

  beforeAll(async () => {
    p = await startItemsPipeline(config);
  });
  afterAll(async () => p?.stop());
  beforeEach(async () => {
    await p.stack.dwh`truncate src.items`;
    await p.stack.state.resetBookmark('items', undefined);
    await p.stack.aws.sqs.send(new PurgeQueueCommand({ QueueUrl: p.stack.resources.queues.items!.url }));
  });

  it('enqueues every row and records the run with its bookmark', async () => {
    await insertItems(p, 120, 'n');
    const result = await run();
    expect(result).toMatchObject({
      outcome: 'succeeded',
      counts: { read: 120, enqueued: 120 },
      backlog: false,
    });
    expect(result.bookmarkAfter).toEqual({ cursor: '2026-01-01 00:02:00+00', key: ['120'] });
    expect(await queued()).toBe(120);
    const [latest] = await p.stack.state.listRuns('items', 1);
    expect(latest!.runId).toBe(result.runId);
  });

  it('records "skipped: previous run still active" while another run holds the lease', async () => {
    await p.stack.state.acquireLease('items', 'other-run', Date.now(), 60_000);
    try {
      const result = await run();
      expect(result.outcome).toBe('skipped');
      expect(result.message).toBe('skipped: previous run still active');
      expect((await p.stack.state.listRuns('items', 1))[0]!.outcome).toBe('skipped');
    } finally {
      await p.stack.state.releaseLease('items', 'other-run');
    }
  });

  it('leaves the bookmark where it was when enqueuing fails', async () => {
    await insertItems(p, 120, 'n');
    const failing = new SqsEnqueuer(p.stack.aws.sqs, p.stack.resources.queues.items!.url);
    let pages = 0;
    const send = failing.trySendAll.bind(failing);
    failing.trySendAll = async (messages) => {
      pages++;
      if (pages === 2) throw new EnqueueError('SQS unavailable');
      return send(messages);
    };
    const result = await run({}, undefined, failing);
    expect(result.outcome).toBe('failed');
    expect(result.message).toMatch(/WB_ENQUEUE_FAILED: SQS unavailable/);
    // the first page (50 rows) was enqueued and is covered by the bookmark; the second was not
    expect((await p.stack.state.get('items')).bookmark).toEqual({
      cursor: '2026-01-01 00:00:50+00',
      key: ['50'],
    });
    expect((await p.stack.state.get('items')).leaseOwner).toBeUndefined();
  });

  it('reads the links of a page while the page before it is being sent, and still sends and saves page by page', async () => {
    await insertItems(p, 120, 'n');
    const order: string[] = [];
    let secondPageLooked!: () => void;
    const looked = new Promise<void>((resolve) => {
      secondPageLooked = resolve;
    });
    const links = Object.create(p.stack.links) as typeof p.stack.links;
    let lookups = 0;
    links.batchGet = async (...args) => {
      order.push(`links ${++lookups}`);
      if (lookups === 2) secondPageLooked();
      return p.stack.links.batchGet(...args);
    };
    const enqueuer = new SqsEnqueuer(p.stack.aws.sqs, p.stack.resources.queues.items!.url);
    const send = enqueuer.trySendAll.bind(enqueuer);
    let sends = 0;
    enqueuer.trySendAll = async (messages) => {
      const page = ++sends;
      // The first page's send waits for the second page's lookup to start: a run that read the
      // next page's links only after sending would never get there, and the test would time out.
      if (page === 1) await looked;
      order.push(`send ${page} (bookmark ${(await p.stack.state.get('items')).bookmark?.key[0] ?? 'none'})`);
      return send(messages);
    };
    const result = await runExtract(
      sync,
      { ...depsWith(enqueuer), links },
      { runId: crypto.randomUUID(), remainingMs: () => 600_000 },
    );
    expect(result).toMatchObject({ outcome: 'succeeded', counts: { read: 120, enqueued: 120 } });
    // Pages of 50: the second page's links were read before the first page went out, and each
    // page was sent only once the one before it was saved. (Whether the third page's read comes
    // before or after the second send is up to the scheduler: not asserted.)
    expect(order.indexOf('links 2')).toBeLessThan(order.indexOf('send 1 (bookmark none)'));
    expect(order.filter((o) => o.startsWith('links'))).toEqual(['links 1', 'links 2', 'links 3']);
    expect(order.filter((o) => o.startsWith('send'))).toEqual([
      'send 1 (bookmark none)',
      'send 2 (bookmark 50)',
      'send 3 (bookmark 100)',
    ]);
    expect(await queued()).toBe(120);
  });

  it('sets aside a message SQS cannot take with its key, sends the rows after it, and ends partial', async () => {
    await p.stack
      .dwh`insert into src.items select i, case when i = 7 then repeat('x', 5000) else 'n' || i end, i, '2026-01-01'::timestamptz + i * interval '1 s' from generate_series(1, 60) i`;
    // No claim-check store and a 4 KB message limit: row 7 cannot travel.
    const small = new SqsEnqueuer(p.stack.aws.sqs, p.stack.resources.queues.items!.url, {
      maxMessageBytes: 4096,
    });

    const result = await run({}, undefined, small);

    expect(result.outcome).toBe('partial');
    expect(result.counts).toMatchObject({ read: 60, enqueued: 59, setAside: 1 });
    expect(result.setAside).toEqual([
      expect.objectContaining({ code: 'WB_MESSAGE_TOO_LARGE', count: 1, samples: ['7'] }),
    ]);
    expect(result.bookmarkAfter).toEqual({ cursor: '2026-01-01 00:01:00+00', key: ['60'] });
    expect(await queued()).toBe(59);
  });

  it('marks the run failed and keeps the bookmark when the source cannot be read', async () => {
    await p.stack.dwh`insert into src.items values (1, 'a', 1, '2026-01-01')`;
    await run();
    const before = (await p.stack.state.get('items')).bookmark;
    await p.stack.dwh`alter table src.items rename to items_gone`;
    try {
      const result = await run();
      expect(result.outcome).toBe('failed');
      expect(result.message).toMatch(/WB_SOURCE_UNREADABLE/);
      expect((await p.stack.state.get('items')).bookmark).toEqual(before);
    } finally {
      await p.stack.dwh`alter table src.items_gone rename to items`;
    }
  });

  it('processes at most testLimit rows', async () => {
    await insertItems(p, 120, 'n');
    const result = await run({ testLimit: 70 });
    expect(result.counts.read).toBe(70);
    expect(await queued()).toBe(70);
    expect(result.bookmarkAfter?.key).toEqual(['70']);
  });

  it('stops at its time budget with the backlog flagged, and the next run carries on', async () => {
    await insertItems(p, 120, 'n');
    const first = await run({}, () => 1_000); // below the reserve: one page, then stop
    expect(first).toMatchObject({ backlog: true, counts: { read: 50 } });
    const second = await run();
    expect(second).toMatchObject({ backlog: false, counts: { read: 70 } });
    expect(await queued()).toBe(120);
  });

  it('skips a disabled sync without touching its bookmark', async () => {
    await p.stack.dwh`insert into src.items values (1, 'a', 1, '2026-01-01')`;
    const result = await run({ enabled: false });
    expect(result).toMatchObject({ outcome: 'skipped', message: 'sync is disabled' });
    expect(await queued()).toBe(0);
  });

  it('catches a transaction that commits after a later one only with a lookback window', async () => {
    // Prepare: T1 stamps its row first but commits last; T2 commits in between and is read.
    const other = targetPool(p.stack.pg.url('dwh'), { max: 1 });
    try {
      let release!: () => void;
      const hold = new Promise<void>((r) => {
        release = r;
      });
      let stamped!: () => void;
      const t1Stamped = new Promise<void>((r) => {
        stamped = r;
      });
      const t1 = other.begin(async (tx) => {
        await tx`insert into src.items values (1, 'late', 1, now())`;
        stamped();
        await hold;
      });
      await t1Stamped;
      await new Promise((r) => setTimeout(r, 20));
      await p.stack.dwh`insert into src.items values (2, 'early', 2, now())`;
      const withoutLookback = await run();
      expect(withoutLookback.counts.read).toBe(1); // only T2's row is visible
      release();
      await t1;
      // Act: the next run without lookback starts after T2's row and misses T1's
      const missed = await run();
      expect(missed.counts.read).toBe(0);
      // …with a lookback window it re-reads behind the bookmark and finds it
      const caught = await run({ source: { ...sync.source, lookback: 60 } });
      // Assess: both rows re-read (T1's late row among them), and the bookmark did not move back
      expect(caught.counts.read).toBe(2);
      expect(caught.bookmarkAfter).toEqual(withoutLookback.bookmarkAfter);
    } finally {
      await other.end();
    }
  });

  it('pauses when the target goes down between pages: the bookmark stays after the last page enqueued', async () => {
    // Arrange: 120 rows in pages of 50; the writers report every call failing in the next 15-s
    // health bucket, and the clock reaches it once the first page is enqueued
    await insertItems(p, 120, 'n');
    const s = `items-health-${crypto.randomUUID()}`;
    let clock = Math.floor(Date.now() / 15_000) * 15_000 + 1000;
    await p.stack.links.health.record(s, clock + 15_000, { calls: 10, failedCalls: 10 });
    // Act
    const result = await runExtract(
      { ...sync, name: s, source: { ...sync.source, pageSize: 50 } },
      {
        ...depsWith(),
        now: () => clock,
        onProgress: () => {
          clock += 15_000;
        },
      },
      { runId: crypto.randomUUID(), remainingMs: () => 600_000 },
    );
    // Assess: one page enqueued, then paused with the reason, the bookmark on that page's last row
    expect(result.counts.enqueued).toBe(50);
    expect(result.message).toMatch(/^paused, bookmark kept: target failing: 10 of 10 calls/);
    expect(result.bookmarkAfter).toEqual({ cursor: '2026-01-01 00:00:50+00', key: ['50'] });
  });
});

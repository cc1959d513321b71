import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExtractHandler } from '../../../functions/extract.ts';
import type { SyncConfig } from '../../../shared/config/schema.ts';
import { SqsEnqueuer } from '../../../shared/queue/SqsEnqueuer.ts';
import { type ItemsPipeline, itemsConfig, startItemsPipeline } from '../../helpers/itemsPipeline.ts';

const contextWith = (remainingMs: number): Context =>
  ({
    functionName: 'extract',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:extract',
    getRemainingTimeInMillis: () => remainingMs,
  }) as Context;

describe('Handler: extract', () => {
  let p: ItemsPipeline;
  const config = itemsConfig();
  const continued: string[] = [];

  const handler = () =>
    createExtractHandler(async () => ({
      config,
      logger: new Logger({ logLevel: 'SILENT' }),
      defaultSync: 'items',
      depsFor: (sync: SyncConfig) => ({
        sql: p.stack.dwh,
        state: p.stack.state,
        links: p.stack.links,
        enqueuer: new SqsEnqueuer(p.stack.aws.sqs, p.stack.resources.queues[sync.name]!.url),
        now: Date.now,
      }),
      continueBacklog: async (sync: SyncConfig) => {
        continued.push(sync.name);
      },
    }));

  beforeAll(async () => {
    p = await startItemsPipeline(config);
    await p.stack
      .dwh`insert into src.items select i, 'n' || i, i, '2026-01-01'::timestamptz + i * interval '1 s' from generate_series(1, 120) i`;
  });
  afterAll(async () => p?.stop());

  it('continues a backlog in a new invocation when it stops on its time budget after progress', async () => {
    // Act: 1 s left, below the reserve: one page, then hand over
    const run = await handler()({}, contextWith(1_000));
    // Assess
    expect(run).toMatchObject({ sync: 'items', backlog: true, counts: { read: 50 } });
    expect(continued).toEqual(['items']);
  });

  it('does not continue when the backlog is done', async () => {
    continued.length = 0;
    const run = await handler()({ sync: 'items' }, contextWith(600_000));
    expect(run).toMatchObject({ backlog: false, counts: { read: 70 } });
    expect(continued).toEqual([]);
  });

  it('fails the invocation when the run fails, after recording it', async () => {
    await p.stack.dwh`alter table src.items rename to items_moved`;
    try {
      await expect(handler()({}, contextWith(600_000))).rejects.toThrowError(/failed: WB_SOURCE_UNREADABLE/);
      expect((await p.stack.state.listRuns('items', 1))[0]!.outcome).toBe('failed');
    } finally {
      await p.stack.dwh`alter table src.items_moved rename to items`;
    }
  });

  it("refuses an event naming another sync than the function's own (WB_WRONG_SYNC)", async () => {
    await expect(handler()({ sync: 'itemz' }, contextWith(600_000))).rejects.toMatchObject({
      code: 'WB_WRONG_SYNC',
      message: expect.stringMatching(/runs sync 'items' only \(its WB_SYNC\), not 'itemz'/),
    });
  });
});

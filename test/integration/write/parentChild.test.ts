import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalStack } from '../../../local/LocalStack.ts';
import type { Row } from '../../../shared/config/schema.ts';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import { targetPool } from '../../../shared/postgresPools.ts';

/**
 * owners → public.owners_copy; items (child of owners) → public.items_copy with owner_ref set to
 * the owner's target id, resolved from the owners sync's links when the item is written.
 */
const config = validateConfig({
  connections: { copy: { type: 'postgres' } },
  syncs: [
    {
      name: 'items',
      parent: { sync: 'owners', key: 'owner_id' },
      source: { table: 'src.items', key: 'id', cursor: 'loaded_at' },
      target: { connection: 'copy', object: 'public.items_copy', externalId: 'item_id' },
      map: (row: Row, { parent }: { parent?: { targetId: string } }) => ({
        name: row.name,
        owner_ref: parent!.targetId,
      }),
      maxReceiveCount: 20,
    },
    {
      name: 'owners',
      source: { table: 'src.owners', key: 'id', cursor: 'loaded_at' },
      target: { connection: 'copy', object: 'public.owners_copy', externalId: 'owner_id' },
      map: (row: Row) => {
        if (row.name === null) throw new Error('an owner needs a name');
        return { name: row.name };
      },
    },
  ],
});

describe('Parent–child: items reference their owner through the links', () => {
  let stack: LocalStack;
  let target: Sql;
  const ownerRefs = async () =>
    new Map(
      (
        await target<
          { item_id: string; owner_ref: string }[]
        >`select item_id, owner_ref from public.items_copy`
      ).map((r) => [r.item_id, r.owner_ref]),
    );

  beforeAll(async () => {
    stack = await LocalStack.start({ config, queueVisibilitySeconds: 2 });
    await stack.dwh`create schema src`;
    await stack.dwh`create table src.owners (id int primary key, name text, loaded_at timestamptz not null)`;
    await stack.dwh`create index on src.owners (loaded_at, id)`;
    await stack.dwh`create table src.items (id int primary key, owner_id int, name text, loaded_at timestamptz not null)`;
    await stack.dwh`create index on src.items (loaded_at, id)`;
    target = targetPool(stack.pg.url('billing'), { max: 2 });
    await target`create table public.owners_copy (owner_id text primary key, name text)`;
    await target`create table public.items_copy (item_id text primary key, name text, owner_ref text not null)`;
    await stack.dwh`insert into src.owners select i, 'owner ' || i, '2026-01-01'::timestamptz + i * interval '1 s' from generate_series(1, 10) i`;
    await stack.dwh`insert into src.items select i, 1 + i % 10, 'item ' || i, '2026-01-01'::timestamptz + i * interval '1 s' from generate_series(1, 50) i`;
    stack.startWriters();
  });
  afterAll(async () => {
    await target?.end();
    await stack?.stop();
  });

  it('holds children enqueued before their parents until the parents are linked, then writes the right references', async () => {
    // Act: the children first; they cannot be written yet
    await stack.runExtract('items');
    // Waits for the writers to have held children back, not for a fixed time.
    await vi.waitFor(() => expect(stack.stats('items').write.waitingForParent).toBeGreaterThan(0), {
      timeout: 30_000,
      interval: 50,
    });
    expect((await ownerRefs()).size).toBe(0);
    await stack.runExtract('owners');
    await stack.drain(120_000);
    // Assess: every item references its own owner's target id
    const refs = await ownerRefs();
    expect(refs.size).toBe(50);
    const owners = await stack.links.batchGet(
      'owners',
      Array.from({ length: 10 }, (_, i) => String(i + 1)),
    );
    for (let i = 1; i <= 50; i++) {
      expect(refs.get(String(i)), `item ${i}`).toBe(owners.get(String(1 + (i % 10)))!.targetId);
    }
  });

  it('sends a child to the DLQ as parent-failed when its parent failed, and both complete once redriven', async () => {
    // Prepare: a new owner that map() refuses, and an item of it
    await stack.dwh`insert into src.owners values (11, null, now())`;
    await stack.runExtract('owners');
    await stack.drain();
    await stack.dwh`insert into src.items values (51, 11, 'item 51', now())`;
    await stack.runExtract('items');
    await stack.drain();
    const child = await stack.links.get('items', '51');
    expect(child).toMatchObject({ status: 'failed', lastError: { code: 'WB_PARENT_FAILED' } });
    expect(child!.lastError!.message).toMatch(/parent owners\/11 is failed/);
    // Act: fix and redrive the parent (its next run), then redrive the child from its DLQ
    await stack.dwh`update src.owners set name = 'owner 11', loaded_at = now() where id = 11`;
    await stack.runExtract('owners');
    await stack.drain();
    const dlqUrl = stack.resources.queues.items!.dlqUrl;
    const { Messages = [] } = await stack.aws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    const letter = Messages.find((m) => m.MessageAttributes?.['wb-key']?.StringValue === '51')!;
    expect(letter.MessageAttributes?.['wb-error-code']?.StringValue).toBe('WB_PARENT_FAILED');
    await stack.aws.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.resources.queues.items!.url, MessageBody: letter.Body! }),
    );
    await stack.aws.sqs.send(
      new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: letter.ReceiptHandle! }),
    );
    await stack.drain();
    // Assess
    expect((await stack.links.get('items', '51'))!.status).toBe('ok');
    expect((await ownerRefs()).get('51')).toBe((await stack.links.get('owners', '11'))!.targetId);
  });

  it('writes a child again when it moves to another parent, though its mapped fields are the same', async () => {
    // Arrange: item 12 belongs to owner 3; move it to owner 5 (map() output is unchanged)
    await stack.dwh`update src.items set owner_id = 5, loaded_at = now() where id = 12`;
    // Act
    const run = await stack.runExtract('items');
    await stack.drain();
    // Assess
    expect(run.counts.enqueued).toBe(1);
    expect((await ownerRefs()).get('12')).toBe((await stack.links.get('owners', '5'))!.targetId);
  });
});

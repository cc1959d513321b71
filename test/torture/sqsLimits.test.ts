import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Connector } from '../../shared/connectors/Connector.ts';
import { TargetError } from '../../shared/errors.ts';
import { runExtract } from '../../shared/extract/runExtract.ts';
import { peekDeadLetters } from '../../shared/ops/peekDeadLetters.ts';
import { redriveDeadLetters } from '../../shared/ops/redriveDeadLetters.ts';
import { claimCheckPointerOf } from '../../shared/queue/ClaimCheck.ts';
import { SqsEnqueuer } from '../../shared/queue/SqsEnqueuer.ts';
import { isSqsSafe } from '../../shared/queue/sqsLimits.ts';
import type { WriteMessage } from '../../shared/queue/WriteMessage.ts';
import { ConnectorSpy } from '../helpers/countingConnector.ts';
import {
  type ItemsPipeline,
  itemsConfig,
  itemsExtractDeps,
  startItemsPipeline,
} from '../helpers/itemsPipeline.ts';
import { localOpsContext } from '../helpers/localOpsContext.ts';

/**
 * SQS as AWS enforces it, not as an emulator lets through: rows larger than a message (claim check
 * in S3), pages whose messages add up to more than one SendMessageBatch may carry (1 MiB), and
 * text in every Unicode class, including what SQS refuses in a body. Each case runs the real
 * pipeline (embedded Postgres → extract → SQS (fauxqs) → writer → Postgres target) and asserts
 * what a user checks: the target row equals the source row exactly, written once.
 */

/** AWS's body rule, code point by code point (independent of shared/queue/sqsLimits.ts). */
function awsAccepts(text: string): boolean {
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (
      !(
        cp === 0x9 ||
        cp === 0xa ||
        cp === 0xd ||
        (cp >= 0x20 && cp <= 0xd7ff) ||
        (cp >= 0xe000 && cp <= 0xfffd) ||
        (cp >= 0x10000 && cp <= 0x10ffff)
      )
    )
      return false;
  }
  return true;
}

/** C0 controls SQS refuses (U+0000 aside: Postgres text cannot hold it, the SQS-level test covers it). */
const CONTROLS = String.fromCharCode(
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8,
  11,
  12,
  14,
  15,
  16,
  17,
  18,
  19,
  20,
  21,
  22,
  23,
  24,
  25,
  26,
  27,
  28,
  29,
  30,
  31,
);

/** Text of `bytes` UTF-8 bytes mixing 1-, 2-, 3- and 4-byte characters (measured, not counted). */
function wideText(bytes: number, seed: string): string {
  const unit = `${seed} abc é ü € 😀 \t\n`;
  const unitBytes = Buffer.byteLength(unit);
  let text = unit.repeat(Math.floor(bytes / unitBytes));
  while (Buffer.byteLength(text) < bytes) text += 'x';
  return text;
}

describe('Torture: SQS limits and character set', () => {
  let p: ItemsPipeline;
  const spy = new ConnectorSpy();
  const config = itemsConfig({ source: { lookback: '0s', pageSize: 50 }, batchSize: 10 });
  const sync = config.syncs[0]!;
  let nextId = 1;

  /** Keys the target refuses permanently (a validation error), to put records in the DLQ. */
  const refuse = new Set<string>();
  const refusing = (inner: Connector): Connector => ({
    ...inner,
    upsertBatch: async (object, records) => {
      const results = await inner.upsertBatch(
        object,
        records.filter((r) => !refuse.has(r.key)),
      );
      const refused = records
        .filter((r) => refuse.has(r.key))
        .map((r) => ({
          key: r.key,
          ok: false as const,
          error: new TargetError('TEST_REFUSED', 'refused by the test', { disposition: 'permanent' }),
        }));
      return [...results, ...refused];
    },
  });

  beforeAll(async () => {
    p = await startItemsPipeline(config, { wrapConnector: (_s, c) => spy.wrap(refusing(c)) });
    p.stack.startWriters();
  });
  afterAll(async () => p?.stop());
  beforeEach(async () => {
    await p.stack.dwh`truncate src.items`;
    await p.stack.state.resetBookmark('items', undefined);
    spy.reset();
  });

  /** Inserts rows with fresh ids (keys never repeat across cases) and returns them by id. */
  async function insert(names: readonly string[]): Promise<Map<string, string>> {
    const rows = new Map<string, string>();
    for (const name of names) {
      const id = nextId++;
      await p.stack.dwh`insert into src.items values (${id}, ${name}, ${id}, now() - interval '1 minute')`;
      rows.set(String(id), name);
    }
    return rows;
  }

  /** One extract run, then wait until the writers drained the queue. */
  async function extractAndDrain() {
    const run = await runExtract(sync, itemsExtractDeps(p, { health: false }), {
      runId: crypto.randomUUID(),
      remainingMs: () => 600_000,
    });
    await p.stack.drain(180_000);
    return run;
  }

  /** Each source row is in the target exactly (same text, same length in code units), written once. */
  async function expectWrittenOnce(rows: Map<string, string>): Promise<void> {
    const target = await p.targetRows();
    for (const [id, name] of rows) {
      const got = target.get(id);
      expect(got, `row ${id} missing in the target`).toBeDefined();
      // Compare without printing megabytes on failure.
      expect(got!.name === name, `row ${id}: target text differs from the source`).toBe(true);
      expect(got!.qty).toBe(Number(id));
    }
    const counts = new Map<string, number>();
    for (const key of spy.records) counts.set(key, (counts.get(key) ?? 0) + 1);
    for (const id of rows.keys()) expect(counts.get(id), `writes of row ${id}`).toBe(1);
  }

  async function claimCheckObjects(): Promise<string[]> {
    const res = await p.stack.aws.s3.send(
      new ListObjectsV2Command({ Bucket: p.stack.resources.claimCheckBucket!, Prefix: 'items/' }),
    );
    return (res.Contents ?? []).map((o) => o.Key!);
  }

  async function deadLetters() {
    const peek = await peekDeadLetters(p.stack.aws.sqs, p.stack.resources.queues.items!.dlqUrl, {
      confirmEmpty: false,
    });
    await peek.remove(peek.letters);
    return peek.letters;
  }

  describe('sizes', () => {
    it('carries a 300 KB row by claim check and deletes the stored body once written', async () => {
      const rows = await insert([wideText(300_000, 'r300k')]);
      const calls = await recordingBatches(async () => {
        const run = await extractAndDrain();
        expect(run).toMatchObject({ outcome: 'succeeded', counts: { read: 1, enqueued: 1 } });
      });
      expect(calls).toEqual([{ entries: 1, bytes: expect.any(Number), pointers: 1 }]);
      expect(calls[0]!.bytes).toBeLessThan(2048);
      await expectWrittenOnce(rows);
      expect(await claimCheckObjects()).toEqual([]);
      expect((await p.stack.queueDepth('items')).dlq).toBe(0);
    });

    it('carries a 3 MB row (beyond any SQS message) by claim check', async () => {
      const rows = await insert([wideText(3_000_000, 'r3m')]);
      const run = await extractAndDrain();
      expect(run).toMatchObject({ outcome: 'succeeded', counts: { read: 1, enqueued: 1 } });
      await expectWrittenOnce(rows);
      expect(await claimCheckObjects()).toEqual([]);
    });

    it('writes a page mixing large and small rows, each once', async () => {
      const names = Array.from({ length: 30 }, (_, i) =>
        i % 5 === 0 ? wideText(i % 10 === 0 ? 1_500_000 : 400_000, `big${i}`) : `small ${i} 😀`,
      );
      const rows = await insert(names);
      const calls = await recordingBatches(async () => {
        const run = await extractAndDrain();
        expect(run).toMatchObject({ outcome: 'succeeded', counts: { read: 30, enqueued: 30 } });
      });
      // The six large rows by claim check, the small ones inline; every row sent once.
      expect(calls.reduce((n, c) => n + c.pointers, 0)).toBe(6);
      expect(calls.reduce((n, c) => n + c.entries, 0)).toBe(30);
      await expectWrittenOnce(rows);
      expect(await claimCheckObjects()).toEqual([]);
    });

    it('splits a page whose inline messages add up to more than 1 MiB into several batches', async () => {
      // Ten 200 KB rows: each below the claim-check threshold (sent inline), 2 MB together. The
      // emulator refuses a SendMessageBatch above 1 MiB (BatchRequestTooLong), as SQS does.
      const rows = await insert(Array.from({ length: 10 }, (_, i) => wideText(200_000, `b${i}`)));
      const calls = await recordingBatches(async () => {
        const run = await extractAndDrain();
        expect(run).toMatchObject({ outcome: 'succeeded', counts: { read: 10, enqueued: 10 } });
      });
      await expectWrittenOnce(rows);
      expect(await claimCheckObjects()).toEqual([]);
      // Packed by bytes up front: several calls, none above 1 MiB, each entry sent once (a call
      // SQS refused as too long and then split would count its entries twice).
      expect(calls.length).toBeGreaterThan(1);
      expect(calls.reduce((n, c) => n + c.entries, 0)).toBe(10);
      for (const c of calls) expect(c.bytes).toBeLessThanOrEqual(1_048_576);
    });
  });

  describe('text', () => {
    it('writes every Unicode class a warehouse text column holds exactly, emoji included', async () => {
      const rows = await insert([
        `controls ${CONTROLS} tab\tnewline\ncr\r`,
        'noncharacters \ufffe \uffff \ufdd0 \u{1fffe} \u{10ffff}',
        'emoji 😀 👩‍👩‍👧 🇫🇷 🏳️‍🌈 skin 👍🏽',
        'edges \ud7ff \ue000 \ufffd \u{10000} \u007f \u0080 \u009f \u2028 \u2029',
        'json-ish "quoted" \'single\' back\\slash {"a":1} \\u0041 \\ud800 </script>',
        'scripts: Zoë, Ærøskøbing, 日本語, العربية, עברית, देवनागरी, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
        'Zoë 🎉', // a demo name with an emoji: the case fauxqs refused before the patch
      ]);
      const run = await extractAndDrain();
      expect(run).toMatchObject({ outcome: 'succeeded', counts: { read: rows.size, enqueued: rows.size } });
      await expectWrittenOnce(rows);
      expect((await p.stack.queueDepth('items')).dlq).toBe(0);
    });

    it('round-trips every class through real SQS, NUL and lone surrogates included, in bodies AWS accepts', async () => {
      // Prepare: a queue of its own, read back raw.
      const { QueueUrl } = await p.stack.aws.sqs.send(
        new CreateQueueCommand({ QueueName: `${crypto.randomUUID()}-unicode` }),
      );
      const enqueuer = new SqsEnqueuer(p.stack.aws.sqs, QueueUrl!, {
        claimChecks: p.stack.claimChecks,
        claimCheckThresholdBytes: 2048,
      });
      const classes: Record<string, string> = {
        nul: '\u0000',
        controls: CONTROLS,
        whitespace: '\t\n\r',
        nonchars: '\ufffe\uffff',
        loneHigh: 'a\ud800b',
        loneLow: 'a\udfffb',
        reversedPair: '\ude00\ud83d',
        emoji: '😀👩‍👩‍👧',
        astral: '\u{10000}\u{10ffff}',
        edges: '\ud7ff\ue000\ufffd',
        separators: 'k|e:y/#\\"\n',
        large: `${'\u0000\ufffe😀'.repeat(2000)}`, // above the threshold: by claim check
      };
      const sent = Object.entries(classes).map(([name, text]) =>
        writeMessage(`${name}:${text}`, { text, [text]: name }),
      );
      // Act
      const outcome = await enqueuer.trySendAll(sent);
      const received = await receiveAll(QueueUrl!, sent.length);
      // Assess
      expect(outcome).toMatchObject({ sent: sent.length, claimChecked: 1, refused: [] });
      const bodies = await Promise.all(
        received.map(async (body) => {
          expect(awsAccepts(body)).toBe(true);
          const found = claimCheckPointerOf(body);
          return found && 'pointer' in found
            ? (await p.stack.claimChecks.get(found.pointer.claimCheck))!
            : body;
        }),
      );
      const byKey = new Map(bodies.map((b) => JSON.parse(b) as WriteMessage).map((m) => [m.key, m]));
      for (const m of sent) expect(byKey.get(m.key)).toEqual(m);
    });

    it('round-trips arbitrary full-Unicode strings through real SQS exactly (property)', async () => {
      const { QueueUrl } = await p.stack.aws.sqs.send(
        new CreateQueueCommand({ QueueName: `${crypto.randomUUID()}-prop` }),
      );
      const enqueuer = new SqsEnqueuer(p.stack.aws.sqs, QueueUrl!);
      const anyText = fc.oneof(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
        fc
          .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 30 })
          .map((units) => String.fromCharCode(...units)),
      );
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(anyText, { minLength: 1, maxLength: 10 }), async (texts) => {
          const sent = texts.map((t) => writeMessage(t, { t }));
          const outcome = await enqueuer.trySendAll(sent);
          expect(outcome.refused).toEqual([]);
          const received = await receiveAll(QueueUrl!, sent.length);
          for (const body of received) expect(isSqsSafe(body)).toBe(true);
          const byKey = new Map(received.map((b) => JSON.parse(b) as WriteMessage).map((m) => [m.key, m]));
          for (const m of sent) expect(byKey.get(m.key)).toEqual(m);
        }),
        { numRuns: 40 },
      );
    });

    it('delivers an emoji body through the local SQS as AWS does (fauxqs patched at install)', async () => {
      const { QueueUrl } = await p.stack.aws.sqs.send(
        new CreateQueueCommand({ QueueName: `${crypto.randomUUID()}-emoji` }),
      );
      await p.stack.aws.sqs.send(
        new SendMessageCommand({ QueueUrl, MessageBody: 'Zoë 😀 👩‍👩‍👧 \u{10ffff}' }),
      );
      expect(await receiveAll(QueueUrl!, 1)).toEqual(['Zoë 😀 👩‍👩‍👧 \u{10ffff}']);
    });
  });

  describe('claim checks gone wrong', () => {
    it('keeps the stored body of a dead-lettered large record, and a replay from the DLQ writes it', async () => {
      // Prepare: the target refuses the row once; it goes to the DLQ with its pointer.
      const rows = await insert([wideText(400_000, 'replay')]);
      const [id] = [...rows.keys()];
      refuse.add(id!);
      await extractAndDrain();
      refuse.clear();
      expect((await p.stack.queueDepth('items')).dlq).toBe(1);
      expect(await claimCheckObjects()).toHaveLength(1);
      // Act: `writeback dlq redrive items --stored` (the stored message, read through its pointer).
      const ctx = localOpsContext(p.stack, config);
      try {
        const result = await redriveDeadLetters(ctx, 'items', { from: 'stored' });
        expect(result).toMatchObject({ redriven: [id], unreadable: 0, stillInvalid: [] });
      } finally {
        await ctx.close();
      }
      await p.stack.drain(60_000);
      // Assess
      expect((await p.stack.queueDepth('items')).dlq).toBe(0);
      expect((await p.targetRows()).get(id!)?.name === rows.get(id!)).toBe(true);
      expect((await p.stack.links.get('items', id!))?.status).toBe('ok');
      // The replay went by a new claim check, which the writer deleted; the dead letter's own
      // object is left to the lifecycle rule.
      const left = await claimCheckObjects();
      expect(left).toHaveLength(1);
      await p.stack.claimChecks.delete({ bucket: p.stack.resources.claimCheckBucket!, key: left[0]! });
    });

    it('dead-letters a pointer whose object is gone with WB_CLAIM_CHECK_MISSING and its key, never drops it', async () => {
      // Prepare: writers stopped, so the object can be removed while the message waits.
      await p.stack.stopWriters();
      try {
        const rows = await insert([wideText(300_000, 'gone')]);
        await runExtract(sync, itemsExtractDeps(p, { health: false }), {
          runId: crypto.randomUUID(),
          remainingMs: () => 600_000,
        });
        const [objectKey] = await claimCheckObjects();
        await p.stack.claimChecks.delete({ bucket: p.stack.resources.claimCheckBucket!, key: objectKey! });
        // Act
        p.stack.startWriters();
        await p.stack.drain(60_000);
        // Assess
        const letters = await deadLetters();
        expect(letters.map((l) => [l.key, l.reason.code])).toEqual([
          [[...rows.keys()][0], 'WB_CLAIM_CHECK_MISSING'],
        ]);
        expect(letters[0]!.reason.message).toMatch(/redrive/);
        expect((await p.targetRows()).has([...rows.keys()][0]!)).toBe(false);
        // What the message says to do works: a redrive from the source row sends it again.
        await p.stack.aws.sqs.send(
          new SendMessageCommand({
            QueueUrl: p.stack.resources.queues.items!.dlqUrl,
            MessageBody: letters[0]!.body,
          }),
        );
        const ctx = localOpsContext(p.stack, config);
        try {
          expect(await redriveDeadLetters(ctx, 'items')).toMatchObject({ redriven: [[...rows.keys()][0]] });
        } finally {
          await ctx.close();
        }
        p.stack.startWriters();
        await p.stack.drain(60_000);
        expect((await p.targetRows()).get([...rows.keys()][0]!)?.name === [...rows.values()][0]).toBe(true);
      } finally {
        p.stack.startWriters();
      }
    });

    it('dead-letters a pointer whose object does not match its checksum with WB_CLAIM_CHECK_MISMATCH', async () => {
      await p.stack.stopWriters();
      try {
        const rows = await insert([wideText(300_000, 'tampered')]);
        await runExtract(sync, itemsExtractDeps(p, { health: false }), {
          runId: crypto.randomUUID(),
          remainingMs: () => 600_000,
        });
        const [objectKey] = await claimCheckObjects();
        const stored = (await p.stack.claimChecks.get({
          bucket: p.stack.resources.claimCheckBucket!,
          key: objectKey!,
        }))!;
        await p.stack.aws.s3.send(
          new PutObjectCommand({
            Bucket: p.stack.resources.claimCheckBucket!,
            Key: objectKey!,
            Body: stored.replace('tampered', 'tampereD'),
          }),
        );
        p.stack.startWriters();
        await p.stack.drain(60_000);
        const letters = await deadLetters();
        expect(letters.map((l) => [l.key, l.reason.code])).toEqual([
          [[...rows.keys()][0], 'WB_CLAIM_CHECK_MISMATCH'],
        ]);
        expect((await p.targetRows()).has([...rows.keys()][0]!)).toBe(false);
        // The DLQ keeps the pointer, so its object stays until the lifecycle rule removes it.
        expect(await claimCheckObjects()).toEqual([objectKey]);
        await p.stack.claimChecks.delete({ bucket: p.stack.resources.claimCheckBucket!, key: objectKey! });
      } finally {
        p.stack.startWriters();
      }
    });

    it('treats a second delivery of a written record whose object was already deleted as a duplicate, not a loss', async () => {
      // Prepare: capture the pointer body of a large row, let it be written (and its object deleted).
      await p.stack.stopWriters();
      const rows = await insert([wideText(300_000, 'twice')]);
      await runExtract(sync, itemsExtractDeps(p, { health: false }), {
        runId: crypto.randomUUID(),
        remainingMs: () => 600_000,
      });
      const [pointerBody] = await receiveAll(p.stack.resources.queues.items!.url, 1, { keep: true });
      p.stack.startWriters();
      await p.stack.drain(60_000);
      expect(await claimCheckObjects()).toEqual([]);
      // Act: SQS delivers the same message again (at-least-once).
      await p.stack.aws.sqs.send(
        new SendMessageCommand({ QueueUrl: p.stack.resources.queues.items!.url, MessageBody: pointerBody! }),
      );
      await p.stack.drain(60_000);
      // Assess
      expect((await p.stack.queueDepth('items')).dlq).toBe(0);
      await expectWrittenOnce(rows);
    });
  });

  /** Every SendMessageBatch call the stack's SQS client makes while `fn` runs: entries and bytes. */
  async function recordingBatches(
    fn: () => Promise<void>,
  ): Promise<{ entries: number; bytes: number; pointers: number }[]> {
    const calls: { entries: number; bytes: number; pointers: number }[] = [];
    const name = 'recordSendMessageBatch';
    p.stack.aws.sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'SendMessageBatchCommand') {
          const entries = (args.input as { Entries: { MessageBody: string }[] }).Entries;
          calls.push({
            entries: entries.length,
            bytes: entries.reduce((n, e) => n + Buffer.byteLength(e.MessageBody), 0),
            pointers: entries.filter((e) => claimCheckPointerOf(e.MessageBody) !== undefined).length,
          });
        }
        return next(args);
      },
      { step: 'initialize', name },
    );
    try {
      await fn();
    } finally {
      p.stack.aws.sqs.middlewareStack.remove(name);
    }
    return calls;
  }

  /** Receives `count` messages from a queue; deletes them unless `keep` (then they come back after the visibility timeout: 0 here). */
  async function receiveAll(
    queueUrl: string,
    count: number,
    opts: { keep?: boolean } = {},
  ): Promise<string[]> {
    const bodies: string[] = [];
    for (let tries = 0; bodies.length < count && tries < 50; tries++) {
      const res = await p.stack.aws.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          ...(opts.keep ? { VisibilityTimeout: 0 } : {}),
        }),
      );
      const messages = res.Messages ?? [];
      bodies.push(...messages.map((m) => m.Body!));
      if (messages.length > 0 && !opts.keep) {
        await p.stack.aws.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      }
    }
    return bodies;
  }
});

function writeMessage(key: string, payload: Record<string, unknown>): WriteMessage {
  return {
    v: 1,
    sync: 'unicode',
    key,
    version: '1',
    hash: 'h',
    payload,
    runId: 'run',
    enqueuedAt: '2026-01-01T00:00:00.000Z',
  };
}

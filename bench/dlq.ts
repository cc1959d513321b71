/**
 * DLQ benchmark (issue 15): a sync whose DLQ holds N dead letters (default 100,000) in the SQS
 * emulator; times `dlq list`, `dlq show` (one key), `dlq redrive --all` (as stored: the DLQ side of
 * a redrive, without the warehouse read) and `dlq purge` (by key, then the whole DLQ), and checks
 * that after list and show every message is visible again. Prints measured figures only and, last,
 * one JSON line. Usage: npm run bench -- dlq [--messages 100000] [--latency-ms 0]
 */

import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { startLocalEmulators } from '../local/LocalEmulators.ts';
import { provisionLocal } from '../local/provisionLocal.ts';
import { createAwsClients } from '../shared/aws/awsClients.ts';
import { validateConfig } from '../shared/config/validateConfig.ts';
import { listDeadLetters, purgeDeadLetters, showDeadLetter } from '../shared/ops/dlq.ts';
import { OpsContext } from '../shared/ops/OpsContext.ts';
import { redriveDeadLetters } from '../shared/ops/redriveDeadLetters.ts';
import { forEachLimit } from '../shared/util/forEachLimit.ts';
import { DLQ_ATTRIBUTES } from '../shared/write/DeadLetterSink.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const messages = Number(arg('messages', '100000'));
/**
 * Added to every SQS call of the commands (not of the set-up), to model the round trip to SQS that
 * the emulator on the same machine does not have. 0: the emulator as it is.
 */
const latencyMs = Number(arg('latency-ms', '0'));
const log = (line: string) => process.stderr.write(`${line}\n`);
/** Checks that failed: printed with the figures (a fast but wrong command is no result). */
const problems: string[] = [];
const check = (ok: boolean, problem: string) => {
  if (!ok) {
    problems.push(problem);
    log(`CHECK FAILED: ${problem}`);
  }
};

const config = validateConfig({
  connections: { sink: { type: 'postgres', url: 'postgres://unused' } },
  syncs: [
    {
      name: 'bench',
      source: { table: 'bench.items', key: 'id', cursor: 'loaded_at' },
      target: { connection: 'sink', object: 'x', externalId: 'ext_id' },
      map: (row: Record<string, unknown>) => ({ email: row.email }),
    },
  ],
});

const emulators = await startLocalEmulators();
try {
  const aws = createAwsClients({ dynamodb: emulators.dynamodbEndpoint, sqs: emulators.sqsEndpoint });
  const res = await provisionLocal(aws, `benchdlq${Date.now()}`, config.syncs);
  const q = res.queues.bench!;
  const commandsAws = createAwsClients({ dynamodb: emulators.dynamodbEndpoint, sqs: emulators.sqsEndpoint });
  if (latencyMs > 0) {
    commandsAws.sqs.middlewareStack.add(
      (next) => async (args) => {
        await new Promise((r) => setTimeout(r, latencyMs));
        return next(args);
      },
      { step: 'finalizeRequest', name: 'benchLatency' },
    );
  }
  const ctx = new OpsContext({
    config,
    kind: 'local',
    description: 'dlq bench',
    resources: {
      stateTable: res.stateTable,
      linksTable: res.linksTable,
      syncs: { bench: { queueUrl: q.url, dlqUrl: q.dlqUrl } },
    },
    aws: commandsAws,
  });

  const fill = async (url: string) => {
    const batches = Array.from({ length: Math.ceil(messages / 10) }, (_, b) => b);
    await forEachLimit(batches, 16, async (b) => {
      const entries = [];
      for (let i = b * 10; i < Math.min(b * 10 + 10, messages); i++) {
        const key = String(i + 1);
        entries.push({
          Id: String(i % 10),
          MessageBody: JSON.stringify({
            v: 1,
            sync: 'bench',
            key,
            version: '1767225600000000',
            hash: 'h',
            runId: 'bench-run',
            enqueuedAt: '2026-01-01T00:00:00.000Z',
            payload: { email: `user${key}@example.com` },
          }),
          MessageAttributes: {
            [DLQ_ATTRIBUTES.key]: { DataType: 'String', StringValue: key },
            [DLQ_ATTRIBUTES.code]: { DataType: 'String', StringValue: 'WB_TARGET_REJECTED' },
            [DLQ_ATTRIBUTES.message]: { DataType: 'String', StringValue: 'invalid email' },
            [DLQ_ATTRIBUTES.failedAt]: { DataType: 'String', StringValue: new Date(1e12 + i).toISOString() },
          },
        });
      }
      await aws.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
    });
  };
  const figures: Record<string, { messages: number; seconds: number; perSecond: number }> = {};
  const timed = async (name: string, n: number, fn: () => Promise<unknown>) => {
    log(`${name}…`);
    const t0 = performance.now();
    await fn();
    const seconds = (performance.now() - t0) / 1000;
    figures[name] = { messages: n, seconds: round(seconds), perSecond: Math.round(n / seconds) };
    log(`${name}: ${n} messages in ${seconds.toFixed(1)} s (${Math.round(n / seconds)} messages/s)`);
  };
  const visibleAgain = async (name: string) => {
    const t0 = performance.now();
    for (;;) {
      const c = await counts(aws.sqs, q.dlqUrl);
      if (c.visible === messages) break;
      if (performance.now() - t0 > 600_000)
        throw new Error(`${name}: ${c.visible} of ${messages} visible after 10 min`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const s = (performance.now() - t0) / 1000;
    log(`${name}: all ${messages} visible again ${s.toFixed(1)} s after it returned`);
    return round(s);
  };

  log(`${messages} dead letters into the SQS emulator…`);
  await fill(q.dlqUrl);

  let listed = 0;
  await timed('list', messages, async () => {
    listed = (await listDeadLetters(ctx, 'bench', {}, log)).length;
  });
  check(listed === messages, `list: ${listed} keys of ${messages}`);
  const visibleAfterList = await visibleAgain('list');

  let shown = 0;
  await timed('show', messages, async () => {
    shown = (await showDeadLetter(ctx, 'bench', String(Math.ceil(messages / 2)), log)).history.length;
  });
  check(shown === 1, `show: ${shown} messages of the key`);
  const visibleAfterShow = await visibleAgain('show');

  await timed('purge --key (100 keys)', messages, async () => {
    await purgeDeadLetters(ctx, 'bench', {
      keys: Array.from({ length: 100 }, (_, i) => String(i + 1)),
      onProgress: log,
    });
  });
  const afterKeyPurge = await counts(aws.sqs, q.dlqUrl);
  check(
    afterKeyPurge.visible + afterKeyPurge.hidden === messages - 100,
    `purge --key of 100 keys left ${afterKeyPurge.visible + afterKeyPurge.hidden} of ${messages} messages`,
  );
  await timed('purge --all', afterKeyPurge.visible + afterKeyPurge.hidden, () =>
    purgeDeadLetters(ctx, 'bench'),
  );
  const afterPurge = await counts(aws.sqs, q.dlqUrl);
  check(
    afterPurge.visible + afterPurge.hidden === 0,
    `purge --all left ${afterPurge.visible + afterPurge.hidden}`,
  );

  await fill(q.dlqUrl);
  await timed('redrive --all (stored)', messages, () =>
    redriveDeadLetters(ctx, 'bench', { from: 'stored', onProgress: log }),
  );
  const moved = await counts(aws.sqs, q.url);
  const left = await counts(aws.sqs, q.dlqUrl);
  check(
    moved.visible === messages && left.visible + left.hidden === 0,
    `redrive: queue ${moved.visible}, DLQ ${left.visible + left.hidden} (of ${messages})`,
  );

  process.stdout.write(
    `DLQ of ${messages} messages (SQS emulator fauxqs, one machine${latencyMs > 0 ? `, ${latencyMs} ms added to each SQS call` : ''}):\n` +
      Object.entries(figures)
        .map(
          ([k, f]) =>
            `  ${k.padEnd(24)} ${f.seconds.toFixed(1).padStart(7)} s  ${String(f.perSecond).padStart(7)} messages/s\n`,
        )
        .join('') +
      `  visible again after list ${visibleAfterList} s, after show ${visibleAfterShow} s\n` +
      (problems.length > 0
        ? `  CHECKS FAILED:\n${problems.map((p) => `    ${p}\n`).join('')}`
        : '  all checks passed\n'),
  );
  process.stdout.write(
    `${JSON.stringify({ bench: 'dlq', messages, latencyMs, figures, visibleAgainSeconds: { list: visibleAfterList, show: visibleAfterShow }, problems })}\n`,
  );
} finally {
  await emulators.stop();
}

async function counts(sqs: SQSClient, url: string): Promise<{ visible: number; hidden: number }> {
  const a = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(a.Attributes?.ApproximateNumberOfMessages ?? 0),
    hidden: Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

function round(s: number): number {
  return Math.round(s * 10) / 10;
}

import { randomUUID } from 'node:crypto';
import { type SyncConfig, type SyncInput, SyncSchema } from '../../shared/config/schema.ts';
import type { Connector } from '../../shared/connectors/Connector.ts';
import type { DynamoLinkStore } from '../../shared/links/DynamoLinkStore.ts';
import type { WriteMessage } from '../../shared/queue/WriteMessage.ts';
import { contentHash } from '../../shared/util/contentHash.ts';
import type { DeadLetterReason, DeadLetterSink } from '../../shared/write/DeadLetterSink.ts';
import type { InboundMessage, WriteDeps } from '../../shared/write/processWriteBatch.ts';

/** A sync config for write tests; only the fields the writer reads matter. */
export function testSync(over: Partial<SyncInput> = {}): SyncConfig {
  return SyncSchema.parse({
    name: 'people',
    source: { table: 'src.people', key: 'id', cursor: 'updated_at' },
    target: { connection: 'memory', object: 'people', externalId: 'ext_id' },
    map: (row: Record<string, unknown>) => row,
    batchSize: 10,
    maxReceiveCount: 5,
    ...over,
  });
}

/** The message the extract would send for this key, version and payload. */
export function message(
  sync: SyncConfig,
  key: string,
  version: number,
  payload: Record<string, unknown> = { email: `${key}@example.test`, name: `v${version}` },
): WriteMessage {
  return {
    v: 1,
    sync: sync.name,
    key,
    version: String(version),
    hash: contentHash(payload),
    payload,
    runId: 'run-1',
    enqueuedAt: new Date().toISOString(),
  };
}

/** As the event source mapping would deliver it. */
export function delivered(msg: WriteMessage, receiveCount = 1, body = JSON.stringify(msg)): InboundMessage {
  return { messageId: randomUUID(), body, receiptHandle: randomUUID(), receiveCount };
}

/** Records what the writer sent to the DLQ and which visibility delays it asked for. */
export class WriteRecorder implements DeadLetterSink {
  public readonly dlq: { body: string; reason: DeadLetterReason }[] = [];
  public readonly delays = new Map<string, number>();

  public async send(body: string, reason: DeadLetterReason): Promise<void> {
    this.dlq.push({ body, reason });
  }

  public deps(links: DynamoLinkStore, connector: Connector, over: Partial<WriteDeps> = {}): WriteDeps {
    return {
      links,
      connector,
      deadLetters: this,
      delay: async (receiptHandle, seconds) => {
        this.delays.set(receiptHandle, seconds);
      },
      now: Date.now,
      newToken: randomUUID,
      backoff: (n, after) => Math.max(after ?? 0, n),
      ...over,
    };
  }
}

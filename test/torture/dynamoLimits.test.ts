import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStack } from '../../local/LocalStack.ts';
import type { Row } from '../../shared/config/schema.ts';
import { validateConfig } from '../../shared/config/validateConfig.ts';
import type { UpsertRecord, UpsertResult } from '../../shared/connectors/Connector.ts';
import { TargetError } from '../../shared/errors.ts';
import { isHashedKey, linkPk, MAX_KEY_BYTES } from '../../shared/links/linkKeys.ts';
import { linkOf, linksByTarget } from '../../shared/ops/links.ts';
import type { OpsContext } from '../../shared/ops/OpsContext.ts';
import { encodeSourceKey } from '../../shared/util/sourceKey.ts';
import { localOpsContext } from '../helpers/localOpsContext.ts';
import { MemoryTarget } from '../helpers/MemoryTarget.ts';

/**
 * DynamoDB's limits as AWS enforces them (a partition key of at most 2048 bytes, an item of at
 * most 400 KB), with source keys and target answers that pass them. Through the whole pipeline:
 * embedded Postgres → extract → SQS → writer → target, links in the emulator (dynalite, and
 * DynamoDB Local in the dynamodb-local test project). Each case asserts what a user checks: the
 * record is written once, `writeback links` finds it by its full key, a second run writes nothing.
 */

/** A target whose answer to one record is a 1 MB validation report (a permanent refusal). */
const HUGE_ERROR = `validation failed: ${'the value is not acceptable; '.repeat(36_000)}`;
class RefusingTarget extends MemoryTarget {
  public override async upsertBatch(
    object: string,
    records: readonly UpsertRecord[],
  ): Promise<UpsertResult[]> {
    const refused = records.filter((r) => r.payload.name === 'refuse me');
    const results = await super.upsertBatch(
      object,
      records.filter((r) => !refused.includes(r)),
    );
    const error = new TargetError('TARGET_REFUSED', HUGE_ERROR, {
      disposition: 'permanent',
      httpStatus: 422,
    });
    return [...results, ...refused.map((r) => ({ key: r.key, ok: false as const, error }))];
  }
}

const SYNC = 'dynamo-keys';
const COMPOSITE = 'dynamo-composite';
/** A key whose link item key `dynamo-keys#<key>` is exactly `bytes` long. */
const keyOfItemKeyBytes = (bytes: number) => 'b'.repeat(bytes - `${SYNC}#`.length);

const KEYS: Record<string, string> = {
  'a 3 KB key': `long-${'k'.repeat(2995)}`,
  'a key at the 2048-byte boundary': keyOfItemKeyBytes(MAX_KEY_BYTES),
  'a key one byte past it': keyOfItemKeyBytes(MAX_KEY_BYTES + 1),
  'a key of 600 emoji (2400 bytes)': '\u{1F511}'.repeat(600),
  'a key with # and quotes': `a#b"c'd`,
  'a key with a newline': 'line 1\nline 2',
  'a key with emoji': 'key \u{1F600}',
  'a key spelled like a hashed one': `~sha256:${'A'.repeat(43)}`,
};
const REFUSED_KEY = `refused-${'r'.repeat(3000)}`;
const LONG_PART = 'p'.repeat(2500);

describe('Torture: DynamoDB key and item limits', () => {
  let stack: LocalStack;
  let ops: OpsContext;
  const targets = new Map<string, RefusingTarget>();
  const config = validateConfig({
    connections: { copy: { type: 'postgres' } },
    syncs: [
      {
        name: SYNC,
        source: { table: 'src.dynamo_keys', key: 'id', cursor: 'at' },
        target: { connection: 'copy', object: 'keys', externalId: 'item_id' },
        map: (row: Row) => ({ name: row.name }),
      },
      {
        name: COMPOSITE,
        source: { table: 'src.dynamo_composite', key: ['region', 'id'], cursor: 'at' },
        target: { connection: 'copy', object: 'composite', externalId: 'item_id' },
        map: (row: Row) => ({ name: row.name }),
      },
    ],
  });
  const target = (sync: string) => targets.get(sync)!;

  beforeAll(async () => {
    stack = await LocalStack.start({
      config,
      wrapConnector: (sync) => {
        const t = new RefusingTarget({ mode: 'native' });
        targets.set(sync.name, t);
        return t;
      },
    });
    await stack.dwh`create schema if not exists src`;
    // No index on the key: Postgres's btree refuses entries over 2704 bytes.
    await stack.dwh`create table src.dynamo_keys (id text not null, name text, at timestamptz not null)`;
    await stack.dwh`create index on src.dynamo_keys (at)`;
    await stack.dwh`create table src.dynamo_composite (region text not null, id text not null, name text, at timestamptz not null)`;
    await stack.dwh`create index on src.dynamo_composite (at)`;
    for (const key of Object.values(KEYS))
      await stack.dwh`insert into src.dynamo_keys values (${key}, 'A', now())`;
    await stack.dwh`insert into src.dynamo_keys values (${REFUSED_KEY}, 'refuse me', now())`;
    await stack.dwh`insert into src.dynamo_composite values ('eu', ${LONG_PART}, 'A', now()), ('eu', 'short', 'A', now())`;
    ops = localOpsContext(stack, config);
    stack.startWriters();
    for (const s of [SYNC, COMPOSITE]) await stack.runExtract(s);
    await stack.drain();
  });
  afterAll(async () => {
    await ops?.close();
    await stack?.stop();
  });

  it('hashes exactly the keys that would not fit', () => {
    expect(
      Object.fromEntries(Object.entries(KEYS).map(([name, key]) => [name, isHashedKey(linkPk(SYNC, key))])),
    ).toEqual({
      'a 3 KB key': true,
      'a key at the 2048-byte boundary': false,
      'a key one byte past it': true,
      'a key of 600 emoji (2400 bytes)': true,
      'a key with # and quotes': false,
      'a key with a newline': false,
      'a key with emoji': false,
      'a key spelled like a hashed one': false,
    });
  });

  it.each(Object.entries(KEYS))(
    'writes %s once, and `links` finds it by its full key',
    async (_name, key) => {
      // Assess: one record in the target
      const records = target(SYNC).byExternalId(key);
      expect(records).toHaveLength(1);
      expect(records[0]!.fields.name).toBe('A');
      // …and the operator's look-ups: by source key, and back from the target id
      const link = await linkOf(ops, SYNC, key);
      expect(link).toMatchObject({ key, status: 'ok', targetId: records[0]!.targetId });
      expect((await linksByTarget(ops, SYNC, records[0]!.targetId)).map((l) => l.key)).toEqual([key]);
    },
  );

  it('writes a composite key with a 2.5 KB part once, found by its encoded key', async () => {
    for (const part of [LONG_PART, 'short']) {
      const key = encodeSourceKey(['eu', part]);
      expect(target(COMPOSITE).byExternalId(key)).toHaveLength(1);
      expect(await linkOf(ops, COMPOSITE, key)).toMatchObject({ key, status: 'ok' });
    }
  });

  it('keeps a 1 MB target error as 4 KB on the link and sends the record to the DLQ with its code', async () => {
    const link = await linkOf(ops, SYNC, REFUSED_KEY);
    expect(link).toMatchObject({
      key: REFUSED_KEY,
      status: 'failed',
      lastError: { code: 'TARGET_REFUSED', httpStatus: 422 },
    });
    expect(Buffer.byteLength(link!.lastError!.message)).toBeLessThanOrEqual(4096);
    expect(link!.lastError!.message).toMatch(/^validation failed: .*… \[truncated, \d+ bytes\]$/s);
    expect((await stack.queueDepth(SYNC)).dlq).toBe(1);
    expect(target(SYNC).byExternalId(REFUSED_KEY)).toHaveLength(0);
  });

  it('writes nothing on a second run: every key is found unchanged through its link', async () => {
    // Prepare
    const calls = [SYNC, COMPOSITE].map((s) => target(s).calls.upsert);
    // Act: read every row again from the start (as a changed mapping or `writeback reset` would)
    for (const s of [SYNC, COMPOSITE]) await stack.state.resetBookmark(s, undefined);
    const runs = [await stack.runExtract(SYNC), await stack.runExtract(COMPOSITE)];
    await stack.drain();
    // Assess
    expect(runs.map((r) => r.counts.read)).toEqual([Object.keys(KEYS).length + 1, 2]);
    expect(runs.map((r) => r.counts.enqueued)).toEqual([0, 0]);
    expect(runs.map((r) => r.counts.unchanged)).toEqual([Object.keys(KEYS).length + 1, 2]);
    expect([SYNC, COMPOSITE].map((s) => target(s).calls.upsert)).toEqual(calls);
  });
});

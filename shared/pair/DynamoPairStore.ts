import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { LinkStoreUnavailableError } from '../errors.ts';
import { boundedKey, linkPk, targetRef } from '../links/linkKeys.ts';
import { isConditionFailed, N, num, S, str } from '../util/attr.ts';
import { chunks } from '../util/chunks.ts';
import { MIRROR_HASH, type PairEntity, type PairStore, type PairWrite } from './PairStore.ts';

const BATCH_GET_MAX = 100;
/** Prefix of an agreed field value's attribute: one top-level attribute per field, so two writers of different fields never overwrite each other. */
const FIELD = 'f_';

/** The key of a pair's entity item: `~pair#<pair>#<entity>` (hashed when too long, like links). */
export function pairEntityPk(pair: string, entity: string): string {
  return boundedKey(`~pair#${pair}`, entity);
}

/** The pair store in the link table (PairStore port): one item per entity, plus the partner's links. */
export class DynamoPairStore implements PairStore {
  private readonly ddb: DynamoDBClient;
  private readonly table: string;

  public constructor(ddb: DynamoDBClient, table: string) {
    this.ddb = ddb;
    this.table = table;
  }

  public async batchGet(pair: string, entities: readonly string[]): Promise<Map<string, PairEntity>> {
    const out = new Map<string, PairEntity>();
    for (const chunk of chunks([...new Set(entities)], BATCH_GET_MAX)) {
      let keys: Record<string, AttributeValue>[] | undefined = chunk.map((e) => ({
        pk: S(pairEntityPk(pair, e)),
      }));
      for (let attempt = 0; keys && keys.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
        if (attempt > 8) throw new LinkStoreUnavailableError('BatchGetItem kept returning unprocessed keys');
        const res: BatchGetItemCommandOutput = await this.ddb.send(
          new BatchGetItemCommand({ RequestItems: { [this.table]: { Keys: keys } } }),
        );
        for (const item of res.Responses?.[this.table] ?? []) {
          const entity = toEntity(item);
          out.set(entity.entity, entity);
        }
        keys = res.UnprocessedKeys?.[this.table]?.Keys;
      }
    }
    return out;
  }

  public async recordWrite(w: PairWrite): Promise<void> {
    await this.linkPartner(w);
    const names: Record<string, string> = { '#b': 'b', '#w': w.into === 'a' ? 'wa' : 'wb' };
    const values: Record<string, AttributeValue> = {
      ':e': S(w.entity),
      ':b': S(w.b),
      ':now': N(w.now),
      ':iso': S(new Date(w.now).toISOString()),
    };
    const sets = ['entity = :e', '#b = :b', '#w = :now', 'updatedAt = :iso'];
    for (const [i, [field, value]] of Object.entries(w.agreed).entries()) {
      names[`#f${i}`] = `${FIELD}${field}`;
      values[`:f${i}`] = value === null ? { NULL: true } : S(value);
      sets.push(`#f${i} = :f${i}`);
    }
    await this.ddb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { pk: S(pairEntityPk(w.pair, w.entity)) },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  /**
   * The partner's link for the record written (its source key is that record's id in the app
   * written), made only when it has none: status ok with the record read as its target id, so the
   * partner updates that record and never creates another. Its hash is no payload's: the partner's
   * first row of it is judged by the pair's comparison, not skipped as unchanged.
   */
  private async linkPartner(w: PairWrite): Promise<void> {
    const iso = new Date(w.now).toISOString();
    try {
      await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: S(linkPk(w.partner, w.writtenId)) },
          ConditionExpression: 'attribute_not_exists(pk)',
          UpdateExpression:
            'SET #sync = :sync, skey = :key, #status = :ok, targetId = :tid, targetRef = :ref, #hash = :h, attempts = :zero, createdAt = :iso, updatedAt = :iso',
          ExpressionAttributeNames: { '#sync': 'sync', '#status': 'status', '#hash': 'hash' },
          ExpressionAttributeValues: {
            ':sync': S(w.partner),
            ':key': S(w.writtenId),
            ':ok': S('ok'),
            ':tid': S(w.readId),
            ':ref': S(targetRef(w.partner, w.readId)),
            ':h': S(MIRROR_HASH),
            ':zero': N(0),
            ':iso': S(iso),
          },
        }),
      );
    } catch (err) {
      // The partner has its link already (it wrote the record, or an earlier delivery linked it).
      if (!isConditionFailed(err)) throw err;
    }
  }
}

function toEntity(item: Record<string, AttributeValue>): PairEntity {
  const base: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(item)) {
    if (!name.startsWith(FIELD)) continue;
    base[name.slice(FIELD.length)] = 'S' in value && value.S !== undefined ? value.S : null;
  }
  return {
    entity: str(item, 'entity') ?? '',
    b: str(item, 'b'),
    base,
    writtenAt: { a: num(item, 'wa'), b: num(item, 'wb') },
  };
}

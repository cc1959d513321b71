import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { gateKeys, gateOf } from '../links/DynamoTargetHealthStore.ts';
import type { RunGate } from '../links/LinkStore.ts';
import { batchGetItems } from '../util/batchGetItems.ts';
import { stateItemKey, stateOf } from './DynamoStateStore.ts';
import type { RunStartReader, SyncState } from './StateStore.ts';

/**
 * Both in one strongly consistent BatchGetItem over the two tables: the sync's state item and, in
 * the link table, its redrive flag and auth outage. A quiet run so makes one DynamoDB request
 * (and one SQL statement), where the two stores' own reads make two. Keys DynamoDB leaves
 * unprocessed are asked again a few times; a state still unread is then read on its own, a gate
 * still unread counts as flagged (gateOf).
 */
export class DynamoRunStartReader implements RunStartReader {
  private readonly ddb: DynamoDBClient;
  private readonly stateTable: string;
  private readonly linksTable: string;

  public constructor(ddb: DynamoDBClient, tables: { state: string; links: string }) {
    this.ddb = ddb;
    this.stateTable = tables.state;
    this.linksTable = tables.links;
  }

  public async read(sync: string): Promise<{ state: SyncState; gate: RunGate }> {
    const { items, unread } = await batchGetItems(this.ddb, {
      [this.stateTable]: { Keys: [stateItemKey(sync)], ConsistentRead: true },
      [this.linksTable]: { Keys: gateKeys(sync), ConsistentRead: true },
    });
    let stateItem = items[this.stateTable]?.[0];
    if (unread?.[this.stateTable]) {
      const { Item } = await this.ddb.send(
        new GetItemCommand({ TableName: this.stateTable, Key: stateItemKey(sync), ConsistentRead: true }),
      );
      stateItem = Item;
    }
    return {
      state: stateOf(stateItem),
      gate: gateOf(sync, items[this.linksTable] ?? [], unread?.[this.linksTable] !== undefined),
    };
  }
}

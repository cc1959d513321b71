import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { gateKeys, gateOf } from '../links/DynamoTargetHealthStore.ts';
import type { RunGate } from '../links/LinkStore.ts';
import { stateItemKey, stateOf } from './DynamoStateStore.ts';
import type { RunStartReader, SyncState } from './StateStore.ts';

type Request = Record<string, { Keys: Record<string, AttributeValue>[]; ConsistentRead: boolean }>;

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
    let stateItem: Record<string, AttributeValue> | undefined;
    const gateItems: Record<string, AttributeValue>[] = [];
    let request: Request | undefined = {
      [this.stateTable]: { Keys: [stateItemKey(sync)], ConsistentRead: true },
      [this.linksTable]: { Keys: gateKeys(sync), ConsistentRead: true },
    };
    for (let attempt = 0; request && Object.keys(request).length > 0 && attempt < 5; attempt++) {
      const res = await this.ddb.send(new BatchGetItemCommand({ RequestItems: request }));
      stateItem ??= res.Responses?.[this.stateTable]?.[0];
      gateItems.push(...(res.Responses?.[this.linksTable] ?? []));
      request = res.UnprocessedKeys as Request | undefined;
    }
    if (request?.[this.stateTable]) {
      const { Item } = await this.ddb.send(
        new GetItemCommand({ TableName: this.stateTable, Key: stateItemKey(sync), ConsistentRead: true }),
      );
      stateItem = Item;
    }
    return {
      state: stateOf(stateItem),
      gate: gateOf(sync, gateItems, request?.[this.linksTable] !== undefined),
    };
  }
}

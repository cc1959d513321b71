import {
  type AttributeValue,
  type BatchGetItemCommandInput,
  type BatchGetItemCommandOutput,
  DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  type GetItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { DynamoLinkStore } from '../../shared/links/DynamoLinkStore.ts';
import { linkPk } from '../../shared/links/linkKeys.ts';
import { isConditionFailed } from '../../shared/util/attr.ts';

/**
 * DynamoDB's eventual consistency, which no emulator shows: a link store whose eventually
 * consistent reads (BatchGetItem and GetItem without ConsistentRead) of frozen keys return those
 * items as they were when frozen, while strongly consistent reads and every write see the table
 * as it is, as on AWS shortly after a write. A middleware on the store's own client; the table is
 * untouched.
 *
 * `afterBatchGet` runs after a BatchGetItem has read the table and before its caller sees the
 * answer: a test makes another writer change a link right there (a race between a read and the
 * conditional write that follows it). `afterRefusal` runs once the store has learned why DynamoDB
 * refused its next conditional write, before it acts on the reason: right after the refusal when
 * the engine returned the item with it (DynamoDB, DynamoDB Local), or after the GetItem that
 * re-reads it (dynalite, which returns none).
 */
export class StaleReads {
  public readonly links: DynamoLinkStore;
  /** Eventually consistent reads served from the snapshot (for the test to check the injection). */
  public served = 0;
  /** Called once after the next BatchGetItem (then cleared). */
  public afterBatchGet: (() => Promise<void>) | undefined;
  /** Called once after the next refused conditional write's reason is known (then cleared). */
  public afterRefusal: (() => Promise<void>) | undefined;
  /** A refusal came without the item: the hook waits for the store's re-read. */
  private refusalAwaitsRead = false;
  /** The store's own client (with the middleware), for a store of another class. */
  public readonly client: DynamoDBClient;
  private readonly table: string;
  /** pk → the item when frozen (undefined: it did not exist). */
  private readonly snapshot = new Map<string, Record<string, AttributeValue> | undefined>();

  public constructor(endpoint: string, table: string) {
    this.table = table;
    this.client = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        let result: Awaited<ReturnType<typeof next>>;
        try {
          result = await next(args);
        } catch (err) {
          if (context.commandName === 'UpdateItemCommand' && isConditionFailed(err) && this.afterRefusal) {
            if ((err as { Item?: unknown }).Item) await this.runRefusalHook();
            else this.refusalAwaitsRead = true;
          }
          throw err;
        }
        if (context.commandName === 'BatchGetItemCommand') {
          this.staleBatch(args.input as BatchGetItemCommandInput, result.output as BatchGetItemCommandOutput);
          const hook = this.afterBatchGet;
          this.afterBatchGet = undefined;
          await hook?.();
        } else if (context.commandName === 'GetItemCommand') {
          this.staleGet(args.input as GetItemCommandInput, result.output as GetItemCommandOutput);
          if (this.refusalAwaitsRead) await this.runRefusalHook();
        }
        return result;
      },
      { step: 'initialize', name: 'staleReads' },
    );
    this.links = new DynamoLinkStore(this.client, table);
  }

  /** From now on, eventually consistent reads of these keys return their links as they are now. */
  public async freeze(sync: string, keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const pk = linkPk(sync, key);
      const { Item } = await this.client.send(
        new GetItemCommand({ TableName: this.table, Key: { pk: { S: pk } }, ConsistentRead: true }),
      );
      this.snapshot.set(pk, Item);
    }
  }

  private async runRefusalHook(): Promise<void> {
    const hook = this.afterRefusal;
    this.afterRefusal = undefined;
    this.refusalAwaitsRead = false;
    await hook?.();
  }

  /** Reads catch up (replication done). */
  public thaw(): void {
    this.snapshot.clear();
  }

  public destroy(): void {
    this.client.destroy();
  }

  private staleBatch(input: BatchGetItemCommandInput, output: BatchGetItemCommandOutput): void {
    const request = input.RequestItems?.[this.table];
    if (!request || request.ConsistentRead) return;
    const requested = new Set(request.Keys?.map((k) => k.pk?.S ?? ''));
    const fresh = output.Responses?.[this.table] ?? [];
    const items = fresh.filter((item) => !this.snapshot.has(item.pk?.S ?? ''));
    for (const [pk, item] of this.snapshot) {
      if (!requested.has(pk)) continue;
      this.served++;
      if (item) items.push(item);
    }
    output.Responses = { ...output.Responses, [this.table]: items };
  }

  private staleGet(input: GetItemCommandInput, output: GetItemCommandOutput): void {
    const pk = input.Key?.pk?.S ?? '';
    if (input.TableName !== this.table || input.ConsistentRead || !this.snapshot.has(pk)) return;
    this.served++;
    output.Item = this.snapshot.get(pk);
  }
}

import { randomUUID } from 'node:crypto';
import { type LocalEmulators, startLocalEmulators } from '../../local/LocalEmulators.ts';
import { type LocalResources, provisionLocal } from '../../local/provisionLocal.ts';
import { type AwsClients, createAwsClients } from '../../shared/aws/awsClients.ts';
import type { SyncConfig } from '../../shared/config/schema.ts';
import { DynamoLinkStore } from '../../shared/links/DynamoLinkStore.ts';

/** The DynamoDB and SQS emulators with a fresh link table (and queues for `syncs`): no Postgres. */
export interface EmulatorFixture {
  readonly emulators: LocalEmulators;
  readonly aws: AwsClients;
  readonly resources: LocalResources;
  readonly links: DynamoLinkStore;
  stop(): Promise<void>;
}

export async function startEmulatorFixture(syncs: readonly SyncConfig[] = []): Promise<EmulatorFixture> {
  const emulators = await startLocalEmulators({ inProcess: true });
  const aws = createAwsClients({ dynamodb: emulators.dynamodbEndpoint, sqs: emulators.sqsEndpoint });
  const resources = await provisionLocal(aws, `t${randomUUID().slice(0, 8)}`, syncs);
  return {
    emulators,
    aws,
    resources,
    links: new DynamoLinkStore(aws.ddb, resources.linksTable),
    stop: async () => {
      aws.ddb.destroy();
      aws.sqs.destroy();
      await emulators.stop();
    },
  };
}

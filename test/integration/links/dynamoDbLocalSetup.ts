import { startDynamoDbLocal } from '../../../local/DynamoDbLocal.ts';

/**
 * Global setup of the `dynamodb-local` test project: one DynamoDB Local for all its files (each
 * test file makes tables of its own), so the JVM starts and warms up once.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const server = await startDynamoDbLocal();
  process.env.WB_DYNAMODB_ENDPOINT = server.endpoint;
  return async () => {
    delete process.env.WB_DYNAMODB_ENDPOINT;
    await server.stop();
  };
}

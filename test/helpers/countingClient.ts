import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * A DynamoDB client of the emulator that records the name of every command it sends (`Query`,
 * `Scan`…): a test counts the pages a store's paginators read, and waits for `inFlight()` to reach
 * 0 before it counts what a stopped reader left running.
 */
export function countingClient(endpoint: string): {
  client: DynamoDBClient;
  calls: string[];
  inFlight: () => number;
} {
  const calls: string[] = [];
  let inFlight = 0;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push((context.commandName ?? '').replace(/Command$/, ''));
      inFlight++;
      try {
        return await next(args);
      } finally {
        inFlight--;
      }
    },
    { step: 'initialize', name: 'countCalls' },
  );
  return { client, calls, inFlight: () => inFlight };
}

/** How many of `calls` are `name`. */
export function callsOf(calls: readonly string[], name: string): number {
  return calls.filter((c) => c === name).length;
}

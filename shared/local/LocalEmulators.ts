import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';

export interface LocalEmulators {
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  stop(): Promise<void>;
}

/** Starts the DynamoDB (dynalite, in memory) and SQS (fauxqs) emulators on free loopback ports. */
export async function startLocalEmulators(): Promise<LocalEmulators> {
  const ddbServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    ddbServer.once('error', reject);
    ddbServer.listen(0, '127.0.0.1', () => resolve());
  });
  const sqs = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  const { port } = ddbServer.address() as AddressInfo;
  return {
    dynamodbEndpoint: `http://127.0.0.1:${port}`,
    sqsEndpoint: sqs.address,
    stop: async () => {
      await Promise.all([
        new Promise<void>((r) => {
          ddbServer.closeAllConnections?.();
          ddbServer.close(() => r());
        }),
        sqs.stop(),
      ]);
    },
  };
}

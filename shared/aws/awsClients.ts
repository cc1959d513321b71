import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

export interface AwsClients {
  readonly ddb: DynamoDBClient;
  readonly sqs: SQSClient;
  /** Claim checks: message bodies too large for SQS. */
  readonly s3: S3Client;
}

/**
 * The most calls one handler invocation can have in flight to one AWS service, were its widest
 * stages all to overlap: the writer's link claims and commits (LINK_CONCURRENCY, 16), the
 * extract's link reads (8 BatchGetItem at a time) beside its touches of unchanged links (16), and
 * the enqueuer's 8 SendMessageBatch calls with their claim-check uploads: 48, rounded up. The
 * SDK's default agent holds 50 sockets per client; a request beyond them waits in the agent's
 * queue, and the SDK prints `socket usage at capacity` into the process's output.
 */
export const AWS_CALLS_PER_INVOCATION = 64;

export interface AwsClientOptions {
  /**
   * Handler invocations that share these clients at once: 1 in a Lambda container (one invocation
   * at a time), every writer and extract of every sync in the local runtime's one process.
   * @default 1
   */
  readonly invocations?: number;
}

export interface AwsEndpoints {
  readonly dynamodb?: string;
  readonly sqs?: string;
  /** The local SQS emulator serves S3 on its own endpoint. */
  readonly s3?: string;
  readonly region?: string;
}

/**
 * The AWS SDK clients, created once per container (or per local stack) and injected everywhere.
 * With endpoints, they talk to the local emulators with throwaway credentials; without, to AWS
 * with the default credential chain.
 */
export function createAwsClients(endpoints: AwsEndpoints = {}, opts: AwsClientOptions = {}): AwsClients {
  const local = endpoints.dynamodb !== undefined || endpoints.sqs !== undefined || endpoints.s3 !== undefined;
  const maxSockets = AWS_CALLS_PER_INVOCATION * Math.max(1, opts.invocations ?? 1);
  const common = {
    region: endpoints.region ?? (local ? 'us-east-1' : undefined),
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    maxAttempts: 4,
  };
  // Agents of our own per client (each service its own sockets), sized for the invocations served.
  const http = () => ({
    requestHandler: {
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
    },
  });
  return {
    ddb: new DynamoDBClient({
      ...common,
      ...http(),
      ...(endpoints.dynamodb ? { endpoint: endpoints.dynamodb } : {}),
    }),
    // The endpoint must be given to the client itself: with only AWS_ENDPOINT_URL_SQS the SDK sends to the queue URL's host.
    sqs: new SQSClient({ ...common, ...http(), ...(endpoints.sqs ? { endpoint: endpoints.sqs } : {}) }),
    // An emulator has no per-bucket host names: path-style URLs (http://host:port/bucket/key).
    s3: new S3Client({
      ...common,
      ...http(),
      ...(endpoints.s3 ? { endpoint: endpoints.s3, forcePathStyle: true } : {}),
    }),
  };
}

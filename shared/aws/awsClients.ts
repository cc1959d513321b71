import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

export interface AwsClients {
  readonly ddb: DynamoDBClient;
  readonly sqs: SQSClient;
  /** Claim checks: message bodies too large for SQS. */
  readonly s3: S3Client;
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
export function createAwsClients(endpoints: AwsEndpoints = {}): AwsClients {
  const local = endpoints.dynamodb !== undefined || endpoints.sqs !== undefined || endpoints.s3 !== undefined;
  const common = {
    region: endpoints.region ?? (local ? 'us-east-1' : undefined),
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    maxAttempts: 4,
  };
  return {
    ddb: new DynamoDBClient({ ...common, ...(endpoints.dynamodb ? { endpoint: endpoints.dynamodb } : {}) }),
    // The endpoint must be given to the client itself: with only AWS_ENDPOINT_URL_SQS the SDK sends to the queue URL's host.
    sqs: new SQSClient({ ...common, ...(endpoints.sqs ? { endpoint: endpoints.sqs } : {}) }),
    // An emulator has no per-bucket host names: path-style URLs (http://host:port/bucket/key).
    s3: new S3Client({
      ...common,
      ...(endpoints.s3 ? { endpoint: endpoints.s3, forcePathStyle: true } : {}),
    }),
  };
}

import type { LocalStack } from '../../local/LocalStack.ts';
import { localStateOf } from '../../local/LocalStateFile.ts';
import { createAwsClients } from '../../shared/aws/awsClients.ts';
import type { WritebackConfig } from '../../shared/config/schema.ts';
import { OpsContext } from '../../shared/ops/OpsContext.ts';

/** What the operator CLI opens against a running local stack, for a given config (close it after). */
export function localOpsContext(stack: LocalStack, config: WritebackConfig): OpsContext {
  const local = localStateOf(stack, 'unused');
  return new OpsContext({
    config,
    kind: 'local',
    description: 'test stack',
    resources: {
      stateTable: local.stateTable,
      linksTable: local.linksTable,
      syncs: Object.fromEntries(
        Object.entries(local.queues).map(([n, q]) => [n, { queueUrl: q.url, dlqUrl: q.dlqUrl }]),
      ),
      ...(local.claimCheckBucket ? { claimCheckBucket: local.claimCheckBucket } : {}),
    },
    aws: createAwsClients({
      dynamodb: stack.emulators.dynamodbEndpoint,
      sqs: stack.emulators.sqsEndpoint,
      s3: stack.emulators.s3Endpoint,
    }),
    local,
  });
}

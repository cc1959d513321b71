import type { LocalStateFile } from '../shared/contracts/localStateFile.ts';
import type { LocalStack } from './LocalStack.ts';

/** The state file describing a started LocalStack, owned by process `pid`. */
export function localStateOf(stack: LocalStack, hubspotToken: string, pid = process.pid): LocalStateFile {
  return {
    pid,
    dwhUrl: stack.pg.url('dwh'),
    billingUrl: stack.pg.url('billing'),
    hubspotUrl: stack.hubspot.url,
    hubspotToken,
    xero: { url: stack.xero.url, accessToken: stack.xero.accessToken, tenantId: stack.xero.tenantId },
    connections: Object.fromEntries(
      Object.keys(stack.config.connections).map((c) => [c, stack.credentials(c)]),
    ),
    dynamodbEndpoint: stack.emulators.dynamodbEndpoint,
    sqsEndpoint: stack.emulators.sqsEndpoint,
    s3Endpoint: stack.emulators.s3Endpoint,
    ...(stack.resources.claimCheckBucket ? { claimCheckBucket: stack.resources.claimCheckBucket } : {}),
    stateTable: stack.resources.stateTable,
    linksTable: stack.resources.linksTable,
    queues: Object.fromEntries(
      Object.entries(stack.resources.queues).map(([k, q]) => [k, { url: q.url, dlqUrl: q.dlqUrl }]),
    ),
  };
}

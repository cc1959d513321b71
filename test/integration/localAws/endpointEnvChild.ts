/**
 * Run by endpointEnv.test.ts in a fresh `node` process whose environment holds only the SDK's
 * standard settings (AWS_ENDPOINT_URL_<SERVICE>, region, keys): every client here is built with
 * no endpoint option, as the bundled functions and the operator CLI build theirs. Prints one
 * JSON line with what each service answered.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

const functionArn = process.argv[2] ?? '';
const secrets = new SecretsManagerClient({});
const lambda = new LambdaClient({});
const cfn = new CloudFormationClient({});
const sts = new STSClient({});

const secret = await secrets.send(new GetSecretValueCommand({ SecretId: 'writeback/demo' }));
// Powertools builds its own client when given none, as a function's secret reader may.
const viaPowertools = await new SecretsProvider().get('writeback/demo');
const event = await lambda.send(
  new InvokeCommand({
    FunctionName: functionArn,
    InvocationType: 'Event',
    Payload: Buffer.from('{"continue":1}'),
  }),
);
const sync = await lambda.send(
  new InvokeCommand({ FunctionName: functionArn, Payload: Buffer.from('{"n":2}') }),
);
const stacks = await cfn.send(new DescribeStacksCommand({ StackName: 'Writeback' }));
const who = await sts.send(new GetCallerIdentityCommand({}));

process.stdout.write(
  `${JSON.stringify({
    secret: secret.SecretString,
    viaPowertools,
    eventStatus: event.StatusCode,
    syncPayload: new TextDecoder().decode(sync.Payload),
    outputs: stacks.Stacks?.[0]?.Outputs,
    caller: who.Arn,
    node: process.versions.node,
    endpointVariables: Object.keys(process.env)
      .filter((k) => k.startsWith('AWS_ENDPOINT_URL'))
      .sort(),
  })}\n`,
);
for (const client of [secrets, lambda, cfn, sts]) client.destroy();

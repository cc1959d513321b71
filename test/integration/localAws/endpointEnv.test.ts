import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCloudFormation } from '../../../local/aws/LocalCloudFormation.ts';
import { LocalLambda } from '../../../local/aws/LocalLambda.ts';
import { LocalSecretsManager } from '../../../local/aws/LocalSecretsManager.ts';
import { LocalSts } from '../../../local/aws/LocalSts.ts';

const CHILD = fileURLToPath(new URL('./endpointEnvChild.ts', import.meta.url));
const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:111122223333:function:writeback-extract';
const CALLER = 'arn:aws:sts::111122223333:assumed-role/WritebackOperator/ci';

/** Runs `node <script> <args>` with exactly `env`, and resolves to its stdout once it exits 0. */
function runNode(script: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      err += c;
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`)),
    );
  });
}

describe('Local AWS endpoints are reached through the SDK standard AWS_ENDPOINT_URL_<SERVICE> variables', () => {
  const invocations: { type: string; event: string }[] = [];
  const secrets = new LocalSecretsManager({
    region: 'eu-west-1',
    accountId: '111122223333',
    secrets: [{ name: 'writeback/demo', value: '{"token":"t-1"}' }],
  });
  const lambda = new LocalLambda({
    functions: [{ name: 'writeback-extract', arn: FUNCTION_ARN }],
    invoke: async (_arn, payload, type) => {
      invocations.push({ type, event: new TextDecoder().decode(payload) });
      return { payload: new TextEncoder().encode('"done"') };
    },
  });
  const cfn = new LocalCloudFormation({
    region: 'eu-west-1',
    accountId: '111122223333',
    stacks: [
      { stackName: 'Writeback', outputs: [{ OutputKey: 'StateTableName', OutputValue: 'Writeback-State' }] },
    ],
  });
  const sts = new LocalSts({ identities: { AKIDCHILD: { arn: CALLER, userId: 'AROAEXAMPLE:ci' } } });
  const env: Record<string, string> = {};

  beforeAll(async () => {
    const [sm, la, cf, st] = await Promise.all([secrets.start(), lambda.start(), cfn.start(), sts.start()]);
    Object.assign(env, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm,
      AWS_ENDPOINT_URL_LAMBDA: la,
      AWS_ENDPOINT_URL_CLOUDFORMATION: cf,
      AWS_ENDPOINT_URL_STS: st,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDCHILD',
      AWS_SECRET_ACCESS_KEY: 'not-a-secret',
    });
  });
  afterAll(async () => {
    await lambda.idle();
    await Promise.all([secrets.stop(), lambda.stop(), cfn.stop(), sts.stop()]);
  });

  it('a Node 24 child with only those variables set reaches each local service with clients built with no endpoint', async () => {
    const out = await runNode(CHILD, [FUNCTION_ARN], env);
    await lambda.idle();

    const answered = JSON.parse(out) as { node: string };
    expect(answered.node).toMatch(/^24\./);
    expect(answered).toEqual({
      node: answered.node,
      endpointVariables: [
        'AWS_ENDPOINT_URL_CLOUDFORMATION',
        'AWS_ENDPOINT_URL_LAMBDA',
        'AWS_ENDPOINT_URL_SECRETS_MANAGER',
        'AWS_ENDPOINT_URL_STS',
      ],
      secret: '{"token":"t-1"}',
      viaPowertools: '{"token":"t-1"}',
      eventStatus: 202,
      syncPayload: '"done"',
      outputs: [{ OutputKey: 'StateTableName', OutputValue: 'Writeback-State' }],
      caller: CALLER,
    });
    expect(invocations).toEqual(
      expect.arrayContaining([
        { type: 'Event', event: '{"continue":1}' },
        { type: 'RequestResponse', event: '{"n":2}' },
      ]),
    );
    expect(invocations).toHaveLength(2);
  });
});

import { GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assumedRoleIdentity, LocalSts } from '../../../local/aws/LocalSts.ts';
import { awsActor } from '../../../shared/ops/actor.ts';

const ALICE = 'arn:aws:sts::111122223333:assumed-role/WritebackOperator/alice@example.com';
const BOB = 'arn:aws:iam::444455556666:user/bob';

describe('LocalSts (GetCallerIdentity over the Query protocol, through the real SDK client)', () => {
  const local = new LocalSts({
    identities: {
      AKIDALICE: { arn: ALICE, userId: 'AROAEXAMPLEROLE:alice@example.com' },
      AKIDBOB: { arn: BOB, userId: 'AIDAEXAMPLEBOB' },
    },
  });
  let endpoint: string;
  const clients: STSClient[] = [];
  const sts = (accessKeyId: string): STSClient => {
    const client = new STSClient({
      endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId, secretAccessKey: 'not-a-secret' },
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    endpoint = await local.start();
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await local.stop();
  });

  it("answers the identity of the access key the request is signed with, and the ARN's account", async () => {
    const alice = await sts('AKIDALICE').send(new GetCallerIdentityCommand({}));
    const bob = await sts('AKIDBOB').send(new GetCallerIdentityCommand({}));

    expect(alice).toMatchObject({
      Arn: ALICE,
      UserId: 'AROAEXAMPLEROLE:alice@example.com',
      Account: '111122223333',
    });
    expect(bob).toMatchObject({ Arn: BOB, UserId: 'AIDAEXAMPLEBOB', Account: '444455556666' });
  });

  it('an unknown access key is InvalidClientTokenId, HTTP 403', async () => {
    let caught: unknown;
    try {
      await sts('AKIDNOBODY').send(new GetCallerIdentityCommand({}));
    } catch (err) {
      caught = err;
    }

    const err = caught as STSServiceException;
    expect(err).toBeInstanceOf(STSServiceException);
    expect(err.name).toBe('InvalidClientTokenId');
    expect(err.message).toBe('The security token included in the request is invalid.');
    expect(err.$metadata.httpStatusCode).toBe(403);
  });

  it("serves the operator CLI's awsActor (shared/ops/actor.ts), which records who acted on a stack", async () => {
    const actor = await awsActor({
      endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDALICE', secretAccessKey: 'not-a-secret' },
    });

    expect(actor).toMatchObject({ kind: 'aws', id: ALICE, account: '111122223333' });
  });

  it("reads a Map at each call, so keys issued after start count; a role session answers as Lambda's execution role", async () => {
    const issued = new Map<string, ReturnType<typeof assumedRoleIdentity>>();
    const live = new LocalSts({ identities: issued });
    const liveEndpoint = await live.start();
    const client = new STSClient({
      endpoint: liveEndpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'ASIALATE', secretAccessKey: 'not-a-secret', sessionToken: 'session' },
    });
    clients.push(client);
    try {
      const before = await client.send(new GetCallerIdentityCommand({})).catch((err: Error) => err.name);
      issued.set(
        'ASIALATE',
        assumedRoleIdentity(
          'arn:aws:iam::111122223333:role/service-role/Writeback-ExtractRole-AB12',
          'Writeback-Extract',
        ),
      );
      const after = await client.send(new GetCallerIdentityCommand({}));

      expect(before).toBe('InvalidClientTokenId');
      expect(after.Arn).toBe(
        'arn:aws:sts::111122223333:assumed-role/Writeback-ExtractRole-AB12/Writeback-Extract',
      );
      expect(after.UserId).toMatch(/^AROA[0-9A-F]{17}:Writeback-Extract$/);
      expect(after.Account).toBe('111122223333');
    } finally {
      await live.stop();
    }
  });

  it('an unsigned request is MissingAuthenticationToken, 403, in the Query <ErrorResponse> shape', async () => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    const body = await res.text();

    expect(res.status).toBe(403);
    expect(body).toContain('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">');
    expect(body).toContain(
      '<Error><Type>Sender</Type><Code>MissingAuthenticationToken</Code><Message>Request is missing Authentication Token</Message></Error>',
    );
    expect(body).toContain(`<RequestId>${res.headers.get('x-amzn-requestid')}</RequestId>`);
  });
});

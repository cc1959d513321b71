import { createServer, type Server } from 'node:http';
import { hostname, userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsActor } from '../../../shared/ops/actor.ts';

const ARN = 'arn:aws:sts::123456789012:assumed-role/WritebackOperator/alice@example.com';

describe('Function: awsActor (who acts on a deployed stack, for the audit trail)', () => {
  let server: Server;
  let url: string;
  const bodies: string[] = [];
  let answer: { status: number; body: string };

  beforeAll(async () => {
    // STS as it answers GetCallerIdentity (the Query protocol): over HTTP on this machine.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString('utf8');
      });
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(answer.status, { 'content-type': 'text/xml' });
        res.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' };

  it("is the caller's principal ARN and account, from sts:GetCallerIdentity, with the OS user and host", async () => {
    // Prepare
    answer = {
      status: 200,
      body: `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${ARN}</Arn><UserId>AROAEXAMPLE:alice@example.com</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    };
    // Act
    const actor = await awsActor({ region: 'eu-west-1', endpoint: url, credentials });
    // Assess
    expect(bodies.at(-1)).toContain('Action=GetCallerIdentity');
    expect(actor).toEqual({
      kind: 'aws',
      id: ARN,
      account: '123456789012',
      osUser: userInfo().username,
      host: hostname(),
    });
  });

  it('stops the action when it cannot tell who is acting: nothing changed', async () => {
    // Prepare
    answer = {
      status: 403,
      body: '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>2</RequestId></ErrorResponse>',
    };
    // Act / Assess
    await expect(awsActor({ region: 'eu-west-1', endpoint: url, credentials })).rejects.toMatchObject({
      code: 'WB_UNREACHABLE',
      message: expect.stringMatching(
        /cannot tell who you are on AWS .*InvalidClientTokenId|security token.*nothing changed/,
      ),
    });
  });
});

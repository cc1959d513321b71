import {
  InvalidParameterValueException,
  InvalidRequestContentException,
  InvokeCommand,
  LambdaClient,
  LambdaServiceException,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AsyncInvocationFailure,
  type InvocationResult,
  type InvocationType,
  LocalLambda,
} from '../../../local/aws/LocalLambda.ts';

const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'not-a-secret' };
const ACCOUNT = '111122223333';
const arnOf = (name: string): string => `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${name}`;
const text = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes);
const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

async function rejection(promise: Promise<unknown>): Promise<LambdaServiceException> {
  try {
    await promise;
  } catch (err) {
    return err as LambdaServiceException;
  }
  throw new Error('expected the call to fail');
}

/** A promise opened from outside: holds a background invocation until the test lets it finish. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('LocalLambda (Lambda Invoke wire protocol, through the real SDK client)', () => {
  const calls: { arn: string; event: string; type: InvocationType }[] = [];
  const finished: string[] = [];
  const failures: AsyncInvocationFailure[] = [];
  let held = gate();
  let client: LambdaClient;

  // The functions: each a few lines standing in for a bundle the rehearsal would run.
  const behaviour: Record<string, (event: string) => Promise<InvocationResult>> = {
    echo: async (event) => ({ payload: bytes({ got: JSON.parse(event) }) }),
    fail: async () => ({
      functionError: true,
      payload: bytes({ errorType: 'Error', errorMessage: 'boom', trace: ['Error: boom', '    at handler'] }),
    }),
    huge: async () => ({ payload: new Uint8Array(6_291_557).fill(0x20) }),
    held: async (event) => {
      await held.promise;
      finished.push(event);
      return { payload: bytes(null) };
    },
    // Self-continuation, as functions/awsDeps.ts does it: an Event invoke of a function by ARN.
    continues: async (event) => {
      const { left } = JSON.parse(event) as { left: number };
      if (left > 0) {
        await client.send(
          new InvokeCommand({
            FunctionName: arnOf('continues'),
            InvocationType: 'Event',
            Payload: bytes({ left: left - 1 }),
          }),
        );
      }
      finished.push(`continues:${left}`);
      return { payload: bytes(null) };
    },
  };

  const local = new LocalLambda({
    functions: Object.keys(behaviour).map((name) => ({ name, arn: arnOf(name) })),
    invoke: async (arn, payload, type) => {
      const event = text(payload);
      calls.push({ arn, event, type });
      const name = arn.split(':').at(-1) as string;
      return (behaviour[name] as (e: string) => Promise<InvocationResult>)(event);
    },
    onAsyncError: (failure) => failures.push(failure),
  });

  beforeAll(async () => {
    const endpoint = await local.start();
    client = new LambdaClient({ endpoint, region: 'eu-west-1', credentials });
  });
  afterAll(async () => {
    await local.idle();
    client?.destroy();
    await local.stop();
  });

  it('RequestResponse answers 200 with the payload and X-Amz-Executed-Version, for every FunctionName form', async () => {
    const forms: [string, string | undefined][] = [
      ['echo', undefined],
      [arnOf('echo'), undefined],
      [`${ACCOUNT}:function:echo`, undefined],
      ['echo:$LATEST', undefined],
      [`${arnOf('echo')}:$LATEST`, undefined],
      ['echo', '$LATEST'],
    ];
    for (const [FunctionName, Qualifier] of forms) {
      const out = await client.send(new InvokeCommand({ FunctionName, Qualifier, Payload: bytes({ n: 1 }) }));
      expect(out.StatusCode).toBe(200);
      expect(out.ExecutedVersion).toBe('$LATEST');
      expect(out.FunctionError).toBeUndefined();
      expect(JSON.parse(text(out.Payload))).toEqual({ got: { n: 1 } });
    }
    expect(calls.filter((c) => c.arn === arnOf('echo'))).toHaveLength(forms.length);
  });

  it('gives the function {} when the payload is empty', async () => {
    const out = await client.send(new InvokeCommand({ FunctionName: 'echo' }));

    expect(JSON.parse(text(out.Payload))).toEqual({ got: {} });
  });

  it("a function's error is 200 with X-Amz-Function-Error: Unhandled and its {errorType, errorMessage, trace}", async () => {
    const out = await client.send(new InvokeCommand({ FunctionName: 'fail', Payload: bytes({}) }));

    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    expect(JSON.parse(text(out.Payload))).toEqual({
      errorType: 'Error',
      errorMessage: 'boom',
      trace: ['Error: boom', '    at handler'],
    });
  });

  it('an unknown function is the typed ResourceNotFoundException, 404, naming the full ARN', async () => {
    const byName = await rejection(client.send(new InvokeCommand({ FunctionName: 'nope' })));
    const otherAccount = await rejection(
      client.send(new InvokeCommand({ FunctionName: 'arn:aws:lambda:eu-west-1:999999999999:function:echo' })),
    );
    const version = await rejection(client.send(new InvokeCommand({ FunctionName: 'echo', Qualifier: '3' })));

    expect(byName).toBeInstanceOf(ResourceNotFoundException);
    expect(byName.$metadata.httpStatusCode).toBe(404);
    expect(byName.message).toBe(`Function not found: ${arnOf('nope')}`);
    expect(otherAccount.message).toBe(
      'Function not found: arn:aws:lambda:eu-west-1:999999999999:function:echo',
    );
    expect(version.message).toBe(`Function not found: ${arnOf('echo')}:3`);
  });

  it('refuses a qualifier in the name that the Qualifier parameter contradicts, and a payload that is not JSON', async () => {
    const qualifiers = await rejection(
      client.send(new InvokeCommand({ FunctionName: 'echo:$LATEST', Qualifier: 'live' })),
    );
    const notJson = await rejection(
      client.send(
        new InvokeCommand({ FunctionName: 'echo', Payload: new TextEncoder().encode('{not json') }),
      ),
    );

    expect(qualifiers).toBeInstanceOf(InvalidParameterValueException);
    expect(qualifiers.message).toBe(
      'The derived qualifier from the function name does not match the specified qualifier.',
    );
    expect(notJson).toBeInstanceOf(InvalidRequestContentException);
    expect(notJson.message).toMatch(
      /^Could not parse request body into json: Could not parse payload into json: /,
    );
  });

  it('DryRun answers 204 and runs nothing', async () => {
    const before = calls.length;

    const out = await client.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'DryRun' }));

    expect(out.StatusCode).toBe(204);
    expect(calls.length).toBe(before);
  });

  it('synchronous requests may be 6 MB (6,291,456 bytes); one byte more is RequestEntityTooLargeException, 413', async () => {
    const json = (size: number): Uint8Array => new TextEncoder().encode(`"${'x'.repeat(size - 2)}"`);

    const atLimit = await client.send(new InvokeCommand({ FunctionName: 'fail', Payload: json(6_291_456) }));
    const over = await rejection(
      client.send(new InvokeCommand({ FunctionName: 'fail', Payload: json(6_291_457) })),
    );

    expect(atLimit.StatusCode).toBe(200);
    expect(over).toBeInstanceOf(LambdaServiceException);
    expect(over.name).toBe('RequestEntityTooLargeException');
    expect(over.$metadata.httpStatusCode).toBe(413);
    expect(over.message).toBe('Request must be smaller than 6291456 bytes for the InvokeFunction operation');
  });

  it('a response over the quota is the function error Function.ResponseSizeTooLarge', async () => {
    const out = await client.send(new InvokeCommand({ FunctionName: 'huge' }));

    expect(out.FunctionError).toBe('Unhandled');
    expect(JSON.parse(text(out.Payload))).toEqual({
      errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
      errorType: 'Function.ResponseSizeTooLarge',
    });
  });

  it('Event requests may be 1 MB (1,048,576 bytes); one byte more is RequestEntityTooLargeException, 413', async () => {
    const json = (size: number): Uint8Array => new TextEncoder().encode(`"${'x'.repeat(size - 2)}"`);

    const atLimit = await client.send(
      new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: json(1_048_576) }),
    );
    const over = await rejection(
      client.send(
        new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: json(1_048_577) }),
      ),
    );
    await local.idle();

    expect(atLimit.StatusCode).toBe(202);
    expect(over.name).toBe('RequestEntityTooLargeException');
    expect(over.$metadata.httpStatusCode).toBe(413);
    expect(over.message).toBe(
      '1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)',
    );
  });

  it('Event answers 202 before the function finishes; idle() resolves only once it has', async () => {
    held = gate();
    let idle = false;

    const out = await client.send(
      new InvokeCommand({
        FunctionName: arnOf('held'),
        InvocationType: 'Event',
        Payload: bytes({ id: 'e1' }),
      }),
    );
    const waiting = local.idle().then(() => {
      idle = true;
    });
    // The invocation has started and is parked on the gate: idle() must still be waiting.
    await expect.poll(() => calls.some((c) => c.event === '{"id":"e1"}' && c.type === 'Event')).toBe(true);
    expect(idle).toBe(false);
    expect(finished).not.toContain('{"id":"e1"}');
    held.open();
    await waiting;

    expect(out.StatusCode).toBe(202);
    expect(out.Payload?.byteLength ?? 0).toBe(0);
    expect(finished).toContain('{"id":"e1"}');
  });

  it('idle() also waits for Event invocations that running ones start (self-continuation)', async () => {
    await client.send(
      new InvokeCommand({
        FunctionName: arnOf('continues'),
        InvocationType: 'Event',
        Payload: bytes({ left: 3 }),
      }),
    );

    await local.idle();

    // Each one finishes after the next is accepted, so the order they finish in is the runtime's.
    expect(finished.filter((f) => f.startsWith('continues:')).sort()).toEqual([
      'continues:0',
      'continues:1',
      'continues:2',
      'continues:3',
    ]);
  });

  it('a failing Event invocation is retried twice, as Lambda does, then reported with its error payload', async () => {
    const before = calls.filter((c) => c.arn === arnOf('fail')).length;

    await client.send(
      new InvokeCommand({ FunctionName: 'fail', InvocationType: 'Event', Payload: bytes({ job: 7 }) }),
    );
    await local.idle();

    expect(calls.filter((c) => c.arn === arnOf('fail')).length - before).toBe(3);
    expect(failures).toHaveLength(1);
    const [failure] = failures;
    expect(failure?.functionArn).toBe(arnOf('fail'));
    expect(failure?.attempts).toBe(3);
    expect(text(failure?.payload)).toBe('{"job":7}');
    expect(JSON.parse(text(failure?.error as Uint8Array))).toMatchObject({ errorMessage: 'boom' });
  });

  it('finds a function registered after start', async () => {
    const before = await rejection(client.send(new InvokeCommand({ FunctionName: 'late' })));
    local.register([{ name: 'late', arn: arnOf('late') }]);
    behaviour.late = async () => ({ payload: bytes('late answer') });

    const out = await client.send(new InvokeCommand({ FunctionName: arnOf('late') }));

    expect(before).toBeInstanceOf(ResourceNotFoundException);
    expect(JSON.parse(text(out.Payload))).toBe('late answer');
  });
});

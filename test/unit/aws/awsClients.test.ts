import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AWS_CALLS_PER_INVOCATION, createAwsClients } from '../../../shared/aws/awsClients.ts';

/**
 * A DynamoDB stand-in that holds every request until `release()`, so the test sees how many the
 * client's agent lets through at once (each on its own socket).
 */
function holdingServer(): {
  server: Server;
  held: () => number;
  peak: () => number;
  resetPeak: () => void;
  release: () => void;
} {
  let waiting: (() => void)[] = [];
  let peak = 0;
  const server = createServer((req, res) => {
    req.resume();
    waiting.push(() => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end('{"TableNames":[]}');
    });
    peak = Math.max(peak, waiting.length);
  });
  return {
    server,
    held: () => waiting.length,
    peak: () => peak,
    resetPeak: () => {
      peak = 0;
    },
    release: () => {
      const now = waiting;
      waiting = [];
      for (const reply of now) reply();
    },
  };
}

describe('AWS clients: HTTP agents sized for the invocations they serve', () => {
  const stand = holdingServer();
  let endpoint: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => stand.server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(stand.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    stand.server.closeAllConnections();
    await new Promise((resolve) => stand.server.close(resolve));
  });

  /**
   * The most calls the server held at once while `calls` were sent: it waits until `expected` are
   * held (the agent opened that many sockets), then releases in rounds, watching the peak (a
   * larger agent would have pushed it past `expected`).
   */
  async function inFlightAtOnce(
    invocations: number | undefined,
    calls: number,
    expected: number,
  ): Promise<number> {
    const { ddb } = createAwsClients({ dynamodb: endpoint }, invocations ? { invocations } : {});
    try {
      stand.resetPeak();
      const sent = Array.from({ length: calls }, () => ddb.send(new ListTablesCommand({})));
      await vi.waitFor(() => expect(stand.held()).toBeGreaterThanOrEqual(expected), { timeout: 10_000 });
      // Release in rounds: the calls the agent queued reach the server once sockets free up.
      const all = Promise.all(sent);
      let done = false;
      void all.finally(() => {
        done = true;
      });
      while (!done) {
        stand.release();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await all;
      return stand.peak();
    } finally {
      ddb.destroy();
    }
  }

  it('lets one invocation have its widest stages in flight (more than the SDK default of 50)', async () => {
    expect(AWS_CALLS_PER_INVOCATION).toBeGreaterThan(50);
    expect(await inFlightAtOnce(undefined, AWS_CALLS_PER_INVOCATION + 10, AWS_CALLS_PER_INVOCATION)).toBe(
      AWS_CALLS_PER_INVOCATION,
    );
  });

  it('multiplies the sockets by the invocations one process serves (the local runtime)', async () => {
    expect(await inFlightAtOnce(3, 150, 150)).toBe(150);
  });
});

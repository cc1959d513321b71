import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import { type DynamoDbServer, dynamoDbEngine, startDynamoDbLocal } from './DynamoDbLocal.ts';

export interface LocalEmulators {
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  /** S3, served by the SQS emulator (fauxqs) on the same endpoint; path-style requests. */
  readonly s3Endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts the DynamoDB (dynalite, in memory) and SQS (fauxqs) emulators on free loopback ports,
 * in a child process by default: dynalite parses every condition expression in JavaScript, and
 * on its own core it no longer slows the handlers down. With `WB_DYNAMODB=local`, AWS's own
 * DynamoDB Local (Java, its own process) stands in for dynalite.
 */
export async function startLocalEmulators(opts: { inProcess?: boolean } = {}): Promise<LocalEmulators> {
  return opts.inProcess ? startEmulatorsInProcess() : startEmulatorsChild();
}

export async function startEmulatorsInProcess(): Promise<LocalEmulators> {
  const [ddb, sqs] = await Promise.all([
    dynamoDbEngine() === 'local' ? startDynamoDbLocal() : startDynalite(),
    startFauxqs({ port: 0, host: '127.0.0.1', logger: false }),
  ]);
  return {
    dynamodbEndpoint: ddb.endpoint,
    sqsEndpoint: sqs.address,
    s3Endpoint: sqs.address,
    stop: async () => {
      await Promise.all([ddb.stop(), sqs.stop()]);
    },
  };
}

async function startDynalite(): Promise<DynamoDbServer> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

async function startEmulatorsChild(): Promise<LocalEmulators> {
  const main = fileURLToPath(new URL('./emulatorsMain.ts', import.meta.url));
  const child = spawn(process.execPath, [main], { stdio: ['pipe', 'pipe', 'inherit'] });
  const endpoints = await new Promise<{ dynamodbEndpoint: string; sqsEndpoint: string; s3Endpoint: string }>(
    (resolve, reject) => {
      let buf = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        buf += chunk;
        const nl = buf.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
      });
      child.once('exit', (code) => reject(new Error(`emulator process exited with code ${code}`)));
      child.once('error', reject);
    },
  );
  const killOnExit = (): void => {
    child.kill('SIGTERM');
  };
  process.once('exit', killOnExit);
  return {
    ...endpoints,
    stop: async () => {
      process.off('exit', killOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.stdin.end();
      await exited;
    },
  };
}

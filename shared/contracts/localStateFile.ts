import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ConnectionCredentials } from '../connectors/ConnectionCredentials.ts';
import { StackNotFoundError } from '../ops/errors.ts';

/**
 * How to reach a running local stack (`npm start`, or a test's): written by its owner, read by the
 * operator CLI, so that `writeback status` works against the demo as it does against AWS.
 */
export interface LocalStateFile {
  /** The process that owns the stack; the file is stale once it is gone. */
  readonly pid: number;
  readonly dwhUrl: string;
  readonly billingUrl: string;
  readonly hubspotUrl: string;
  /** The token the local HubSpot fake accepts (not a secret: the fake listens on 127.0.0.1). */
  readonly hubspotToken?: string;
  /** The Xero fake: its URL, the access token and tenant id it accepts (not secrets: it listens on 127.0.0.1). */
  readonly xero?: { readonly url: string; readonly accessToken: string; readonly tenantId: string };
  /**
   * What each connection of the config is given locally (fake URLs and tokens, the billing
   * database; not secrets: everything listens on 127.0.0.1), by connection name. Absent in a file
   * from an older stack.
   */
  readonly connections?: Readonly<Record<string, ConnectionCredentials>>;
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  /** S3 of the claim checks (served by the SQS emulator); absent in a file from an older stack. */
  readonly s3Endpoint?: string;
  readonly claimCheckBucket?: string;
  readonly stateTable: string;
  readonly linksTable: string;
  readonly queues: Record<string, { url: string; dlqUrl: string }>;
}

/** Written by the stack's owner once it is up. */
export function writeLocalState(path: string, state: LocalStateFile): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`);
}

/** Removed by the owner when it stops, so no command talks to a dead stack. */
export function clearLocalState(path: string): void {
  rmSync(path, { force: true });
}

/** The state file, when it exists and its owner is alive; undefined otherwise. */
export function findLocalState(path: string): LocalStateFile | undefined {
  try {
    return readLocalState(path);
  } catch {
    return undefined;
  }
}

/** The running local stack's state, or an error that says how to start one. */
export function readLocalState(path: string): LocalStateFile {
  let state: LocalStateFile;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as LocalStateFile;
  } catch {
    throw new StackNotFoundError(
      `no local stack is running here (${path} not found): start one with \`npm start\` in another terminal, or pass --stack <name> for a deployed stack`,
    );
  }
  try {
    process.kill(state.pid, 0);
  } catch {
    throw new StackNotFoundError(
      `the local stack of ${path} (pid ${state.pid}) is no longer running: start it again with \`npm start\``,
    );
  }
  return state;
}

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Where a running `writeback demo` says how to reach it, for the other commands. */
export const DEMO_STATE_FILE = resolve('.wb/demo.json');

export interface DemoState {
  readonly pid: number;
  readonly dwhUrl: string;
  readonly billingUrl: string;
  readonly hubspotUrl: string;
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  readonly stateTable: string;
  readonly linksTable: string;
  readonly queues: Record<string, { url: string; dlqUrl: string }>;
}

export function writeDemoState(state: DemoState): void {
  mkdirSync(dirname(DEMO_STATE_FILE), { recursive: true });
  writeFileSync(DEMO_STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
}

export function clearDemoState(): void {
  rmSync(DEMO_STATE_FILE, { force: true });
}

/** The running demo's state, or a clear error telling how to start one. */
export function readDemoState(): DemoState {
  let state: DemoState;
  try {
    state = JSON.parse(readFileSync(DEMO_STATE_FILE, 'utf8')) as DemoState;
  } catch {
    throw new Error('no local demo is running here: start one with `npm start` in another terminal');
  }
  try {
    process.kill(state.pid, 0);
  } catch {
    throw new Error(
      `the local demo (pid ${state.pid}) is no longer running: start it again with \`npm start\``,
    );
  }
  return state;
}

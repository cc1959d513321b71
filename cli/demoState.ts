import { resolve } from 'node:path';
import {
  clearLocalState,
  type LocalStateFile,
  readLocalState,
  writeLocalState,
} from '../shared/contracts/localStateFile.ts';

/** Where a running `writeback demo` says how to reach it, for the other commands (`--local-state`). */
export const DEMO_STATE_FILE = resolve('.wb/demo.json');

export type DemoState = LocalStateFile;

export function writeDemoState(state: DemoState): void {
  writeLocalState(DEMO_STATE_FILE, state);
}

export function clearDemoState(): void {
  clearLocalState(DEMO_STATE_FILE);
}

/** The running demo's state, or a clear error telling how to start one. */
export function readDemoState(): DemoState {
  return readLocalState(DEMO_STATE_FILE);
}

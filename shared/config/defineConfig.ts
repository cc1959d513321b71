import type { SyncInput, WritebackConfigInput } from './schema.ts';

/** Identity helpers that give `writeback.config.ts` types and editor completion; validation happens in loadConfig. */
export function defineSync(sync: SyncInput): SyncInput {
  return sync;
}
export function defineConfig(config: WritebackConfigInput): WritebackConfigInput {
  return config;
}

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WritebackConfig } from './schema.ts';
import { validateConfig } from './validateConfig.ts';

/** Imports a `writeback.config.ts` (default export) and validates it. */
export async function loadConfigFile(path = 'writeback.config.ts'): Promise<WritebackConfig> {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown };
  return validateConfig(mod.default);
}

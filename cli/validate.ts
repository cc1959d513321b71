import { loadConfigFile } from '../shared/config/loadConfig.ts';

export async function runValidate(configPath: string): Promise<void> {
  const config = await loadConfigFile(configPath);
  process.stdout.write(`${configPath}: ok, ${config.syncs.length} sync(s)\n`);
  for (const s of config.syncs) {
    const src = s.source.table ?? 'query';
    process.stdout.write(
      `  ${s.name.padEnd(24)} ${src} → ${s.target.connection}/${s.target.object}  ${s.schedule}${s.enabled ? '' : '  (disabled)'}\n`,
    );
  }
}

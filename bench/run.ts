/**
 * `npm run bench -- <name> [args]` runs bench/<name>.ts. Each benchmark prints its figures as
 * ratios and counts, and its last line is one JSON object with them (for scripts and the README).
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''));
const name = process.argv[2];
if (!name || !available.includes(name) || !existsSync(`${dir}/${name}.ts`)) {
  process.stderr.write(`usage: npm run bench -- <name>\navailable: ${available.join(', ') || 'none'}\n`);
  process.exit(2);
}
process.argv.splice(2, 1);
await import(`./${name}.ts`);

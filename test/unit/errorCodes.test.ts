import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERRORS_DOC_PATH, renderErrorCodesDoc } from '../../scripts/errorCodesDoc.ts';
import { ENV } from '../../shared/contracts/RuntimeEnv.ts';
import { ERROR_CODES } from '../../shared/errorCodes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The product's source: what can raise a code or show one to a user. */
const SOURCE_DIRS = ['shared', 'functions', 'cli', 'infra', 'local'];
const CATALOGUE = 'shared/errorCodes.ts';
/** `WB_*` names that are not error codes: the environment contract, and knobs of tests and benches. */
const NOT_ERROR_CODES = new Set<string>([
  ...Object.values(ENV),
  'WB_PROPERTY_SEED', // seed of the incremental property test
  'WB_BENCH_ENV', // endpoints handed to a bench's child process
  'WB_DYNAMODB', // `local`: the local stack and the tests use DynamoDB Local instead of dynalite
  'WB_DYNAMODB_ENDPOINT', // a running DynamoDB Local to share
]);
const FIX = `add them to ${CATALOGUE} (meaning and what to do), then run \`npm run docs:errors\``;

/** Every source file (relative path → text), the catalogue itself excepted. */
function sourceFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const dir of SOURCE_DIRS) {
    const abs = join(ROOT, dir);
    if (!existsSync(abs)) continue;
    for (const entry of readdirSync(abs, { recursive: true, encoding: 'utf8' })) {
      if (!/\.(ts|mts|js|mjs)$/.test(entry) || entry.split(/[\\/]/).includes('node_modules')) continue;
      const path = relative(ROOT, join(abs, entry)).replaceAll('\\', '/');
      if (path !== CATALOGUE) files.set(path, readFileSync(join(abs, entry), 'utf8'));
    }
  }
  return files;
}

describe('Error code catalogue (shared/errorCodes.ts)', () => {
  const files = sourceFiles();

  it('holds every WB_* code the source names', () => {
    const missing = new Map<string, string[]>();
    for (const [path, text] of files) {
      for (const [code] of text.matchAll(/\bWB_[A-Z0-9_]+/g)) {
        if (NOT_ERROR_CODES.has(code) || Object.hasOwn(ERROR_CODES, code)) continue;
        // A family named in prose (`WB_MESSAGE_*`): some catalogued code must start with it.
        if (code.endsWith('_') && Object.keys(ERROR_CODES).some((c) => c.startsWith(code))) continue;
        missing.set(code, [...new Set([...(missing.get(code) ?? []), path])]);
      }
    }
    const list = [...missing].map(([code, paths]) => `${code} (${paths.join(', ')})`);
    expect(list, `codes not in the catalogue: ${list.join('; ')}: ${FIX}`).toEqual([]);
  });

  it('has no entry the source no longer raises (a quoted literal outside the catalogue)', () => {
    const used = new Set<string>();
    for (const text of files.values()) {
      for (const m of text.matchAll(/(['"`])(WB_[A-Z0-9_]+)\1/g)) used.add(m[2]!);
    }
    const dead = Object.keys(ERROR_CODES).filter((code) => !used.has(code));
    expect(
      dead,
      `catalogue entries no source raises: ${dead.join(', ')}: remove them from ${CATALOGUE}, then run \`npm run docs:errors\``,
    ).toEqual([]);
  });

  it(`is what ${ERRORS_DOC_PATH} says (the page is generated)`, () => {
    const page = readFileSync(join(ROOT, ERRORS_DOC_PATH), 'utf8');
    expect(
      page === renderErrorCodesDoc(),
      `${ERRORS_DOC_PATH} differs from the catalogue: run \`npm run docs:errors\` (do not edit the page by hand)`,
    ).toBe(true);
  });

  it('says what each code means and what to do', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(info.meaning.length, `${code}: meaning`).toBeGreaterThan(20);
      expect(info.action.length, `${code}: action`).toBeGreaterThan(20);
    }
  });
});

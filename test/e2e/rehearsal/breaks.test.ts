import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RehearsalResult,
  type RehearseOptions,
  rehearse,
  synthesize,
} from '../../../local/rehearsal/rehearse.ts';
import type { CfnResource, CfnTemplate } from '../../../local/rehearsal/resolveTemplate.ts';
import { ENV } from '../../../shared/contracts/RuntimeEnv.ts';

/**
 * The rehearsal fails, with a message naming what is wrong, for each way a deploy can be broken
 * that only running it shows: an environment variable missing, a bundle whose import does not
 * resolve, an event source mapping without partial batch responses, a grant removed.
 */
const CONFIG = 'test/fixtures/rehearsal/second.config.ts';
const root = mkdtempSync(join(tmpdir(), 'wb-rehearsal-breaks-'));
const assembly = join(root, 'cdk.out');
let runs = 0;

beforeAll(async () => {
  await synthesize(CONFIG, {}, assembly);
}, 300_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A rehearsal of a copy of the synthesized assembly, broken by `opts`, without the CLI part. */
async function broken(
  opts: Pick<RehearseOptions, 'alterTemplate' | 'alterAssembly'>,
): Promise<RehearsalResult> {
  const dir = join(root, `run-${++runs}`);
  cpSync(assembly, join(dir, 'cdk.out'), { recursive: true });
  return rehearse({
    configPath: CONFIG,
    workDir: dir,
    cdkOut: join(dir, 'cdk.out'),
    customers: 20,
    operatorChecks: false,
    ...opts,
  });
}

type Fn = [string, CfnResource];
function functionOf(template: CfnTemplate, sync: string, role: 'extract' | 'write'): Fn {
  const marker = role === 'extract' ? ENV.dwhSecretArn : ENV.dlqUrl;
  const found = Object.entries(template.Resources).find(([, r]) => {
    const vars = (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables;
    return r.Type === 'AWS::Lambda::Function' && vars?.[ENV.sync] === sync && vars[marker] !== undefined;
  });
  if (!found) throw new Error(`no ${role} function for ${sync}`);
  return found;
}

describe('a broken deploy fails the rehearsal with a clear message', () => {
  it('a missing environment variable: the function that needs it is named with the variable', async () => {
    let id = '';
    const result = await broken({
      alterTemplate: (t) => {
        const [logicalId, fn] = functionOf(t, 'people', 'extract');
        id = logicalId;
        delete (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables[ENV.queueUrl];
      },
    });
    expect(result.ok).toBe(false);
    expect(result.problems.some((p) => p.includes(id) && p.includes(ENV.queueUrl))).toBe(true);
  }, 300_000);

  it('a bundle that cannot resolve an import: Runtime.ImportModuleError for the function, and the rehearsal stops', async () => {
    // The write functions of the syncs share one bundle (one asset): every function built from it
    // is broken, and whichever the rehearsal invokes first is named.
    let ids: string[] = [];
    const result = await broken({
      alterAssembly: (cdkOut) => {
        const t = JSON.parse(readFileSync(join(cdkOut, 'Writeback.template.json'), 'utf8')) as CfnTemplate;
        const [, fn] = functionOf(t, 'people', 'write');
        const code = (f: Fn[1]) => String((f.Properties?.Code as { S3Key?: string } | undefined)?.S3Key);
        ids = Object.entries(t.Resources)
          .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && code(r) === code(fn))
          .map(([id]) => id);
        const bundle = join(cdkOut, `asset.${code(fn).replace(/\.zip$/, '')}`, 'index.mjs');
        writeFileSync(bundle, `import 'writeback-dependency-left-out';\n${readFileSync(bundle, 'utf8')}`);
      },
    });
    expect(result.ok).toBe(false);
    expect(ids.length).toBeGreaterThan(0);
    expect(
      result.problems.some(
        (p) =>
          ids.some((id) => p.includes(id)) &&
          p.includes('Runtime.ImportModuleError') &&
          p.includes('writeback-dependency-left-out'),
      ),
      JSON.stringify(result.problems),
    ).toBe(true);
    expect(result.problems.some((p) => p.startsWith('stopped:'))).toBe(true);
  }, 300_000);

  it('a removed grant: the denied call is named with the statement that is missing', async () => {
    // The state table has no resource policy: without the role's statement nothing allows the call.
    // (Removing the extract's sqs:SendMessage would not do: its queue's policy allows it too.)
    let id = '';
    const result = await broken({
      alterTemplate: (t) => {
        const [logicalId, fn] = functionOf(t, 'people', 'extract');
        id = logicalId;
        const role = (fn.Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
        const stateTable = Object.keys(t.Resources).find((k) => k.startsWith('StateTable'))!;
        for (const r of Object.values(t.Resources)) {
          const roles = (r.Properties?.Roles as { Ref?: string }[] | undefined) ?? [];
          if (r.Type !== 'AWS::IAM::Policy' || !roles.some((x) => x.Ref === role)) continue;
          const doc = r.Properties!.PolicyDocument as { Statement: unknown[] };
          doc.Statement = doc.Statement.filter((st) => !JSON.stringify(st).includes(stateTable));
        }
      },
    });
    expect(result.ok).toBe(false);
    const denied = result.iam?.denied ?? [];
    const onStateTable = denied.filter(
      (d) => d.startsWith(`${id}: dynamodb:`) && d.includes(':table/Writeback-StateTable'),
    );
    expect(onStateTable.length).toBeGreaterThan(0);
    expect(
      onStateTable.every((d) => d.includes('missing statement {"Effect":"Allow","Action":"dynamodb:')),
    ).toBe(true);
    expect(result.problems.some((p) => p.startsWith('IAM denied') && p.includes('StateTable'))).toBe(true);
  }, 300_000);

  it('an event source mapping without partial batch responses is named', async () => {
    let id = '';
    const result = await broken({
      alterTemplate: (t) => {
        const [logicalId, esm] = Object.entries(t.Resources).find(
          ([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping',
        )!;
        id = logicalId;
        delete esm.Properties!.FunctionResponseTypes;
      },
    });
    expect(result.ok).toBe(false);
    expect(result.problems.some((p) => p.startsWith(id) && p.includes('ReportBatchItemFailures'))).toBe(true);
  }, 300_000);
});

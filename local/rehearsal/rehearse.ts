import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadConfigFile } from '../../shared/config/loadConfig.ts';
import { WritebackError } from '../../shared/errors.ts';
import { UsageError } from '../../shared/ops/errors.ts';
import { loadPairCopies } from '../loadPairCopies.ts';
import { fakeAssociatedIds, loadTargetCopies } from '../loadTargetCopies.ts';
import { countRepeats } from './countRepeats.ts';
import { type CliResult, type FunctionReport, Rehearsal, type RoundResult } from './Rehearsal.ts';
import type { IamFindings } from './rehearsalGateway.ts';
import type { CfnTemplate } from './resolveTemplate.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const execFileAsync = promisify(execFile);

export interface RehearseOptions {
  /** The config to deploy (`cdk deploy -c config=…`). */
  readonly configPath: string;
  /** Other `-c key=value` context of the deploy (dwh*, trialDatabase, stackName…). */
  readonly context?: Readonly<Record<string, string>>;
  /** Demo customers in the rehearsal's warehouse. @default 300 */
  readonly customers?: number;
  /** Where cdk.out, logs and the report go. */
  readonly workDir: string;
  /** A cloud assembly already synthesized from the same config and context: no synth. */
  readonly cdkOut?: string;
  readonly alterTemplate?: (template: CfnTemplate) => void;
  /** Changes cdk.out before the rehearsal reads it (the tests break a bundle here). */
  readonly alterAssembly?: (cdkOut: string) => void;
  /** A JSON file of secret values by secret name or ARN, over the local world's. */
  readonly secretsFile?: string;
  /** Operate the settled stack with the CLI. @default true */
  readonly operatorChecks?: boolean;
  readonly say?: (line: string) => void;
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface RehearsalResult {
  readonly ok: boolean;
  readonly iam?: IamFindings;
  readonly problems: readonly string[];
  readonly checks: readonly Check[];
  readonly rounds: readonly RoundResult[];
  readonly functions: readonly FunctionReport[];
  readonly notRehearsed: readonly string[];
  readonly recordsWritten: number;
  readonly drainSeconds: number;
  readonly synthSeconds: number;
}

/** `cdk synth` failed: the deploy would fail the same way. */
export class SynthError extends WritebackError {
  public constructor(message: string) {
    super('WB_REHEARSAL_SYNTH_FAILED', message);
    this.name = 'SynthError';
  }
}

/** `cdk synth -o <dir>` of a config and context, with the project's own CDK CLI. */
export async function synthesize(
  configPath: string,
  context: Readonly<Record<string, string>>,
  outDir: string,
): Promise<number> {
  const t0 = performance.now();
  const args = ['synth', '--quiet', '-o', outDir, '-c', `config=${configPath}`];
  for (const [k, v] of Object.entries(context)) args.push('-c', `${k}=${v}`);
  try {
    await execFileAsync(join(ROOT, 'node_modules/.bin/cdk'), args, {
      cwd: ROOT,
      env: {
        ...process.env,
        PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
        CDK_DISABLE_VERSION_CHECK: '1',
      },
      maxBuffer: 64 * 2 ** 20,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new SynthError(
      `cdk synth failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-15).join('\n')}`,
    );
  }
  return (performance.now() - t0) / 1000;
}

/**
 * The whole rehearsal: synth, the stack created and run from its bundles, the demo data driven
 * through it until it settles, the target copies loaded as the ELT tool would, then the operator
 * CLI in `--stack` mode against it (status, runs, links, plan, dlq list/show/redrive, verify).
 */
export async function rehearse(opts: RehearseOptions): Promise<RehearsalResult> {
  const say = opts.say ?? (() => {});
  const context = opts.context ?? {};
  const stackName = context.stackName ?? 'Writeback';
  mkdirSync(opts.workDir, { recursive: true });
  let cdkOut = opts.cdkOut;
  let synthSeconds = 0;
  if (!cdkOut) {
    cdkOut = join(opts.workDir, 'cdk.out');
    say(
      `cdk synth ${opts.configPath}${
        Object.keys(context).length
          ? ` (${Object.entries(context)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ')})`
          : ''
      }`,
    );
    synthSeconds = await synthesize(opts.configPath, context, cdkOut);
  }
  opts.alterAssembly?.(cdkOut);
  const config = await loadConfigFile(opts.configPath);
  const rehearsal = await Rehearsal.start({
    cdkOut,
    stackName,
    configPath: opts.configPath,
    config,
    customers: opts.customers ?? 300,
    workDir: opts.workDir,
    ...(opts.alterTemplate ? { alterTemplate: opts.alterTemplate } : {}),
    ...(opts.secretsFile ? { secrets: readSecretsFile(opts.secretsFile) } : {}),
    say,
  });
  const checks: Check[] = [];
  try {
    const { rounds, settled } = await rehearsal.drain();
    const drainSeconds = rounds.reduce((s, r) => s + r.seconds, 0);
    const recordsWritten = rehearsal.messagesWritten();
    say(`drained: ${recordsWritten} records written in ${drainSeconds.toFixed(1)} s`);
    // The CLI's view of a stack that did not settle would only repeat what went wrong.
    if (settled && opts.operatorChecks !== false) checks.push(...(await operatorChecks(rehearsal, say)));
    const iam = rehearsal.iamFindings();
    const problems = [...rehearsal.problems, ...iam.denied.map((d) => `IAM denied ${d}`)];
    return {
      ok: problems.length === 0 && checks.every((c) => c.ok),
      problems: countRepeats(problems, (n) => ` (×${n})`),
      iam,
      checks,
      rounds,
      functions: rehearsal.functionReports(),
      notRehearsed: rehearsal.notRehearsed,
      recordsWritten,
      drainSeconds,
      synthSeconds,
    };
  } finally {
    await rehearsal.stop();
  }
}

/** A CLI command's check: exit code as expected and its output containing what a user looks for. */
function cliCheck(
  name: string,
  res: CliResult,
  expect: { code?: number; includes?: readonly string[] },
): Check {
  const code = expect.code ?? 0;
  const missing = (expect.includes ?? []).filter((text) => !res.stdout.includes(text));
  const ok = res.code === code && missing.length === 0;
  const output = `${res.stdout}\n${res.stderr}`.trim().split('\n').slice(0, 12).join('\n    ');
  return {
    name,
    ok,
    detail: ok
      ? `exit ${res.code}`
      : `exit ${res.code} (expected ${code})${missing.length ? `, output lacks ${missing.map((m) => JSON.stringify(m)).join(', ')}` : ''}:\n    ${output}`,
  };
}

/**
 * The operator's view of the rehearsed stack, through its CloudFormation outputs as a user has it.
 * On the demo config a record is also made to fail on purpose (an e-mail address HubSpot refuses),
 * to prove `dlq list`, `dlq show` and `dlq redrive` on the deployed wiring.
 */
async function operatorChecks(r: Rehearsal, say: (line: string) => void): Promise<Check[]> {
  const checks: Check[] = [];
  const syncs = r.local.config.syncs;
  const dwhUrl = r.local.pg.url('dwh');
  checks.push(cliCheck('writeback status', await r.cli(['status']), { includes: syncs.map((s) => s.name) }));
  for (const s of syncs) {
    const runs = await r.cli(['runs', s.name, '-n', '5']);
    checks.push(cliCheck(`writeback runs ${s.name}`, runs, { includes: ['succeeded'] }));
    const dlq = await r.cli(['dlq', 'list', s.name]);
    checks.push(cliCheck(`writeback dlq list ${s.name}`, dlq, { includes: ['the DLQ is empty'] }));
  }
  const first = syncs[0]!;
  const [row] = await r.local.dwh.unsafe(
    `select ${first.source.key.map((k) => `${k}::text as "${k}"`).join(', ')} from ${first.source.table ?? `(${first.source.query}) q`} order by 1 limit 1`,
  );
  if (row) {
    const key =
      first.source.key.length === 1
        ? String(row[first.source.key[0]!])
        : JSON.stringify(first.source.key.map((k) => String(row[k])));
    checks.push(
      cliCheck(`writeback links ${first.name} ${key}`, await r.cli(['links', first.name, key]), {
        includes: ['ok'],
      }),
    );
  }
  checks.push(
    cliCheck(`writeback plan ${first.name}`, await r.cli(['plan', first.name, '--dwh-url', dwhUrl]), {}),
  );

  const customers = syncs.find((s) => s.name === 'crm-customers' && s.source.table === 'crm.customers');
  if (customers) checks.push(...(await deadLetterRoundTrip(r, customers.name, dwhUrl, say)));

  const verified = syncs.filter((s) => s.verify);
  if (verified.length > 0) {
    const copies = await loadTargetCopies(r.local.dwh, r.local.config, verified, {
      hubspot: () => r.local.hubspot,
      hubspotAssociations: (from, to) => fakeAssociatedIds(r.local.hubspot, from, to),
      postgresUrl: (c) => (typeof c.url === 'string' ? c.url : r.local.pg.url('billing')),
      pairCopies: () => loadPairCopies(r.local.dwh, r.local),
    });
    say(
      `the ELT stand-in loaded ${copies
        .filter((c) => !c.skipped)
        .map((c) => c.table)
        .join(', ')}`,
    );
    checks.push(
      cliCheck('writeback verify', await r.cli(['verify']), { includes: verified.map((s) => s.name) }),
    );
    const before = r.problems.length;
    await r.fireSchedules('verify');
    await r.waitUntilQuiet();
    checks.push({
      name: 'scheduled verifications',
      ok: r.problems.length === before,
      detail:
        r.problems.length === before ? `${verified.length} ran clean` : r.problems.slice(before).join('; '),
    });
  }
  return checks;
}

/**
 * A record the target refuses for good reaches the DLQ with its reason, and after the source is
 * fixed a redrive writes it: the on-call path, on the deployed wiring.
 */
async function deadLetterRoundTrip(
  r: Rehearsal,
  sync: string,
  dwhUrl: string,
  say: (line: string) => void,
): Promise<Check[]> {
  const checks: Check[] = [];
  const [victim] = await r.local
    .dwh`select customer_id, email from crm.customers order by customer_id limit 1`;
  const key = String(victim!.customer_id);
  await r.local
    .dwh`update crm.customers set email = 'not-an-email', updated_at = now() where customer_id = ${victim!.customer_id}`;
  await r.fireSchedules('sync');
  await r.waitUntilQuiet();
  // The writer's failure is the point here, not a problem of the stack.
  const expected = r.problems.filter((p) => p.includes('INVALID_EMAIL'));
  for (const p of expected) r.problems.splice(r.problems.indexOf(p), 1);
  checks.push(
    cliCheck(`writeback dlq list ${sync} (a refused record)`, await r.cli(['dlq', 'list', sync]), {
      includes: [key, 'INVALID_EMAIL'],
    }),
  );
  checks.push(
    cliCheck(`writeback dlq show ${sync} ${key}`, await r.cli(['dlq', 'show', sync, key]), {
      includes: ['INVALID_EMAIL'],
    }),
  );
  await r.local
    .dwh`update crm.customers set email = ${victim!.email}, updated_at = now() where customer_id = ${victim!.customer_id}`;
  const redrive = await r.cli([
    'dlq',
    'redrive',
    sync,
    '--key',
    key,
    '--wait',
    '--timeout',
    '3m',
    '--dwh-url',
    dwhUrl,
  ]);
  checks.push(cliCheck(`writeback dlq redrive ${sync} --key ${key} --wait`, redrive, {}));
  await r.waitUntilQuiet();
  checks.push(
    cliCheck(`writeback links ${sync} ${key} (after the redrive)`, await r.cli(['links', sync, key]), {
      includes: ['ok'],
    }),
  );
  say(`dead-letter round trip on ${sync} key ${key}: ${checks.every((c) => c.ok) ? 'ok' : 'FAILED'}`);
  return checks;
}

/** `--secrets <file>`: a JSON object of secret values by name or ARN. */
function readSecretsFile(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--secrets ${path}: not a JSON file (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`--secrets ${path}: expected a JSON object of secret name → value`);
  }
  return parsed as Record<string, unknown>;
}

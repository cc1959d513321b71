import { execFile } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { WritebackConfig } from '../../shared/config/schema.ts';
import { syncOutputNames } from '../../shared/contracts/outputNames.ts';
import type { RunRecord } from '../../shared/state/RunRecord.ts';
import { LocalCloudFormation } from '../aws/LocalCloudFormation.ts';
import { LocalLambda } from '../aws/LocalLambda.ts';
import { LocalSecretsManager } from '../aws/LocalSecretsManager.ts';
import { LocalSts } from '../aws/LocalSts.ts';
import { hasDemoPair, seedDemoApps } from '../demoApps.ts';
import { LocalStack } from '../LocalStack.ts';
import { loadPairCopies } from '../loadPairCopies.ts';
import { EventSourceMapping, mappingSpecs } from './EventSourceMapping.ts';
import { type FunctionCredentials, functionSpecs } from './functionSpecs.ts';
import { OPERATOR } from './operator.ts';
import { provisionFromTemplate } from './provisionFromTemplate.ts';
import { type FunctionStats, RehearsedFunction } from './RehearsedFunction.ts';
import { type IamFindings, type RehearsalGateway, startGateway } from './rehearsalGateway.ts';
import { rehearsalSecrets } from './rehearsalSecrets.ts';
import { type CfnTemplate, type ResolvedStack, resolveTemplate } from './resolveTemplate.ts';
import { RoleCredentials } from './roleCredentials.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface RehearsalOptions {
  /** The synthesized cloud assembly (`cdk synth -o <dir>`). */
  readonly cdkOut: string;
  readonly stackName: string;
  /** The config the assembly was synthesized from (the operator CLI reads it too). */
  readonly configPath: string;
  readonly config: WritebackConfig;
  /** Demo customers seeded into the warehouse. */
  readonly customers: number;
  /** Where the functions' logs go, one file per function (their log groups). */
  readonly workDir: string;
  /** Changes the template before it is resolved (the tests break the stack on purpose here). */
  readonly alterTemplate?: (template: CfnTemplate) => void;
  /** Secret values by name or ARN (`--secrets <file>`), over the local world's. */
  readonly secrets?: Readonly<Record<string, unknown>>;
  readonly say?: (line: string) => void;
}

export interface RoundResult {
  readonly round: number;
  readonly extractRuns: number;
  readonly enqueued: number;
  readonly seconds: number;
}

export interface FunctionReport extends FunctionStats {
  readonly logicalId: string;
  readonly name: string;
  readonly bundleKb: number;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The deploy rehearsal: the synthesized stack, resolved and created on local parts, each function
 * from its bundle in its own process, driven by its schedules and event source mappings the way AWS
 * drives them. Whatever goes wrong lands in `problems`, each line naming the resource.
 */
export class Rehearsal {
  readonly problems: string[];
  readonly stack: ResolvedStack;
  readonly local: LocalStack;
  readonly endpoints: Readonly<Record<string, string>>;
  readonly notRehearsed: readonly string[];
  private readonly opts: RehearsalOptions;
  private readonly functions: ReadonlyMap<string, RehearsedFunction>;
  private readonly mappings: readonly EventSourceMapping[];
  private readonly lambda: LocalLambda;
  private readonly servers: ReadonlyArray<{ stop(): Promise<void> }>;
  private readonly roles: RoleCredentials;
  private readonly runs: RunRecord[];
  private readonly iam: RehearsalGateway;
  /** Errors of environments that cannot run at all (see waitUntilQuiet). */
  private readonly fatal: string[];

  private constructor(init: {
    opts: RehearsalOptions;
    problems: string[];
    stack: ResolvedStack;
    local: LocalStack;
    endpoints: Record<string, string>;
    notRehearsed: string[];
    functions: Map<string, RehearsedFunction>;
    mappings: EventSourceMapping[];
    lambda: LocalLambda;
    servers: Array<{ stop(): Promise<void> }>;
    roles: RoleCredentials;
    runs: RunRecord[];
    fatal: string[];
    iam: RehearsalGateway;
  }) {
    this.opts = init.opts;
    this.problems = init.problems;
    this.stack = init.stack;
    this.local = init.local;
    this.endpoints = init.endpoints;
    this.notRehearsed = init.notRehearsed;
    this.functions = init.functions;
    this.mappings = init.mappings;
    this.lambda = init.lambda;
    this.servers = init.servers;
    this.roles = init.roles;
    this.runs = init.runs;
    this.fatal = init.fatal;
    this.iam = init.iam;
  }

  static async start(opts: RehearsalOptions): Promise<Rehearsal> {
    const say = opts.say ?? (() => {});
    mkdirSync(join(opts.workDir, 'logs'), { recursive: true });
    const template = JSON.parse(
      readFileSync(join(opts.cdkOut, `${opts.stackName}.template.json`), 'utf8'),
    ) as CfnTemplate;
    opts.alterTemplate?.(template);

    const local = await LocalStack.start({ config: opts.config, demo: { customers: opts.customers } });
    // The demo's two-way pair: its own contacts in both apps, and the ELT's first load of both.
    if (hasDemoPair(opts.config.syncs)) {
      seedDemoApps(local);
      await loadPairCopies(local.dwh, local);
    }
    const servers: Array<{ stop(): Promise<void> }> = [];
    try {
      say(`warehouse (${opts.customers} demo customers), DynamoDB, SQS, S3 and the target fakes are up`);
      const problems: string[] = [];
      const runs: RunRecord[] = [];
      const fatal: string[] = [];
      const noteFatal = (
        logicalId: string,
        error: { errorType: string; errorMessage: string } | undefined,
      ) => {
        if (error && FATAL_ERROR.test(error.errorType)) fatal.push(`${logicalId}: ${error.errorType}`);
      };
      const roles = new RoleCredentials();
      // The template as IAM sees it (queue URLs do not matter to a policy); the stack proper is
      // resolved once the gateway's URL, which its queue URLs carry, is known.
      const draft = resolveTemplate(template, { stackName: opts.stackName });
      const secrets = new LocalSecretsManager({
        region: draft.region,
        accountId: draft.account,
        secrets: rehearsalSecrets(draft, opts.config, local, opts.secrets),
      });
      servers.push(secrets);
      const functions = new Map<string, RehearsedFunction>();
      const asyncRetries = asyncRetriesOf(draft);
      const byArn = (arn: string) =>
        [...functions.values()].find((f) => f.spec.arn === arn.replace(/:(\$LATEST|\d+)$/, ''));
      const lambda = new LocalLambda({
        functions: [...draft.physical.values()]
          .filter((p) => p.type === 'AWS::Lambda::Function')
          .map((p) => ({ name: p.ref, arn: p.attributes.Arn! })),
        region: draft.region,
        accountId: draft.account,
        // Lambda's own retries of asynchronous invocations are per function (EventInvokeConfig),
        // so they are made here rather than by the endpoint.
        asyncRetryAttempts: 0,
        invoke: async (arn, payload, type) => {
          const fn = byArn(arn);
          if (!fn) throw new Error(`no function ${arn} in the stack`);
          const event = JSON.parse(new TextDecoder().decode(payload) || 'null') as unknown;
          const attempts = type === 'Event' ? 1 + (asyncRetries.get(fn.spec.name) ?? 2) : 1;
          let result = await fn.invoke(event, arn);
          for (let attempt = 2; result.error && attempt <= attempts; attempt++)
            result = await fn.invoke(event, arn);
          noteFatal(fn.spec.logicalId, result.error);
          if (result.error) {
            problems.push(
              `${fn.spec.logicalId} (${type === 'Event' ? `asynchronous invoke, ${attempts} attempt(s)` : 'invoke'}): ${result.error.errorType}: ${result.error.errorMessage}`,
            );
          } else if (isRunRecord(result.payload)) {
            runs.push(JSON.parse(result.payload!) as RunRecord);
          }
          const body = result.error ? JSON.stringify(result.error) : (result.payload ?? 'null');
          return {
            payload: new TextEncoder().encode(body),
            ...(result.error ? { functionError: true } : {}),
          };
        },
      });
      servers.push(lambda);
      const sts = new LocalSts({
        identities: {
          [OPERATOR.accessKeyId]: {
            arn: `arn:aws:iam::${draft.account}:user/rehearsal-operator`,
            userId: 'AIDAREHEARSALOPERATOR',
          },
        },
      });
      servers.push(sts);
      const iam = await startGateway(
        draft,
        roles,
        {
          dynamodb: local.emulators.dynamodbEndpoint,
          sqs: local.emulators.sqsEndpoint,
          s3: local.emulators.s3Endpoint,
          secretsmanager: await secrets.start(),
          lambda: await lambda.start(),
          sts: await sts.start(),
        },
        (id) => secrets.arnOf(id),
      );
      servers.push(iam.gateway);
      problems.push(...iam.templateProblems);
      const stack = resolveTemplate(template, { stackName: opts.stackName, sqsBaseUrl: iam.gateway.url });
      const provisioned = await provisionFromTemplate(stack, local.aws);
      say(`created the template's tables, queues and buckets (${provisioned.queueUrls.size} queues)`);
      // Every AWS call of the functions, their mappings, their schedules and the CLI goes through
      // the gateway, which checks it against the caller's role.
      const endpoints: Record<string, string> = Object.fromEntries(
        ['DYNAMODB', 'SQS', 'S3', 'SECRETS_MANAGER', 'LAMBDA', 'STS', 'CLOUDFORMATION'].map((s) => [
          s,
          iam.gateway.url,
        ]),
      );
      const specs = functionSpecs(stack, {
        cdkOut: opts.cdkOut,
        credentialsFor: (role) => roles.forRole(role),
        endpoints,
        runtimeFiles: local.pg.caFile ? { '/var/runtime/ca-cert.pem': local.pg.caFile } : {},
        nodeBinDir: dirname(process.execPath),
      });
      for (const spec of specs) {
        const logFile = join(opts.workDir, 'logs', `${spec.logicalId}.log`);
        writeFileSync(logFile, '');
        functions.set(
          spec.logicalId,
          new RehearsedFunction(spec, {
            nodePath: process.execPath,
            log: (line) => appendFileSync(logFile, `${line}\n`),
          }),
        );
      }
      const logicalIdOfName = new Map(specs.map((s) => [s.name, s.logicalId]));
      const mappings = mappingSpecs(
        stack.resources,
        (arn) => provisioned.queueUrls.get(arn),
        (name) => logicalIdOfName.get(name),
      ).map((spec) => {
        if (!spec.reportBatchItemFailures) {
          problems.push(
            `${spec.logicalId}: the event source mapping of ${spec.functionName} has no FunctionResponseTypes ["ReportBatchItemFailures"]: a batch with one failed record would be deleted whole (records lost) or retried whole`,
          );
        }
        const fn = functions.get(spec.functionName)!;
        return new EventSourceMapping(spec, {
          sqs: sqsClientFor(stack.region, iam.gateway.url, roles.forRole(fn.spec.roleArn)),
          region: stack.region,
          invoke: async (event) => {
            const result = await fn.invoke(event);
            noteFatal(fn.spec.logicalId, result.error);
            return result;
          },
          onProblem: (p) => problems.push(`${p.mapping}: ${p.message}`),
        });
      });
      const cfn = new LocalCloudFormation({
        region: stack.region,
        accountId: stack.account,
        stacks: [
          {
            stackName: opts.stackName,
            outputs: Object.entries(stack.outputs).map(([key, o]) => ({
              OutputKey: key,
              OutputValue: o.value,
              ...(o.description ? { Description: o.description } : {}),
            })),
          },
        ],
      });
      servers.push(cfn);
      iam.upstreams.cloudformation = await cfn.start();
      for (const m of mappings) {
        try {
          await m.start();
        } catch (err) {
          problems.push(
            `${m.logicalId}: the event source mapping cannot read its queue: ${(err as Error).message}`,
          );
        }
      }
      return new Rehearsal({
        opts,
        problems,
        stack,
        local,
        endpoints,
        notRehearsed: [...provisioned.notRehearsed],
        functions,
        mappings,
        lambda,
        servers,
        roles,
        runs,
        fatal,
        iam,
      });
    } catch (err) {
      await Promise.allSettled(servers.map((s) => s.stop()));
      await local.stop();
      throw err;
    }
  }

  /** ARNs of the verify functions (the stack's `<Sync>VerifyFunctionName` outputs). */
  private verifyFunctionArns(): Set<string> {
    const names = new Set(
      this.opts.config.syncs
        .map((s) => this.stack.outputs[syncOutputNames(s.name).verifyFunctionName]?.value)
        .filter((n): n is string => n !== undefined),
    );
    return new Set([...this.functions.values()].filter((f) => names.has(f.spec.name)).map((f) => f.spec.arn));
  }

  /**
   * Fires every enabled schedule of one kind once, as EventBridge Scheduler would at its next
   * tick: an asynchronous invoke of its target with its input, made with the schedule's role.
   * `sync` schedules start extracts; `verify` ones start verifications (after the ELT load).
   */
  async fireSchedules(kind: 'sync' | 'verify'): Promise<number> {
    let fired = 0;
    const verifiers = this.verifyFunctionArns();
    for (const [logicalId, r] of Object.entries(this.stack.resources)) {
      if (r.Type !== 'AWS::Scheduler::Schedule') continue;
      const p = r.Properties ?? {};
      if (p.State === 'DISABLED') continue;
      const target = p.Target as { Arn: string; Input?: string; RoleArn: string };
      if (verifiers.has(target.Arn) !== (kind === 'verify')) continue;
      const client = new LambdaClient({
        region: this.stack.region,
        endpoint: this.endpoints.LAMBDA,
        credentials: this.roles.forRole(target.RoleArn),
        maxAttempts: 1,
      });
      try {
        await client.send(
          new InvokeCommand({
            FunctionName: target.Arn,
            InvocationType: 'Event',
            Payload: new TextEncoder().encode(target.Input ?? '{}'),
          }),
        );
        fired += 1;
      } catch (err) {
        this.problems.push(
          `${logicalId}: the schedule could not invoke ${target.Arn}: ${(err as Error).message}`,
        );
      } finally {
        client.destroy();
      }
    }
    return fired;
  }

  /**
   * Waits until no invocation runs and every queue of the stack is empty: `quiet`. Stops early
   * when an execution environment cannot run at all (`fatal`: a bundle that does not load, a
   * handler missing, a timeout; its messages would only come back after the visibility timeout),
   * or when nothing has moved for `stallMs` while messages remain (`stalled`).
   */
  async waitUntilQuiet(stallMs = 120_000): Promise<'quiet' | 'fatal' | 'stalled'> {
    let quietChecks = 0;
    let lastProgress = '';
    let lastChange = Date.now();
    while (quietChecks < 2) {
      if (this.fatal.length > 0) return 'fatal';
      await Promise.race([this.lambda.idle(), sleep(1000)]);
      const left = await this.messagesLeft();
      const busy = this.mappings.some((m) => m.busy) || left > 0 || this.inFlight() > 0;
      const progress = `${left}/${this.messagesWritten()}/${this.invocations()}`;
      if (progress !== lastProgress) {
        lastProgress = progress;
        lastChange = Date.now();
      } else if (busy && Date.now() - lastChange > stallMs) {
        this.problems.push(
          `the stack stalled: ${left} message(s) left in its queues and nothing moved for ${stallMs / 1000} s (see the function logs)`,
        );
        return 'stalled';
      }
      quietChecks = busy ? 0 : quietChecks + 1;
      await sleep(busy ? 500 : 250);
    }
    return 'quiet';
  }

  private invocations(): number {
    return [...this.functions.values()].reduce((n, f) => n + f.stats().invocations, 0);
  }

  /** Invocations running now (asynchronous ones included). */
  private inFlight(): number {
    return [...this.functions.values()].reduce((n, f) => n + f.running, 0);
  }

  /**
   * Schedule rounds until one moves nothing: each round fires every schedule and waits for the
   * stack to settle (a child sync whose parents were not linked yet goes again next round).
   */
  async drain(maxRounds = 6): Promise<{ rounds: RoundResult[]; settled: boolean }> {
    const rounds: RoundResult[] = [];
    for (let round = 1; round <= maxRounds; round++) {
      const before = this.runs.length;
      const t0 = performance.now();
      await this.fireSchedules('sync');
      const settled = await this.waitUntilQuiet();
      const these = this.runs.slice(before);
      const enqueued = these.reduce((n, r) => n + (r.counts?.enqueued ?? 0), 0);
      rounds.push({ round, extractRuns: these.length, enqueued, seconds: (performance.now() - t0) / 1000 });
      this.opts.say?.(
        `round ${round}: ${these.length} extract runs enqueued ${enqueued} records (${rounds.at(-1)!.seconds.toFixed(1)} s)`,
      );
      if (settled !== 'quiet') {
        if (settled === 'fatal')
          this.problems.push(`stopped: ${this.fatal.join('; ')} (the function cannot run)`);
        return { rounds, settled: false };
      }
      if (enqueued === 0) return { rounds, settled: true };
    }
    this.problems.push(
      `the syncs still enqueued records after ${maxRounds} schedule rounds: they do not converge`,
    );
    return { rounds, settled: false };
  }

  /** Messages still in the stack's queues (visible, in flight or delayed), dead-letter queues excepted. */
  private async messagesLeft(): Promise<number> {
    let left = 0;
    for (const m of this.mappings) {
      const res = await this.local.aws.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: m.queueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      for (const v of Object.values(res.Attributes ?? {})) left += Number(v);
    }
    return left;
  }

  /** Runs the operator CLI against the rehearsed stack as a user would: `--stack <name>`, AWS credentials. */
  async cli(args: readonly string[]): Promise<CliResult> {
    const env: Record<string, string> = {
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? '/tmp',
      AWS_REGION: this.stack.region,
      AWS_ACCESS_KEY_ID: OPERATOR.accessKeyId,
      AWS_SECRET_ACCESS_KEY: OPERATOR.secretAccessKey,
      NO_COLOR: '1',
      ...Object.fromEntries(Object.entries(this.endpoints).map(([k, v]) => [`AWS_ENDPOINT_URL_${k}`, v])),
    };
    return await new Promise((resolveRun) => {
      execFile(
        process.execPath,
        [join(ROOT, 'cli/main.ts'), '--stack', this.opts.stackName, '-c', this.opts.configPath, ...args],
        { cwd: ROOT, env, maxBuffer: 64 * 2 ** 20, timeout: 10 * 60_000 },
        (err, stdout, stderr) => {
          const code = err
            ? typeof (err as { code?: unknown }).code === 'number'
              ? (err as { code: number }).code
              : 1
            : 0;
          resolveRun({ code, stdout, stderr });
        },
      );
    });
  }

  /** Each function's figures: cold starts, init time, memory, bundle size. */
  functionReports(): FunctionReport[] {
    return [...this.functions.values()].map((f) => ({
      logicalId: f.spec.logicalId,
      name: f.spec.name,
      bundleKb: Math.round(bundleBytes(f.spec.taskRoot, f.spec.handler) / 1024),
      ...f.stats(),
    }));
  }

  /** What the IAM check found so far: calls denied (with the statement missing) and grants unused. */
  iamFindings(): IamFindings {
    return this.iam.findings();
  }

  messagesWritten(): number {
    return this.mappings.reduce((n, m) => n + m.messagesDeleted, 0);
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.mappings.map((m) => m.stop()));
    for (const f of this.functions.values()) f.stop();
    await Promise.allSettled(this.servers.map((s) => s.stop()));
    await this.local.stop();
  }
}

/** Lambda's errors of an environment that cannot do its work at all, whatever the event. */
const FATAL_ERROR = /^(Runtime|Sandbox)\./;

/** An SQS client with a role's session: the event source mapping polls with the function's role. */
function sqsClientFor(region: string, endpoint: string, credentials: FunctionCredentials): SQSClient {
  return new SQSClient({ region, endpoint, credentials });
}

/** MaximumRetryAttempts of each function's EventInvokeConfig, by function name (Lambda's default is 2). */
function asyncRetriesOf(stack: ResolvedStack): Map<string, number> {
  const retries = new Map<string, number>();
  for (const r of Object.values(stack.resources)) {
    if (r.Type !== 'AWS::Lambda::EventInvokeConfig') continue;
    const p = r.Properties ?? {};
    if (p.MaximumRetryAttempts !== undefined)
      retries.set(String(p.FunctionName), Number(p.MaximumRetryAttempts));
  }
  return retries;
}

function isRunRecord(payload: string | undefined): boolean {
  return payload?.startsWith('{') === true && payload.includes('"runId"');
}

function bundleBytes(taskRoot: string, handler: string): number {
  const module = handler.slice(0, handler.lastIndexOf('.'));
  for (const ext of ['.mjs', '.js', '.cjs']) {
    try {
      return statSync(join(taskRoot, module + ext)).size;
    } catch {
      // next extension
    }
  }
  return 0;
}

/**
 * Cost benchmark (issue 19): what a changed record and an idle sync cost on AWS, from what a run
 * of the demo syncs on the local stack actually does.
 *
 * Measured here: DynamoDB read and write units as DynamoDB Local reports them (every call asks
 * ReturnConsumedCapacity INDEXES: index writes included; dynalite reports neither), SQS requests in
 * 64 KB chunks, S3 requests, handler invocations and their durations (× the memory the synthesized
 * template gives each function = GB-seconds), the alarms and alarm metrics of the synthesized
 * template, the custom metrics the handlers publish for the runs measured (functions/runMetrics.ts),
 * and the bytes each run logs. Money comes only from bench/prices.json (us-east-1, sources, date).
 *
 * Phases: (1) the demo's backfill (creates), (2) a quiet round once nothing changed (each sync's
 * no-op run), (3) `--touch` customers edited and written again (updates).
 *
 * Usage: npm run bench -- cost [--customers 2000] [--touch 1000] [--template cdk.out/Writeback.template.json] [--write-docs]
 * (--write-docs: rewrites the generated part of docs/deploy.md's cost section from these figures)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addRunMetrics } from '../functions/runMetrics.ts';
import { touchCustomers } from '../local/demoData.ts';
import { type HandlerInvocation, LocalStack } from '../local/LocalStack.ts';
import { loadConfigFile } from '../shared/config/loadConfig.ts';
import { rateSeconds } from '../shared/config/schedule.ts';
import type { RunRecord } from '../shared/state/RunRecord.ts';
import { AwsMeter, ddbRequestCount, diffCounts, type MeterCounts, totalWru } from './_awsMeter.ts';

// DynamoDB Local reports consumed capacity (index writes included) as AWS does; dynalite does not.
process.env.WB_DYNAMODB ??= 'local';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const root = fileURLToPath(new URL('..', import.meta.url));
const prices = JSON.parse(readFileSync(new URL('./prices.json', import.meta.url), 'utf8'));

type Resource = { Type: string; Properties?: Record<string, unknown> };

/** The synthesized template: `--template`, or a fresh `cdk synth` of this checkout. */
function loadTemplate(context: string[] = []): Record<string, Resource> {
  const given = process.argv.includes('--template') && context.length === 0 ? arg('template', '') : undefined;
  if (given) return JSON.parse(readFileSync(given, 'utf8')).Resources;
  const out = mkdtempSync(join(tmpdir(), 'wb-cost-synth-'));
  try {
    process.stderr.write(`synthesizing the stack (cdk synth ${context.join(' ')})…\n`);
    execFileSync('npx', ['cdk', 'synth', '--quiet', ...context.flatMap((c) => ['-c', c]), '-o', out], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    return JSON.parse(readFileSync(join(out, 'Writeback.template.json'), 'utf8')).Resources;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const pascal = (name: string) =>
  name
    .split(/[^a-zA-Z0-9]/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');

interface SyncTemplate {
  /** MemorySize of the extract and write functions, MB. */
  memory: { extract: number; write: number };
  alarms: number;
  /** Billed alarm metrics: one per metric an alarm evaluates (metric math counts each). */
  alarmMetrics: number;
}

function syncTemplate(resources: Record<string, Resource>, sync: string): SyncTemplate {
  const prefix = `Sync${pascal(sync)}`;
  const own = Object.entries(resources).filter(([id]) => id.startsWith(prefix));
  const memory = (kind: string) => {
    const fn = own.find(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(`${prefix}${kind}Function`),
    );
    if (!fn) throw new Error(`no ${kind} function for ${sync} in the template`);
    return Number(fn[1].Properties!.MemorySize ?? 128);
  };
  const alarms = own.filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm').map(([, r]) => r);
  return {
    memory: { extract: memory('Extract'), write: memory('Write') },
    alarms: alarms.length,
    alarmMetrics: billedAlarmMetrics(alarms),
  };
}

/** Billed alarm metrics of some alarms: one per metric an alarm evaluates (metric math counts each). */
function billedAlarmMetrics(alarms: readonly Resource[]): number {
  return alarms.reduce((n, r) => {
    const metrics = r.Properties!.Metrics as { MetricStat?: unknown }[] | undefined;
    return n + (metrics ? metrics.filter((m) => m.MetricStat).length : 1);
  }, 0);
}

/** The stack's own alarms (not of one sync: their logical ids do not start with `Sync`), shared by every sync. */
function stackAlarms(resources: Record<string, Resource>): Resource[] {
  return Object.entries(resources)
    .filter(([id, r]) => r.Type === 'AWS::CloudWatch::Alarm' && !id.startsWith('Sync'))
    .map(([, r]) => r);
}

/** The custom metrics the extract handler publishes for a run (names; one metric each per sync). */
function runMetricNames(run: RunRecord): string[] {
  const names = new Set<string>();
  const recorder = {
    singleMetric: () => recorder,
    addDimension: () => undefined,
    addMetric: (name: string) => names.add(name),
  };
  addRunMetrics(recorder as unknown as Parameters<typeof addRunMetrics>[0], run);
  return [...names];
}

interface PhaseResult {
  counts: MeterCounts;
  invocations: HandlerInvocation[];
  written: number;
  runs: RunRecord[];
}

/** Lambda GB-seconds of invocations, each billed by the millisecond at its function's memory. */
function gbSeconds(invocations: readonly HandlerInvocation[], templates: Map<string, SyncTemplate>): number {
  return invocations.reduce(
    (s, i) => s + (Math.ceil(i.ms) / 1000) * (templates.get(i.sync)!.memory[i.fn] / 1024),
    0,
  );
}

/** Dollars of a phase's DynamoDB, SQS, S3 and Lambda use. */
function money(p: PhaseResult, templates: Map<string, SyncTemplate>) {
  const c = p.counts;
  const s3 = Object.entries(c.s3Requests).reduce(
    (s, [op, n]) => s + n * (op === 'GetObject' ? prices.s3.getRequest : prices.s3.putRequest),
    0,
  );
  const parts = {
    dynamodbWrites: totalWru(c) * prices.dynamodb.writeRequestUnit,
    dynamodbReads: c.rru * prices.dynamodb.readRequestUnit,
    sqs: c.sqsBilled * prices.sqs.request,
    s3,
    lambdaRequests: p.invocations.length * prices.lambda.request,
    lambdaDuration: gbSeconds(p.invocations, templates) * prices.lambda.arm64GbSecond,
  };
  return { ...parts, total: Object.values(parts).reduce((a, b) => a + b, 0) };
}

async function main(): Promise<void> {
  const customers = Number(arg('customers', '2000'));
  const touch = Number(arg('touch', '1000'));
  const resources = loadTemplate();
  const config = await loadConfigFile(join(root, 'writeback.config.ts'));
  const templates = new Map(config.syncs.map((s) => [s.name, syncTemplate(resources, s.name)]));
  const invocations: HandlerInvocation[] = [];
  process.stderr.write(`starting the local stack on DynamoDB Local with ${customers} demo customers…\n`);
  const stack = await LocalStack.start({
    config,
    demo: { customers },
    onInvocation: (i) => invocations.push(i),
  });
  const meter = new AwsMeter();
  // The harness's drain polls queue depths with GetQueueAttributes; no handler calls it.
  meter.attach(stack.aws, { ignoreSqs: ['GetQueueAttributes'] });
  const written = () =>
    config.syncs.reduce((n, s) => {
      const w = stack.stats(s.name).write;
      return n + w.created + w.updated;
    }, 0);

  /** Runs every sync (parents first, as configured) until a round sends nothing, draining the queues after each. */
  const untilQuiet = async (runs: RunRecord[]) => {
    for (let round = 0; round < 20; round++) {
      let sent = 0;
      for (const sync of config.syncs) {
        const run = await stack.runExtract(sync.name);
        runs.push(run);
        sent += run.counts.enqueued + (run.counts.redriven ?? 0) + (run.backlog ? 1 : 0);
      }
      await stack.drain(300_000);
      if (sent === 0) return;
    }
    throw new Error('the demo syncs did not settle in 20 rounds');
  };
  const phase = async (label: string, body: (runs: RunRecord[]) => Promise<void>): Promise<PhaseResult> => {
    process.stderr.write(`${label}…\n`);
    const before = meter.snapshot();
    const inv0 = invocations.length;
    const w0 = written();
    const runs: RunRecord[] = [];
    await body(runs);
    return {
      counts: diffCounts(meter.snapshot(), before),
      invocations: invocations.slice(inv0),
      written: written() - w0,
      runs,
    };
  };

  try {
    stack.startWriters();
    const backfill = await phase('backfill of the demo (creates)', untilQuiet);
    await stack.stopWriters();
    // One no-op run per sync, each metered on its own: the idle sync's cost.
    const quiet = new Map<string, PhaseResult>();
    for (const sync of config.syncs) {
      quiet.set(
        sync.name,
        await phase(`quiet run of ${sync.name}`, async (runs) => {
          runs.push(await stack.runExtract(sync.name));
        }),
      );
    }
    stack.startWriters();
    const updates = await phase(`${touch} customers edited (updates)`, async (runs) => {
      await touchCustomers(stack.dwh, touch);
      await untilQuiet(runs);
    });
    await stack.stopWriters();

    const perRecord = (p: PhaseResult) => {
      const m = money(p, templates);
      const per = (n: number) => n / p.written;
      return {
        records: p.written,
        wru: per(totalWru(p.counts)),
        tableWru: per(p.counts.tableWru),
        indexWru: Object.fromEntries(Object.entries(p.counts.indexWru).map(([k, v]) => [k, per(v)])),
        failedConditionalWrites: per(p.counts.failedConditionalWrites),
        rru: per(p.counts.rru),
        unitsByCall: Object.fromEntries(
          Object.entries(p.counts.unitsByCall).map(([k, v]) => [k, Number(per(v).toFixed(4))]),
        ),
        requestsByCall: Object.fromEntries(
          Object.entries(p.counts.requestsByCall).map(([k, v]) => [k, Number(per(v).toFixed(4))]),
        ),
        sqsBilled: per(p.counts.sqsBilled),
        sqsByOperation: Object.fromEntries(Object.entries(p.counts.sqsRequests).map(([k, v]) => [k, per(v)])),
        invocations: per(p.invocations.length),
        gbSeconds: per(gbSeconds(p.invocations, templates)),
        gbSecondsByFunction: Object.fromEntries(
          (['extract', 'write'] as const).map((fn) => [
            fn,
            per(
              gbSeconds(
                p.invocations.filter((i) => i.fn === fn),
                templates,
              ),
            ),
          ]),
        ),
        usdPerMillion: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, per(v) * 1e6])) as Record<
          keyof typeof m,
          number
        >,
      };
    };
    const creates = perRecord(backfill);
    const changed = perRecord(updates);

    // The idle sync: the first sync on a 5-minute schedule, its no-op run repeated all month.
    const idleSync = config.syncs.find((s) => rateSeconds(s.schedule ?? '') === 300) ?? config.syncs[0]!;
    const q = quiet.get(idleSync.name)!;
    const t = templates.get(idleSync.name)!;
    const intervalS = rateSeconds(idleSync.schedule ?? '') ?? 300;
    const runsPerMonth = (prices.hoursPerMonth * 3600) / intervalS;
    const quietRun = q.runs[0]!;
    const metricNames = runMetricNames(quietRun);
    const logBytes = Buffer.byteLength(
      JSON.stringify({ message: 'extract run finished', run: quietRun }),
      'utf8',
    );
    const qm = money(q, templates);
    const idle = {
      dynamodb: (qm.dynamodbReads + qm.dynamodbWrites) * runsPerMonth,
      lambda: (qm.lambdaRequests + qm.lambdaDuration) * runsPerMonth,
      scheduler: runsPerMonth * prices.scheduler.invocation,
      sqsPolling:
        prices.awsBehaviour.idleEsmReceivesPerMinute * 60 * prices.hoursPerMonth * prices.sqs.request,
      alarms: t.alarmMetrics * prices.cloudwatch.alarmMetricMonth,
      metrics: metricNames.length * prices.cloudwatch.customMetricMonth,
      logs: ((logBytes * runsPerMonth) / 1e9) * prices.cloudwatch.logsIngestedGb,
    };
    const idleTotal = Object.values(idle).reduce((a, b) => a + b, 0);
    const dashboards = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard').length;
    const shared = stackAlarms(resources);
    const sharedAlarmMetrics = billedAlarmMetrics(shared);
    const endpoints = Object.values(resources).filter(
      (r) => r.Type === 'AWS::EC2::VPCEndpoint' && r.Properties?.VpcEndpointType === 'Interface',
    );
    const secrets = new Set(
      [
        config.warehouse?.secret,
        config.warehouse?.writerSecret,
        ...Object.values(config.connections).map((c) => c.secret),
      ].filter((x): x is string => x !== undefined),
    ).size;

    const usd = (n: number) => `$${n.toFixed(n < 0.1 ? 4 : 2)}`;
    const f = (n: number, d = 2) => Number(n.toFixed(d));
    const show = (label: string, r: ReturnType<typeof perRecord>) =>
      console.log(
        `${label}: ${r.records} records; per record ${f(r.wru)} WRU (table ${f(r.tableWru)}, indexes ${JSON.stringify(
          Object.fromEntries(Object.entries(r.indexWru).map(([k, v]) => [k, f(v)])),
        )}, failed conditions ${f(r.failedConditionalWrites)}), ${f(r.rru)} RRU, ${f(r.sqsBilled, 3)} SQS requests, ` +
          `${f(r.invocations, 3)} invocations, ${f(r.gbSeconds, 4)} GB-s → ${usd(r.usdPerMillion.total)} per million ` +
          `(DynamoDB ${usd(r.usdPerMillion.dynamodbWrites + r.usdPerMillion.dynamodbReads)}, SQS ${usd(r.usdPerMillion.sqs)}, Lambda ${usd(r.usdPerMillion.lambdaRequests + r.usdPerMillion.lambdaDuration)})`,
      );
    show('changed records (updates)', changed);
    show('new records (creates)', creates);
    for (const [name, p] of quiet) {
      console.log(
        `quiet run of ${name}: ${ddbRequestCount(p.counts)} DynamoDB requests ${JSON.stringify(p.counts.ddbRequests)}, ` +
          `${f(p.counts.rru, 1)} RRU, ${f(totalWru(p.counts), 1)} WRU, ${p.counts.sqsBilled} SQS requests, ${Math.round(p.invocations[0]?.ms ?? 0)} ms`,
      );
    }
    console.log(
      `idle ${idleSync.name} (${idleSync.schedule}, ${runsPerMonth} runs a month): ${usd(idleTotal)} a month = ` +
        Object.entries(idle)
          .map(([k, v]) => `${k} ${usd(v)}`)
          .join(' + ') +
        ` (${t.alarms} alarms on ${t.alarmMetrics} metrics; custom metrics every run: ${metricNames.join(', ') || 'none'})`,
    );
    console.log(
      `fixed: ${dashboards} dashboard(s) (${usd(prices.cloudwatch.dashboardMonth)} each beyond ${prices.cloudwatch.freeDashboards} free), ` +
        `${shared.length} stack alarm(s) on ${sharedAlarmMetrics} metric(s) (${usd(sharedAlarmMetrics * prices.cloudwatch.alarmMetricMonth)}), ` +
        `${endpoints.length} interface endpoint(s) in this template`,
    );
    console.log(
      JSON.stringify({
        bench: 'cost',
        pricesRecorded: prices.recorded,
        customers,
        touched: touch,
        changed,
        creates,
        quiet: Object.fromEntries(
          [...quiet].map(([name, p]) => [
            name,
            {
              ddbRequests: ddbRequestCount(p.counts),
              byOperation: p.counts.ddbRequests,
              rru: p.counts.rru,
              wru: totalWru(p.counts),
              sqsBilled: p.counts.sqsBilled,
              ms: p.invocations[0]?.ms,
            },
          ]),
        ),
        idle: {
          sync: idleSync.name,
          schedule: idleSync.schedule,
          runsPerMonth,
          usdPerMonth: idleTotal,
          parts: idle,
          alarms: t.alarms,
          alarmMetrics: t.alarmMetrics,
          metricsEveryRun: metricNames,
          logBytesPerRun: logBytes,
        },
        fixed: {
          dashboards,
          stackAlarms: shared.length,
          stackAlarmMetrics: sharedAlarmMetrics,
          interfaceEndpoints: endpoints.length,
        },
      }),
    );
    if (process.argv.includes('--write-docs')) {
      // The private-warehouse shape: the trial database's VPC has the endpoints a dwh* deployment gets.
      const vpc = loadTemplate(['trialDatabase=true']);
      const interfaceEndpoints = Object.values(vpc).filter(
        (r) => r.Type === 'AWS::EC2::VPCEndpoint' && r.Properties?.VpcEndpointType === 'Interface',
      );
      const azs = Math.max(
        ...interfaceEndpoints.map((r) => ((r.Properties?.SubnetIds as unknown[] | undefined) ?? []).length),
      );
      writeCostSection({
        changed,
        creates,
        idle,
        idleTotal,
        idleSync: { name: idleSync.name, schedule: idleSync.schedule ?? '', runsPerMonth },
        quiet: ddbRequestCount(q.counts),
        alarms: t.alarms,
        alarmMetrics: t.alarmMetrics,
        metricNames,
        dashboards,
        stackAlarms: shared.length,
        stackAlarmMetrics: sharedAlarmMetrics,
        secrets,
        endpoints: interfaceEndpoints.length,
        azs,
        customers,
        touch,
      });
    }
  } finally {
    await stack.stop();
  }
}

interface CostFigures {
  changed: ReturnType<typeof perRecordShape>;
  creates: ReturnType<typeof perRecordShape>;
  idle: Record<string, number>;
  idleTotal: number;
  idleSync: { name: string; schedule: string; runsPerMonth: number };
  quiet: number;
  alarms: number;
  alarmMetrics: number;
  metricNames: string[];
  dashboards: number;
  stackAlarms: number;
  stackAlarmMetrics: number;
  secrets: number;
  endpoints: number;
  azs: number;
  customers: number;
  touch: number;
}

/** The shape perRecord returns (declared for CostFigures). */
function perRecordShape() {
  return {
    records: 0,
    wru: 0,
    tableWru: 0,
    indexWru: {} as Record<string, number>,
    rru: 0,
    sqsBilled: 0,
    invocations: 0,
    gbSeconds: 0,
    usdPerMillion: {} as Record<string, number>,
  };
}

const BEGIN = '<!-- cost:begin (generated by npm run bench -- cost --write-docs; do not edit by hand) -->';
const END = '<!-- cost:end -->';

/** Replaces the generated part of docs/deploy.md's cost section with these figures. */
function writeCostSection(f: CostFigures): void {
  const usd = (n: number) => `$${n < 0.01 ? n.toFixed(4) : n.toFixed(2)}`;
  const n2 = (n: number) => n.toFixed(2);
  const row = (label: string, r: CostFigures['changed']) => {
    const m = r.usdPerMillion;
    const idx = Object.entries(r.indexWru)
      .filter(([, v]) => v > 0.005)
      .map(([k, v]) => `${k} ${n2(v)}`)
      .join(', ');
    return `| ${label} | ${r.records} | ${n2(r.wru)} (table ${n2(r.tableWru)}${idx ? `, ${idx}` : ''}) | ${n2(r.rru)} | ${r.sqsBilled.toFixed(3)} | ${r.gbSeconds.toFixed(4)} | ${usd(m.dynamodbWrites! + m.dynamodbReads!)} | ${usd(m.sqs!)} | ${usd(m.lambdaRequests! + m.lambdaDuration!)} | **${usd(m.total!)}** |`;
  };
  const vpcMonth = f.endpoints * f.azs * prices.hoursPerMonth * prices.vpc.interfaceEndpointAzHour;
  const vpcOneAz = f.endpoints * prices.hoursPerMonth * prices.vpc.interfaceEndpointAzHour;
  const nat = prices.hoursPerMonth * prices.vpc.natGatewayHour;
  const lines = [
    BEGIN,
    '',
    `Measured on ${new Date().toISOString().slice(0, 10)} with \`npm run bench -- cost --customers ${f.customers} --touch ${f.touch} --write-docs\`: the demo syncs on the local stack (DynamoDB Local's consumed capacity, every SQS request, each handler's measured duration × its memory in the synthesized template), priced from \`bench/prices.json\` (us-east-1 on-demand list prices recorded ${prices.recorded}, before free tiers). Durations are this machine's, with the emulators on the same cores: Lambda's will differ.`,
    '',
    '**Per changed record** (one million a month costs a million times this; the run overheads of the measured rounds are included):',
    '',
    '| records | measured | WRU / record | RRU / record | SQS requests / record | GB-s / record | DynamoDB per 1M | SQS per 1M | Lambda per 1M | total per 1M |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    row('changed (updates)', f.changed),
    row('new (creates)', f.creates),
    '',
    `**An idle sync** (\`${f.idleSync.schedule}\`, ${f.idleSync.runsPerMonth} quiet runs a month, each ${f.quiet} DynamoDB request${f.quiet === 1 ? '' : 's'}): **${usd(f.idleTotal)} a month**`,
    '',
    '| part | per month | from |',
    '| --- | --- | --- |',
    `| quiet runs: DynamoDB | ${usd(f.idle.dynamodb!)} | the quiet run's read units × runs |`,
    `| quiet runs: Lambda | ${usd(f.idle.lambda!)} | its measured duration × the extract function's memory, and the requests |`,
    `| Scheduler | ${usd(f.idle.scheduler!)} | one invocation a run (within the free 14 million a month) |`,
    `| SQS polling of the idle queue | ${usd(f.idle.sqsPolling!)} | Lambda's event source mapping long-polls an empty queue: ${prices.awsBehaviour.idleEsmReceivesPerMinute} receives a minute assumed (not measurable locally; the first million SQS requests a month are free account-wide) |`,
    `| alarms | ${usd(f.idle.alarms!)} | ${f.alarms} alarms on ${f.alarmMetrics} metrics in the template, $${prices.cloudwatch.alarmMetricMonth} per alarm metric |`,
    `| custom metrics | ${usd(f.idle.metrics!)} | published by a quiet run: ${f.metricNames.length ? f.metricNames.join(', ') : 'none'} |`,
    `| logs | ${usd(f.idle.logs!)} | the run line each quiet run logs |`,
    '',
    '**Fixed, per deployment** (shared by every sync):',
    '',
    '| part | per month |',
    '| --- | --- |',
    `| dashboard (${f.dashboards}) | ${usd(f.dashboards * prices.cloudwatch.dashboardMonth)}, or free as one of the account's first ${prices.cloudwatch.freeDashboards} |`,
    `| alarms of the stack, shared by every sync (${f.stackAlarms}, on ${f.stackAlarmMetrics} metric${f.stackAlarmMetrics === 1 ? '' : 's'}) | ${usd(f.stackAlarmMetrics * prices.cloudwatch.alarmMetricMonth)} |`,
    `| secrets of this config (${f.secrets}) | ${usd(f.secrets * prices.secretsManager.secretMonth)} |`,
    `| alarm topic key (only with \`alarmEmail\`) | ${usd(prices.kms.keyMonth)} |`,
    `| private warehouse (\`dwh*\` context or \`trialDatabase\`): ${f.endpoints} interface endpoints in ${f.azs} AZs | ${usd(vpcMonth)} (+ $${prices.vpc.interfaceEndpointGb}/GB) |`,
    '',
    `Network options for a private warehouse, cheapest first: (1) no VPC, the warehouse reachable over the internet with TLS verified (\`verify-full\`, the default) and its security group limited to known ranges: $0, but Lambda has no fixed egress address, so the warehouse cannot be closed to Writeback alone and the password and TLS are the barrier; (2) the endpoints in one AZ (subnets of one AZ in \`dwhSubnetIds\`): ${usd(vpcOneAz)}, and an AZ outage stops the extract until it ends (bookmarks keep their place; nothing is lost); (3) one NAT gateway instead of the endpoints: ${usd(nat)} plus $${prices.vpc.natGatewayGb}/GB, a route to the internet from the subnets; (4) the endpoints in ${f.azs} AZs (the default): ${usd(vpcMonth)}, no internet route, survives an AZ. Endpoints the VPC already has are reused with \`dwhVpcEndpoints=false\`.`,
    '',
    END,
  ];
  const path = join(root, 'docs/deploy.md');
  const doc = readFileSync(path, 'utf8');
  const a = doc.indexOf('<!-- cost:begin');
  const b = doc.indexOf(END);
  if (a < 0 || b < 0) throw new Error('docs/deploy.md has no generated cost block (cost:begin … cost:end)');
  writeFileSync(path, doc.slice(0, a) + lines.join('\n') + doc.slice(b + END.length));
  process.stderr.write('docs/deploy.md: cost section updated\n');
}

await main();
process.exit(0);

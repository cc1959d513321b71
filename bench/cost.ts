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
 * Usage: npm run bench -- cost [--customers 2000] [--touch 1000] [--template cdk.out/Writeback.template.json]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
function loadTemplate(): Record<string, Resource> {
  const given = process.argv.includes('--template') ? arg('template', '') : undefined;
  if (given) return JSON.parse(readFileSync(given, 'utf8')).Resources;
  const out = mkdtempSync(join(tmpdir(), 'wb-cost-synth-'));
  try {
    process.stderr.write('synthesizing the stack (cdk synth)…\n');
    execFileSync('npx', ['cdk', 'synth', '--quiet', '-o', out], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
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
  const alarms = own.filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
  const alarmMetrics = alarms.reduce((n, [, r]) => {
    const metrics = r.Properties!.Metrics as { MetricStat?: unknown }[] | undefined;
    return n + (metrics ? metrics.filter((m) => m.MetricStat).length : 1);
  }, 0);
  return {
    memory: { extract: memory('Extract'), write: memory('Write') },
    alarms: alarms.length,
    alarmMetrics,
  };
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
  meter.attach(stack.aws);
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
        sqsBilled: per(p.counts.sqsBilled),
        invocations: per(p.invocations.length),
        gbSeconds: per(gbSeconds(p.invocations, templates)),
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
    const endpoints = Object.values(resources).filter(
      (r) => r.Type === 'AWS::EC2::VPCEndpoint' && r.Properties?.VpcEndpointType === 'Interface',
    );

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
        fixed: { dashboards, interfaceEndpoints: endpoints.length },
      }),
    );
  } finally {
    await stack.stop();
  }
}

await main();
process.exit(0);

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { addRunMetrics, addWriteMetrics } from '../../functions/runMetrics.ts';
import { createVerifyHandler } from '../../functions/verify.ts';
import type { SyncConfig } from '../../shared/config/schema.ts';
import {
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  RUN_METRICS,
  VERIFY_METRICS,
  VERIFY_MISMATCHED,
  WRITE_METRICS,
} from '../../shared/contracts/metricNames.ts';
import { STACK_OUTPUTS, syncOutputNames } from '../../shared/contracts/outputNames.ts';
import { ENV, readRuntimeEnv } from '../../shared/contracts/RuntimeEnv.ts';
import { resourcesFromOutputs } from '../../shared/ops/stackResources.ts';
import { RUN_OUTCOMES } from '../../shared/state/RunRecord.ts';
import type { StateStore } from '../../shared/state/StateStore.ts';
import { FINDING_KINDS } from '../../shared/verify/VerifyReport.ts';
import { verifyReadsTarget } from '../../shared/verify/verifyReadsTarget.ts';
import { verifySyncFindings } from '../../shared/verify/verifySync.ts';
import { emptyWriteCounts } from '../../shared/write/processWriteBatch.ts';
import { captureEmf, type EmfMetric, emfMetrics } from '../helpers/emf.ts';
import { buildStack, syncInput, testConfig } from './stackFixture.ts';

/**
 * The contracts between deploy time and run time (shared/contracts/), checked from both ends:
 * what the synthesized stack watches, sets and outputs against what the handlers publish, read
 * and the CLI reads. Each check is a function over the template, and each is also run once on a
 * template with a planted mistake, so that a check that can no longer fail is seen.
 */

// The verify handler's comparison needs a warehouse; here it only has to report every finding kind.
vi.mock('../../shared/verify/verifySync.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../shared/verify/verifySync.ts')>()),
  verifySyncFindings: vi.fn(),
}));

// Prepare (shared): every kind of function and every optional output: verify against a warehouse
// copy and against the target API, a parent whose extract starts its child's, an alarm topic, the
// trial database.
const config = testConfig(
  [
    syncInput('contacts', { verify: { table: 'hubspot.contacts', externalIdColumn: 'dwh_id' } }),
    syncInput('deals', {
      target: { connection: 'hubspot', object: 'deals', externalId: 'dwh_id' },
      verify: {},
    }),
    syncInput('customers', { target: { connection: 'billing-db', object: 'billing.customers' } }),
    syncInput('invoices', {
      target: { connection: 'billing-db', object: 'billing.invoices' },
      parent: { sync: 'customers', key: 'customer_id' },
    }),
  ],
  { warehouse: {} },
);
/** Parents whose extract function starts a child's when done (the child shares their schedule). */
const RUNS_CHILDREN = new Set(['customers']);
const { template } = buildStack(config, { alarmEmail: 'ops@example.com', trialDatabase: true });
const TEMPLATE = template.toJSON() as Template;

type Resource = { Type: string; Properties: Record<string, unknown> };
type Template = { Resources: Record<string, Resource>; Outputs: Record<string, unknown> };

// ---------------------------------------------------------------------------------------------
// Metrics: what the alarms and the dashboard watch, against what the handlers publish.

/** A metric the stack refers to; a dimension value that is a resource reference reads `@<logical id>`. */
interface WatchedMetric {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** Where the stack refers to it (alarm or dashboard widget), for messages. */
  readonly where: string;
}

/**
 * A template value as text: `{Ref: X}` and `{'Fn::GetAtt': [X, …]}` read `@X`, `Fn::Join` joins its
 * parts so read, a string is itself.
 */
function resolve(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::Join'?: [string, unknown[]] };
  if (v['Fn::Join']) return v['Fn::Join'][1].map(resolve).join(v['Fn::Join'][0]);
  return `@${v.Ref ?? v['Fn::GetAtt']?.[0] ?? JSON.stringify(value)}`;
}

type CfnMetric = {
  Namespace: string;
  MetricName: string;
  Dimensions?: { Name: string; Value: unknown }[];
};

const fromCfn = (m: CfnMetric, where: string): WatchedMetric => ({
  namespace: m.Namespace,
  name: m.MetricName,
  dimensions: Object.fromEntries((m.Dimensions ?? []).map((d) => [d.Name, resolve(d.Value)])),
  where,
});

/** Every metric every alarm watches: its single metric, or each metric of its metric math. */
function alarmMetrics(t: Template): WatchedMetric[] {
  const out: WatchedMetric[] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    if (r.Type !== 'AWS::CloudWatch::Alarm') continue;
    const p = r.Properties as CfnMetric & { Metrics?: { MetricStat?: { Metric: CfnMetric } }[] };
    const watched = p.MetricName
      ? [fromCfn(p, `alarm ${id}`)]
      : (p.Metrics ?? []).flatMap((m) => (m.MetricStat ? [fromCfn(m.MetricStat.Metric, `alarm ${id}`)] : []));
    if (watched.length === 0) throw new Error(`alarm ${id} watches no metric this test can read`);
    out.push(...watched);
  }
  return out;
}

/**
 * Every metric of every dashboard widget. The body is a JSON text joined with references; each
 * reference becomes `@<logical id>` inside its string. A metric row is
 * `[namespace, name, dim, value, …, {options}]`, where `.` repeats the previous row's entry.
 */
function dashboardMetrics(t: Template): WatchedMetric[] {
  const out: WatchedMetric[] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    if (r.Type !== 'AWS::CloudWatch::Dashboard') continue;
    const text = resolve(r.Properties.DashboardBody);
    const dashboard = JSON.parse(text) as {
      widgets: { properties?: { title?: string; metrics?: unknown[][] } }[];
    };
    for (const widget of dashboard.widgets) {
      let previous: unknown[] = [];
      for (const row of widget.properties?.metrics ?? []) {
        const cells = row.filter((c) => typeof c === 'string').map((c, i) => (c === '.' ? previous[i] : c));
        previous = cells;
        // A row of only options is a math expression: its inputs are rows of their own.
        if (cells.length < 2) continue;
        const [namespace, name, ...dims] = cells as string[];
        const dimensions: Record<string, string> = {};
        for (let i = 0; i + 1 < dims.length; i += 2) dimensions[dims[i]!] = dims[i + 1]!;
        out.push({
          namespace: namespace!,
          name: name!,
          dimensions,
          where: `dashboard ${id}, widget '${widget.properties?.title ?? '?'}'`,
        });
      }
    }
  }
  return out;
}

/** Which resource type an AWS namespace's metrics are about (the dimension must name one of the stack's). */
const AWS_NAMESPACES: Readonly<Record<string, string>> = {
  'AWS/SQS': 'AWS::SQS::Queue',
  'AWS/Lambda': 'AWS::Lambda::Function',
};

/**
 * Metrics the stack watches that nothing publishes: in our namespace, a name or dimension set no
 * handler publishes (or a sync the config does not have); elsewhere, a namespace other than the
 * AWS services' whose metrics we read, or a metric that is not about one of the stack's resources.
 */
function unpublished(
  t: Template,
  watched: readonly WatchedMetric[],
  published: readonly EmfMetric[],
  syncs: readonly SyncConfig[],
): string[] {
  // The dimension names each metric name is published with.
  const dimensionSets = new Map<string, Set<string>>();
  for (const m of published) {
    const sets = dimensionSets.get(m.name) ?? new Set<string>();
    sets.add(Object.keys(m.dimensions).sort().join(','));
    dimensionSets.set(m.name, sets);
  }
  const syncNames = new Set(syncs.map((s) => s.name));
  const out: string[] = [];
  for (const m of watched) {
    const what = `${m.namespace} ${m.name} ${JSON.stringify(m.dimensions)} (${m.where})`;
    if (m.namespace === METRICS_NAMESPACE) {
      const sets = dimensionSets.get(m.name);
      if (!sets) out.push(`${what}: no handler publishes this name`);
      else if (!sets.has(Object.keys(m.dimensions).sort().join(',')))
        out.push(`${what}: the handlers publish it with dimensions ${[...sets].join(' | ')}`);
      else if (
        m.dimensions.service !== METRICS_SERVICE ||
        (m.dimensions.sync !== undefined && !syncNames.has(m.dimensions.sync))
      )
        out.push(`${what}: published with service=${METRICS_SERVICE} and, if any, the name of a sync`);
      continue;
    }
    const type = AWS_NAMESPACES[m.namespace];
    const resources = Object.values(m.dimensions)
      .filter((v) => v.startsWith('@'))
      .map((v) => t.Resources[v.slice(1)]?.Type);
    if (!type) out.push(`${what}: not our namespace, nor one of ${Object.keys(AWS_NAMESPACES).join(', ')}`);
    else if (!resources.includes(type)) out.push(`${what}: about no ${type} of this stack`);
  }
  return out;
}

const metricsInstance = () => new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });

/**
 * Every metric the handlers' publishing code emits, taking every path once: a run starting, a
 * run ending each way with every counter set, a write batch with every outcome, a verification
 * finding every kind (through the verify handler itself, its comparison stubbed).
 */
async function publishedByHandlers(sync: SyncConfig): Promise<EmfMetric[]> {
  const emf = await captureEmf(async () => {
    for (const outcome of RUN_OUTCOMES) {
      const m = metricsInstance();
      addRunMetrics(m, {
        sync: sync.name,
        runId: `run-${outcome}`,
        startedAt: '2026-01-01T00:00:00.000Z',
        finishedAt: '2026-01-01T00:01:00.000Z',
        outcome,
        counts: {
          read: 9,
          unchanged: 1,
          enqueued: 8,
          invalid: 1,
          redriven: 2,
          failed: 1,
          dead: 1,
          setAside: 1,
        },
        bookmarkBefore: undefined,
        bookmarkAfter: undefined,
        backlog: false,
      });
      m.publishStoredMetrics();
    }
    const write = metricsInstance();
    const counts = emptyWriteCounts();
    for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] = 1;
    addWriteMetrics(write, sync.name, counts);
    write.publishStoredMetrics();

    const verify = metricsInstance();
    vi.mocked(verifySyncFindings).mockResolvedValueOnce({
      report: {
        sync: sync.name,
        at: '2026-01-01T00:00:00.000Z',
        against: 'hubspot.contacts',
        sourceRows: 10,
        targetRecords: 10,
        counts: Object.fromEntries(FINDING_KINDS.map((k) => [k, 1])) as Record<
          (typeof FINDING_KINDS)[number],
          number
        >,
        findings: [],
        clean: false,
        durationMs: 1,
      },
      findings: [],
    });
    const state = { recordVerify: async () => undefined } as unknown as StateStore;
    await createVerifyHandler(async () => ({
      config,
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: verify,
      depsFor: () => ({ dwh: undefined as never, links: undefined as never, state, now: Date.now }),
    })).use(logMetrics(verify))({ sync: sync.name }, {} as Context);
  });
  return emfMetrics(emf);
}

// ---------------------------------------------------------------------------------------------
// Environment: what each function reads, against what the stack sets on it.

type FunctionKind = 'extract' | 'write' | 'verify';

/** One of the handlers' functions in the template. */
interface HandlerFunction {
  readonly id: string;
  readonly kind: FunctionKind;
  readonly sync: SyncConfig;
  readonly env: Readonly<Record<string, unknown>>;
}

/** The handler functions of the stack (logical ids `Sync<Name><Kind>Function…`), each with its sync. */
function handlerFunctions(t: Template, syncs: readonly SyncConfig[]): HandlerFunction[] {
  const out: HandlerFunction[] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    const m = /^Sync([A-Za-z0-9]+?)(Extract|Write|Verify)Function[0-9A-F]{8}$/.exec(id);
    if (r.Type !== 'AWS::Lambda::Function' || !m) continue;
    const env =
      (r.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const sync = syncs.find((s) => s.name === env[ENV.sync]);
    if (!sync) throw new Error(`${id}: ${ENV.sync}=${String(env[ENV.sync])} is no sync of the config`);
    out.push({ id, kind: m[2]!.toLowerCase() as FunctionKind, sync, env });
  }
  return out;
}

/**
 * The variables a function cannot do without (functions/awsDeps.ts): readRuntimeEnv refuses to
 * start without the first three; the others are checked there or used on a path every sync has.
 */
function requiredEnv(kind: FunctionKind, sync: SyncConfig): string[] {
  // The function's timeout: its Postgres connections' statement and lock timeouts stay below it.
  const always = [ENV.stateTable, ENV.linksTable, ENV.sync, ENV.functionTimeoutMs];
  switch (kind) {
    case 'extract':
      return [
        ...always,
        ENV.dwhSecretArn, // the warehouse
        ENV.queueUrl, // where changed rows go
        ENV.claimCheckBucket, // rows too large for a message
        ENV.mappingFingerprint, // a changed mapping re-reads the source
        ...(RUNS_CHILDREN.has(sync.name) ? [ENV.thenInvoke] : []), // child syncs run right after
      ];
    case 'write':
      return [
        ...always,
        ENV.queueUrl, // backoff: ChangeMessageVisibility on its own queue
        ENV.dlqUrl, // permanent failures, with their reason
        ENV.connectionSecretArn, // the target's credentials
        ENV.claimCheckBucket, // bodies of claim-checked messages
      ];
    case 'verify':
      return [
        ...always,
        ENV.dwhSecretArn, // the source and the target's copy
        ENV.queueUrl, // repair re-enqueues through the write path
        ENV.claimCheckBucket, // repaired rows too large for a message
        ...(verifyReadsTarget(sync) ? [ENV.connectionSecretArn] : []), // lists the target API
      ];
  }
}

/** Variables a function needs that the stack does not set, and WB_ variables outside the contract. */
function envMismatches(functions: readonly HandlerFunction[]): string[] {
  const contract = new Set<string>(Object.values(ENV));
  const out: string[] = [];
  for (const fn of functions) {
    for (const name of requiredEnv(fn.kind, fn.sync)) {
      if (fn.env[name] === undefined || fn.env[name] === '')
        out.push(`${fn.id} (${fn.kind}): ${name} not set`);
    }
    for (const name of Object.keys(fn.env)) {
      if (name.startsWith('WB_') && !contract.has(name)) out.push(`${fn.id}: ${name} is no ENV name`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Outputs: what the CLI reads, against what the stack outputs.

/** Output names of outputNames.ts the template lacks (a sync's verify function only with `verify`). */
function missingOutputs(t: Template, syncs: readonly SyncConfig[]): string[] {
  const expected = [
    ...Object.values(STACK_OUTPUTS),
    ...syncs.flatMap((s) => {
      const { verifyFunctionName, ...names } = syncOutputNames(s.name);
      return [...Object.values(names), ...(s.verify ? [verifyFunctionName] : [])];
    }),
  ];
  return expected.filter((name) => !(name in t.Outputs));
}

/** The template with `edit` applied to its JSON text (a planted mistake). */
const planted = (edit: (json: string) => string): Template =>
  JSON.parse(edit(JSON.stringify(TEMPLATE))) as Template;

describe('Contracts between the stack and the handlers (shared/contracts/)', () => {
  let published: EmfMetric[];
  const watched = [...alarmMetrics(TEMPLATE), ...dashboardMetrics(TEMPLATE)];

  beforeAll(async () => {
    published = await publishedByHandlers(config.syncs[0]!);
  });

  describe('metrics', () => {
    it('has the handlers publish every contract name, and nothing else, in our namespace with the service and sync dimensions (the verify alarm sum: service only)', () => {
      const contract = [
        ...Object.values(RUN_METRICS),
        ...Object.values(WRITE_METRICS),
        ...Object.values(VERIFY_METRICS),
        VERIFY_MISMATCHED,
      ];
      expect([...new Set(published.map((m) => m.name))].sort()).toEqual([...contract].sort());
      for (const m of published) {
        const perSync = m.name !== VERIFY_MISMATCHED;
        expect(m).toMatchObject({
          namespace: METRICS_NAMESPACE,
          dimensions: { service: METRICS_SERVICE, ...(perSync ? { sync: config.syncs[0]!.name } : {}) },
        });
        expect(Object.keys(m.dimensions).sort()).toEqual(perSync ? ['service', 'sync'] : ['service']);
      }
      // Missing, drift, orphan and dead, one each; backlog is not a mismatch.
      expect(published.find((m) => m.name === VERIFY_MISMATCHED)?.value).toBe(4);
    });

    it('finds the metrics of every alarm and of the dashboard (the readers see what they check)', () => {
      const alarms = Object.values(TEMPLATE.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
      expect(alarms.length).toBeGreaterThan(0);
      const ours = (from: string) =>
        watched
          .filter((m) => m.where.startsWith(from) && m.namespace === METRICS_NAMESPACE)
          .map((m) => m.name);
      // Alarms on record failures and verify findings, at least (failed runs and missed schedules
      // are watched through the extract function's own Errors and Invocations).
      for (const name of [WRITE_METRICS.failed, VERIFY_MISMATCHED]) expect(ours('alarm')).toContain(name);
      expect(ours('dashboard').length).toBeGreaterThan(0);
      expect(watched.some((m) => m.namespace !== METRICS_NAMESPACE)).toBe(true);
    });

    it('watches, in every alarm and on the dashboard, only metrics a handler or an AWS service of the stack publishes', () => {
      expect(unpublished(TEMPLATE, watched, published, config.syncs)).toEqual([]);
    });

    it.each([
      [
        'a metric name no handler publishes',
        (j: string) => j.replaceAll('"Failed"', '"RecordFailed"'),
        'RecordFailed',
      ],
      [
        'a name on the dashboard only',
        (j: string) => j.replaceAll('\\"RowsEnqueued\\"', '\\"RowsQueued\\"'),
        'RowsQueued',
      ],
      [
        'a dimension the handlers do not set',
        (j: string) => j.replaceAll('"Name":"service"', '"Name":"Service"'),
        'Service',
      ],
      ['a namespace of nobody', (j: string) => j.replaceAll('"AWS/SQS"', '"AWS/SQSS"'), 'AWS/SQSS'],
    ])('reports %s (the check itself works)', (_, edit, culprit) => {
      const t = planted(edit);
      const found = unpublished(t, [...alarmMetrics(t), ...dashboardMetrics(t)], published, config.syncs);
      expect(found.join('\n')).toContain(culprit);
    });
  });

  describe('environment', () => {
    const functions = handlerFunctions(TEMPLATE, config.syncs);

    it('finds the extract and write function of every sync and the verify function of syncs with verify', () => {
      const kinds = (kind: FunctionKind) =>
        functions
          .filter((f) => f.kind === kind)
          .map((f) => f.sync.name)
          .sort();
      const all = config.syncs.map((s) => s.name).sort();
      expect(kinds('extract')).toEqual(all);
      expect(kinds('write')).toEqual(all);
      expect(kinds('verify')).toEqual(['contacts', 'deals']);
    });

    it('sets on every function each variable it needs, and no WB_ variable outside the contract', () => {
      expect(envMismatches(functions)).toEqual([]);
    });

    it("lets every function read its runtime environment, naming the function's own sync", () => {
      for (const fn of functions) {
        const env = Object.fromEntries(Object.entries(fn.env).map(([k, v]) => [k, resolve(v)]));
        const runtime = readRuntimeEnv(env);
        expect(runtime.sync, fn.id).toBe(fn.sync.name);
        // A parent starts the extract functions of the children that share its schedule.
        const children = functions.filter(
          (f) =>
            f.kind === 'extract' &&
            f.sync.parent?.sync === fn.sync.name &&
            f.sync.schedule === fn.sync.schedule,
        );
        if (fn.kind === 'extract') expect(runtime.thenInvoke, fn.id).toEqual(children.map((c) => `@${c.id}`));
        // The `service` dimension of the metrics is the service name the logs carry.
        expect(fn.env.POWERTOOLS_SERVICE_NAME, fn.id).toBe(METRICS_SERVICE);
      }
    });

    it.each([
      ['a required variable the stack stopped setting', ENV.dlqUrl, 'NOT_WB_DLQ_URL', 'WB_DLQ_URL not set'],
      [
        'a variable under a name outside the contract',
        ENV.claimCheckBucket,
        'WB_CLAIM_CHECK_BUCKT',
        'WB_CLAIM_CHECK_BUCKT is no ENV name',
      ],
    ])('reports %s (the check itself works)', (_, name, renamed, culprit) => {
      const t = planted((j) => j.replaceAll(`"${name}"`, `"${renamed}"`));
      expect(envMismatches(handlerFunctions(t, config.syncs)).join('\n')).toContain(culprit);
    });
  });

  describe('outputs', () => {
    it('has every output the CLI reads (outputNames.ts), the optional ones with their feature on', () => {
      expect(missingOutputs(TEMPLATE, config.syncs)).toEqual([]);
    });

    it("lets the CLI's reader find every sync's resources in the outputs", () => {
      // Prepare: the outputs as CloudFormation would answer them
      const outputs = Object.fromEntries(
        Object.keys(TEMPLATE.Outputs).map((name) => [name, `value-of-${name}`]),
      );
      // Act
      const res = resourcesFromOutputs('Writeback', outputs, config.syncs);
      // Assess
      expect(res.claimCheckBucket).toBe(`value-of-${STACK_OUTPUTS.claimCheckBucketName}`);
      for (const sync of config.syncs) {
        const names = syncOutputNames(sync.name);
        expect(res.syncs[sync.name]).toEqual({
          queueUrl: `value-of-${names.queueUrl}`,
          dlqUrl: `value-of-${names.dlqUrl}`,
          extractFunction: `value-of-${names.extractFunctionName}`,
          ...(sync.verify ? { verifyFunction: `value-of-${names.verifyFunctionName}` } : {}),
        });
      }
    });

    it('reports an output the stack no longer has (the check itself works)', () => {
      const t = planted((j) => j.replace(`"${STACK_OUTPUTS.linksTableName}":`, '"LinksTable":'));
      expect(missingOutputs(t, config.syncs)).toEqual([STACK_OUTPUTS.linksTableName]);
    });
  });
});

/**
 * `npm run bench -- connectors [--windows N] [--xero-scale S] [--qbo-scale S] [--only <name>]`: each SaaS connector drains a
 * backlog against its fake at the vendor's real limits, with several writers sharing the
 * connection's limiter, and reports
 * - records/s achieved in steady state (after the first window's quota) vs the theoretical
 *   maximum, batch size × allowed requests per second;
 * - target calls per changed record; 429s answered by the fake.
 * Xero's and QuickBooks' minutes are compressed (`--xero-scale`, `--qbo-scale`, default 6: a
 * 10 s "minute") so the run stays
 * short; figures are converted back to real time. Salesforce has only a 24-hour allocation:
 * its figure is the unthrottled rate against the allocation spread over a day (a ratio above 1
 * means the allocation, not the rate, is what bounds a sync). The last line is one JSON object.
 */

import { drainBacklog, maxInAnyWindow } from '../local/drainBacklog.ts';
import { startHubSpotFake } from '../local/fakes/hubspot/HubSpotFake.ts';
import { startQuickBooksFake } from '../local/fakes/quickbooks/QuickBooksFake.ts';
import { startSalesforceFake } from '../local/fakes/salesforce/SalesforceFake.ts';
import { startStripeFake } from '../local/fakes/stripe/StripeFake.ts';
import { startXeroFake } from '../local/fakes/xero/XeroFake.ts';
import type { Connector, UpsertRecord } from '../shared/connectors/Connector.ts';
import { HubSpotConnector } from '../shared/connectors/hubspot/HubSpotConnector.ts';
import { QuickBooksConnector } from '../shared/connectors/quickbooks/QuickBooksConnector.ts';
import { SalesforceConnector } from '../shared/connectors/salesforce/SalesforceConnector.ts';
import { StripeConnector } from '../shared/connectors/stripe/StripeConnector.ts';
import { XeroConnector } from '../shared/connectors/xero/XeroConnector.ts';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
/** Steady-state windows to run after the first one (the first is a burst on an empty window). */
const WINDOWS = arg('windows', 2);
const XERO_SCALE = arg('xero-scale', 6);
const QBO_SCALE = arg('qbo-scale', 6);

interface Figures {
  name: string;
  batchSize: number;
  limit: string;
  writers: number;
  timeScale: number;
  records: number;
  writeCalls: number;
  theoreticalRecordsPerSec: number;
  achievedRecordsPerSec: number;
  ratio: number;
  callsPerRecord: number;
  http429: number;
  maxCallsInAnyWindow: number;
  limiterWaitMsByReason: Record<string, number>;
  lost: number;
  /** Drain time in real seconds, and the least the windows allow for this many calls. */
  elapsedSec: number;
  idealElapsedSec: number;
  /** idealElapsedSec / elapsedSec: what latency and our pacing's safety margin cost. */
  drainEfficiency: number;
}

interface WriteCall {
  readonly at: number;
  readonly status: number | undefined;
  readonly records: number;
}

interface Case {
  name: string;
  /** Steady-state windows to measure. @default WINDOWS */
  windows?: number;
  /** 'allocation': the only limit is a daily allocation; measure the unthrottled drain instead. */
  mode?: 'windowed' | 'allocation';
  /** Calls to make in 'allocation' mode. */
  calls?: number;
  /** Records handed to one upsertBatch (the writer's batch) when it differs from records per call. */
  drainBatch?: number;
  batchSize: number;
  limit: number;
  intervalMs: number;
  scale: number;
  writers: Connector[];
  object: string;
  payload: (i: number) => Record<string, unknown>;
  /** Write calls the fake received: arrival time, status, records carried. */
  writes: () => readonly WriteCall[];
  allCalls: () => number;
  count: () => number;
  stop: () => Promise<void>;
}

async function run(c: Case): Promise<Figures> {
  const windows = c.windows ?? WINDOWS;
  const allocation = c.mode === 'allocation';
  const calls = allocation ? (c.calls ?? 40) : c.limit * (1 + windows);
  const n = calls * c.batchSize;
  const backlog: UpsertRecord[] = Array.from({ length: n }, (_, i) => ({
    key: String(i),
    externalId: `B-${i}`,
    idempotencyKey: `bench:${i}:1`,
    payload: c.payload(i),
  }));
  process.stderr.write(`${c.name}: ${n} records, ${calls} calls expected…\n`);
  const report = await drainBacklog(c.writers, c.object, backlog, { batchSize: c.drainBatch ?? c.batchSize });
  const end = Date.now();
  const writes = [...c.writes()].sort((a, b) => a.at - b.at);
  const ok = writes.filter((w) => w.status === 200 || w.status === 207);
  // Steady state: the first call past the first window's quota opens WINDOWS whole windows.
  const windowMs = c.intervalMs / c.scale;
  const from = ok[c.limit]?.at ?? ok[0]?.at ?? end;
  const until = from + windows * windowMs;
  const steadyRecords = ok.filter((w) => w.at >= from && w.at < until).reduce((s, w) => s + w.records, 0);
  const achieved = allocation
    ? n / (report.elapsedMs / 1000)
    : ((steadyRecords / (windows * windowMs)) * 1000) / c.scale;
  const theoretical = (c.batchSize * c.limit) / (c.intervalMs / 1000);
  const metrics = c.writers[0]?.metrics?.();
  const figures: Figures = {
    name: c.name,
    batchSize: c.batchSize,
    limit: `${c.limit}/${c.intervalMs / 1000}s`,
    writers: c.writers.length,
    timeScale: c.scale,
    records: n,
    writeCalls: writes.length,
    theoreticalRecordsPerSec: round(theoretical),
    achievedRecordsPerSec: round(achieved),
    ratio: round(achieved / theoretical, 3),
    callsPerRecord: round(c.allCalls() / n, 4),
    http429: writes.filter((w) => w.status === 429).length,
    maxCallsInAnyWindow: maxInAnyWindow(
      writes.map((w) => w.at),
      c.intervalMs / c.scale,
    ),
    limiterWaitMsByReason: metrics?.limiter?.waitedMsByReason ?? {},
    lost: n - c.count(),
    elapsedSec: round((report.elapsedMs / 1000) * c.scale, 1),
    idealElapsedSec: round(((Math.ceil(writes.length / c.limit) - 1) * c.intervalMs) / 1000, 1),
    drainEfficiency: 0,
  };
  figures.drainEfficiency = allocation
    ? 1
    : round(figures.idealElapsedSec / Math.max(0.001, (report.elapsedMs / 1000) * c.scale), 3);
  await c.stop();
  return figures;
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

async function hubspotCase(): Promise<Case> {
  const token = 'pat-bench';
  // Free/Starter private app: 100 calls per rolling 10 s; batch upsert of 100.
  const fake = await startHubSpotFake({ token, rateLimit: { max: 100, intervalMs: 10_000 } });
  const spec = { windows: [{ name: 'ten-secondly', limit: 100, intervalMs: 10_000 }] };
  const writers = Array.from(
    { length: 4 },
    () =>
      new HubSpotConnector({
        baseUrl: fake.url,
        token,
        idProperty: 'dwh_customer_id',
        rateLimit: spec,
        limiterKey: 'bench-hubspot',
        maxLimiterWaitMs: 60_000,
      }),
  );
  return {
    name: 'hubspot',
    batchSize: 100,
    limit: 100,
    intervalMs: 10_000,
    scale: 1,
    writers,
    object: 'contacts',
    payload: (i) => ({ firstname: `First ${i}`, lastname: `Last ${i}` }),
    writes: () =>
      fake
        .calls({ method: 'POST', path: 'batch/upsert' })
        .map((c) => ({ at: c.at, status: c.status, records: c.inputs ?? 0 })),
    allCalls: () => fake.callCount(),
    count: () => fake.records('contacts').length,
    stop: () => fake.stop(),
  };
}

async function xeroCase(): Promise<Case> {
  const minuteMs = 60_000 / XERO_SCALE;
  const fake = await startXeroFake({ rateLimit: { perMinute: 60, minuteMs, concurrent: 5 } });
  const writers = Array.from(
    { length: 5 },
    () =>
      new XeroConnector({
        baseUrl: fake.url,
        tenantId: fake.tenantId,
        accessToken: fake.accessToken,
        rateLimit: {
          windows: [
            { name: 'minute', limit: 60, intervalMs: minuteMs },
            { name: 'day', limit: 5000, intervalMs: 86_400_000 },
          ],
          maxConcurrency: 5,
        },
        limiterKey: 'bench-xero',
        maxLimiterWaitMs: 60_000,
      }),
  );
  return {
    name: 'xero',
    batchSize: 50,
    limit: 60,
    intervalMs: 60_000,
    scale: XERO_SCALE,
    writers,
    object: 'Contacts',
    payload: (i) => ({ Name: `Contact ${i}`, EmailAddress: `c${i}@example.com` }),
    writes: () =>
      fake
        .calls({ method: 'POST', path: '/api.xro/2.0/Contacts' })
        .map((c) => ({ at: c.at, status: c.status, records: c.elements ?? 0 })),
    allCalls: () => fake.callCount(),
    count: () => fake.contacts().length,
    stop: () => fake.stop(),
  };
}

async function quickbooksCase(): Promise<Case> {
  // Per realm: 500 requests and 40 batch requests a minute, 10 at once; 30 items a batch. Every
  // write call is one batch (after one query of where its records stand), so 40 a minute binds.
  const minuteMs = 60_000 / QBO_SCALE;
  const fake = await startQuickBooksFake({ rateLimit: { minuteMs } });
  const writers = Array.from(
    { length: 4 },
    () =>
      new QuickBooksConnector({
        baseUrl: fake.url,
        realmId: fake.realmId,
        accessToken: fake.accessToken,
        // As the connector paces by default, in the compressed minute: every request, then batches.
        rateLimit: { windows: [{ name: 'minute', limit: 500, intervalMs: minuteMs }], maxConcurrency: 10 },
        batchRateLimit: { windows: [{ name: 'batch-minute', limit: 40, intervalMs: minuteMs }] },
        limiterKey: 'bench-quickbooks',
        maxLimiterWaitMs: 60_000,
      }),
  );
  return {
    name: 'quickbooks',
    batchSize: 30,
    limit: 40,
    intervalMs: 60_000,
    scale: QBO_SCALE,
    writers,
    object: 'Customer',
    payload: (i) => ({ GivenName: `First ${i}`, FamilyName: `Last ${i}` }),
    writes: () =>
      fake
        .calls({ method: 'POST', path: /\/batch$/ })
        .map((c) => ({ at: c.at, status: c.status, records: c.elements ?? 0 })),
    allCalls: () => fake.callCount(),
    count: () => fake.entities('Customer').length,
    stop: () => fake.stop(),
  };
}

async function salesforceCase(): Promise<Case> {
  // Enterprise org: 100,000 requests per rolling 24 h; sObject Collections upsert of 200.
  const fake = await startSalesforceFake({ dailyLimit: 100_000 });
  const writers = Array.from(
    { length: 4 },
    () =>
      new SalesforceConnector({
        instanceUrl: fake.url,
        accessToken: fake.accessToken,
        externalIdField: 'Ext_Id__c',
        limiterKey: 'bench-salesforce',
      }),
  );
  return {
    name: 'salesforce',
    mode: 'allocation',
    calls: 40,
    batchSize: 200,
    limit: 100_000,
    intervalMs: 86_400_000,
    scale: 1,
    writers,
    object: 'Contact',
    payload: (i) => ({ LastName: `Last ${i}`, Email: `c${i}@example.com` }),
    writes: () =>
      fake
        .calls({ method: 'PATCH', path: '/composite/sobjects/' })
        .map((c) => ({ at: c.at, status: c.status, records: c.elements ?? 0 })),
    allCalls: () => fake.callCount(),
    count: () => fake.all('Contact').length,
    stop: () => fake.stop(),
  };
}

async function stripeCase(): Promise<Case> {
  // Test mode: 25 requests per second overall and per endpoint; one customer per call.
  const fake = await startStripeFake({ rateLimit: { global: 25, perEndpoint: 25 } });
  const writers = Array.from(
    { length: 4 },
    () =>
      new StripeConnector({
        baseUrl: fake.url,
        apiKey: fake.apiKey,
        limiterKey: 'bench-stripe',
        maxLimiterWaitMs: 60_000,
      }),
  );
  return {
    name: 'stripe',
    windows: 8,
    batchSize: 1,
    drainBatch: 25,
    limit: 25,
    intervalMs: 1000,
    scale: 1,
    writers,
    object: 'customers',
    payload: (i) => ({ name: `Customer ${i}`, email: `c${i}@example.com` }),
    writes: () =>
      fake
        .calls({ method: 'POST', path: /^\/v1\/customers$/ })
        .map((c) => ({ at: c.at, status: c.status, records: 1 })),
    allCalls: () => fake.callCount(),
    count: () => fake.objects('customers').length,
    stop: () => fake.stop(),
  };
}

const results: Figures[] = [];
// `--only <name>`: one connector's case.
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const cases = {
  hubspot: hubspotCase,
  xero: xeroCase,
  quickbooks: quickbooksCase,
  salesforce: salesforceCase,
  stripe: stripeCase,
};
for (const [name, make] of Object.entries(cases)) {
  if (only && name !== only) continue;
  const f = await run(await make());
  results.push(f);
  process.stdout.write(
    `${f.name.padEnd(10)} ${String(f.achievedRecordsPerSec).padStart(7)} rec/s of ${f.theoreticalRecordsPerSec} ` +
      `(${(f.ratio * 100).toFixed(1)}%)  calls/record ${f.callsPerRecord}  429s ${f.http429}  ` +
      `lost ${f.lost}  max calls in a window ${f.maxCallsInAnyWindow}/${f.limit}  ` +
      `drained in ${f.elapsedSec}s (ideal ${f.idealElapsedSec}s)\n`,
  );
}
process.stdout.write(`${JSON.stringify({ bench: 'connectors', windows: WINDOWS, connectors: results })}\n`);

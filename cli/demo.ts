import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasDemoPair, seedDemoApps } from '../local/demoApps.ts';
import { LocalScheduler } from '../local/LocalScheduler.ts';
import { LOCAL_HUBSPOT_TOKEN, LocalStack } from '../local/LocalStack.ts';
import { localStateOf } from '../local/LocalStateFile.ts';
import { loadPairCopies } from '../local/loadPairCopies.ts';
import { parseDuration } from '../shared/config/duration.ts';
import { loadConfigFile } from '../shared/config/loadConfig.ts';
import type { RunRecord } from '../shared/state/RunRecord.ts';
import { clearDemoState, writeDemoState } from './demoState.ts';

export interface DemoOptions {
  readonly configPath: string;
  readonly interval: string;
  readonly realSchedules?: boolean;
  readonly customers: number;
  readonly once?: boolean;
}

const out = (line = ''): boolean => process.stdout.write(`${line}\n`);

export async function runDemo(opts: DemoOptions): Promise<void> {
  const t0 = Date.now();
  const config = await loadConfigFile(opts.configPath);
  out(`writeback demo: ${config.syncs.length} syncs from ${opts.configPath}`);
  out('starting embedded Postgres, DynamoDB and SQS emulators, HubSpot fake…');
  const stack = await LocalStack.start({
    config,
    dataDir: join(mkdtempSync(join(tmpdir(), 'writeback-demo-')), 'pg'),
    prefix: 'demo',
    demo: { customers: opts.customers },
  });
  // The two-way pair's own contacts, one set begun in each app; the ELT stand-in loads both apps
  // into the warehouse before each run of a pair's direction, as an ELT tool does on its schedule.
  const pairSyncs = new Set(config.syncs.filter((s) => s.pair).map((s) => s.name));
  const loadPairApps = () => loadPairCopies(stack.dwh, { hubspot: stack.hubspot, xero: stack.xero });
  if (hasDemoPair(config.syncs)) seedDemoApps(stack);
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    out('\nstopping: scheduler, writers, emulators, Postgres…');
    clearInterval(ticker);
    await scheduler.stop();
    await stack.stop();
    clearDemoState();
    out('stopped.');
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));

  writeDemoState(localStateOf(stack, LOCAL_HUBSPOT_TOKEN));
  out(
    `ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: DWH ${stack.pg.url('dwh')}, HubSpot fake ${stack.hubspot.url}`,
  );

  // Progress and run lines wait while the verification prints its table.
  let verifying = false;
  const held: RunRecord[] = [];
  const intervalSeconds = opts.realSchedules ? undefined : parseDuration(opts.interval);
  const scheduler = new LocalScheduler({
    syncs: config.syncs,
    run: async (name) => {
      if (pairSyncs.has(name)) await loadPairApps();
      return stack.runExtract(name);
    },
    ...(intervalSeconds !== undefined ? { intervalSeconds } : {}),
    onRun: (run) => (verifying ? held.push(run) : printRun(run)),
    onError: (sync, err) => out(`! ${sync}: ${(err as Error).message}`),
  });
  for (const s of config.syncs) {
    out(
      `  ${s.name}: ${s.schedule}${intervalSeconds !== undefined ? ` (demo: every ${intervalSeconds}s; --real-schedules to keep it)` : ''}`,
    );
  }
  stack.startWriters();
  scheduler.start();

  let last = '';
  const ticker = setInterval(() => {
    void progressLines(stack).then((lines) => {
      const text = lines.join('\n');
      if (text !== last && !stopping && !verifying) out(text);
      last = text;
    });
  }, 2000);

  await scheduler.idle();
  await stack.drain(30 * 60_000);
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  out();
  out(`backlog drained in ${seconds} s (start to drained).`);
  for (const line of await progressLines(stack)) out(line);
  out();
  verifying = true;
  await verifyDemo(stack, loadPairApps);
  verifying = false;
  for (const run of held.splice(0)) printRun(run);
  out();
  out('inspect the result:');
  out(
    `  HubSpot contacts: curl -s -H 'Authorization: Bearer ${LOCAL_HUBSPOT_TOKEN}' '${stack.hubspot.url}/crm/v3/objects/contacts?limit=3&properties=email,phone,dwh_customer_id'`,
  );
  out(`  billing invoices: psql '${stack.pg.url('billing')}' -c 'select count(*) from billing.invoices'`);
  out(`  the warehouse:    psql '${stack.pg.url('dwh')}'`);
  out('  edit 5 customers: npm run demo:touch   (the next run writes exactly those 5)');
  if (pairSyncs.size > 0) {
    out('  two-way:          npm run demo:touch -- --hubspot 2 | --xero 2 | --both 1   (docs/two-way.md)');
  }
  out('  operate it:       npx writeback status   (runs, dlq list, links, plan: docs/operations.md)');
  out(
    '  verify it:        npx writeback verify --load-copies   (after editing a record in HubSpot: --repair)',
  );
  if (opts.once) return stop(0);
  out('syncing on schedule; Ctrl-C stops everything.');
}

/**
 * What the hub promises: the ELT stand-in loads each target back into the warehouse
 * (hubspot.contacts from the HubSpot fake, billing_copy.invoices from the billing database), and
 * every sync with `verify` is compared with its copy through the links.
 */
async function verifyDemo(stack: LocalStack, pairCopies: () => Promise<number>): Promise<void> {
  const [{ loadTargetCopies, fakeAssociatedIds }, { verifySync }, { verifyLines }] = await Promise.all([
    import('../local/loadTargetCopies.ts'),
    import('../shared/verify/verifySync.ts'),
    import('./ops/verifyCommand.ts'),
  ]);
  const syncs = stack.config.syncs.filter((s) => s.verify);
  if (syncs.length === 0) return;
  const t0 = Date.now();
  const copies = await loadTargetCopies(stack.dwh, stack.config, syncs, {
    hubspot: () => stack.hubspot,
    hubspotAssociations: (from, to) => fakeAssociatedIds(stack.hubspot, from, to),
    postgresUrl: (c) => (typeof c.url === 'string' ? c.url : stack.pg.url('billing')),
    credentials: (name) => stack.credentials(name),
    pairCopies,
  });
  out(
    `verify: the ELT stand-in loaded ${copies
      .filter((c) => !c.skipped)
      .map((c) => `${c.table} (${c.records} from ${c.from})`)
      .join(', ')} into the warehouse`,
  );
  const reports = [];
  for (const sync of syncs) {
    const report = await verifySync(
      sync,
      {
        dwh: stack.dwh,
        links: stack.links,
        state: stack.state,
        now: Date.now,
      },
      { exportLogs: true },
    );
    await stack.state.recordVerify(report);
    reports.push(report);
  }
  for (const line of verifyLines(reports)) out(`  ${line}`);
  out(
    `  (${((Date.now() - t0) / 1000).toFixed(1)} s; the writeback schema in the warehouse has links, runs and findings)`,
  );
}

function printRun(run: RunRecord): void {
  if (run.outcome === 'skipped') return;
  const c = run.counts;
  if (run.outcome === 'succeeded' && c.read === 0) return;
  out(
    `run ${run.sync} ${run.outcome}: read ${c.read}, unchanged ${c.unchanged}, enqueued ${c.enqueued}` +
      `${c.invalid ? `, invalid ${c.invalid}` : ''}${pairCounts(run)}${run.backlog ? ' (backlog continues)' : ''}${run.message ? ` — ${run.message}` : ''}`,
  );
}

/** A two-way pair's own counts: echoes settled, rows waiting for a reload, conflicts resolved. */
function pairCounts(run: RunRecord): string {
  const c = run.counts;
  return [
    c.echoes ? `, echoes ${c.echoes}` : '',
    c.awaitingReload ? `, awaiting reload ${c.awaitingReload}` : '',
    c.conflicts ? `, conflicts ${c.conflicts} (writeback runs ${run.sync} --json)` : '',
  ].join('');
}

async function progressLines(stack: LocalStack): Promise<string[]> {
  return Promise.all(
    stack.config.syncs.map(async (s) => {
      const st = stack.stats(s.name);
      const q = await stack.queueDepth(s.name);
      const w = st.write;
      return (
        `  ${s.name.padEnd(16)} read ${st.extract.read} · enqueued ${st.extract.enqueued} · skipped ${st.extract.unchanged}` +
        ` | written ${w.created + w.updated} (created ${w.created}, updated ${w.updated}) · failed ${w.failed + w.dead}` +
        // Retries are counted as they happen: a child that waited for its parent twice counts twice.
        ` · retries ${w.retrying}${w.waitingForParent ? ` (waiting for parent ${w.waitingForParent})` : ''}` +
        `${w.deleted ? ` · deleted ${w.deleted}` : ''}` +
        ` | queue ${q.visible + q.inFlight} · dlq ${q.dlq}`
      );
    }),
  );
}

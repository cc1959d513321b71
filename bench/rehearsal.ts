/**
 * `npm run bench -- rehearsal [--customers N]`
 *
 * The deployed wiring against the local runtime, on the same demo data in the same run: records/s
 * through the rehearsed stack (each function from its cdk.out bundle in its own process, SQS event
 * source mappings, the SDK over HTTP to every service) next to records/s of the local runtime
 * (the same handlers in one process), and per bundle its size and its cold start (median init of
 * its environments). Both drain in schedule rounds until a round enqueues nothing; a record is
 * counted once, when its extract enqueues it. The last line is the JSON of the figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { LocalStack } from '../local/LocalStack.ts';
import { median } from '../local/rehearsal/formatRehearsal.ts';
import { rehearse } from '../local/rehearsal/rehearse.ts';
import { loadConfigFile } from '../shared/config/loadConfig.ts';

const { values } = parseArgs({ options: { customers: { type: 'string', default: '1000' } } });
const customers = Number(values.customers);
const CONFIG = 'writeback.config.ts';

/** The local runtime: schedule rounds of every sync's extract, writers draining the queues. */
async function localRate(): Promise<{ records: number; seconds: number }> {
  const config = await loadConfigFile(CONFIG);
  const stack = await LocalStack.start({
    config,
    demo: { customers },
    logger: new Logger({ serviceName: 'writeback-bench', logLevel: 'SILENT' }),
  });
  try {
    stack.startWriters();
    const t0 = performance.now();
    let records = 0;
    for (let round = 0; round < 6; round++) {
      const runs = await Promise.all(config.syncs.map((s) => stack.runExtract(s.name)));
      await stack.drain(30 * 60_000);
      const enqueued = runs.reduce((n, r) => n + r.counts.enqueued, 0);
      records += enqueued;
      if (enqueued === 0) break;
    }
    return { records, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await stack.stop();
  }
}

const local = await localRate();
const workDir = mkdtempSync(join(tmpdir(), 'wb-bench-rehearsal-'));
try {
  const result = await rehearse({ configPath: CONFIG, workDir, customers, operatorChecks: false });
  if (!result.ok) throw new Error(`the rehearsal failed: ${result.problems.join('; ')}`);
  const rehearsed = {
    records: result.rounds.reduce((n, r) => n + r.enqueued, 0),
    seconds: result.drainSeconds,
  };
  const localPerSecond = local.records / local.seconds;
  const rehearsedPerSecond = rehearsed.records / rehearsed.seconds;
  // One bundle per handler (extract, write, verify), shared by every sync's function of that kind.
  const bundles = new Map<string, { kb: number; inits: number[] }>();
  for (const f of result.functions) {
    const handler = /(Extract|Write|Verify)Function/.exec(f.logicalId)?.[1]?.toLowerCase() ?? f.logicalId;
    const b = bundles.get(handler) ?? { kb: f.bundleKb, inits: [] };
    b.inits.push(...f.initMs);
    bundles.set(handler, b);
  }
  console.log(`demo data: ${customers} customers (writeback.config.ts), drained in schedule rounds`);
  console.log(
    `  local runtime:    ${local.records} records in ${local.seconds.toFixed(1)} s = ${localPerSecond.toFixed(1)} records/s`,
  );
  console.log(
    `  rehearsed stack:  ${rehearsed.records} records in ${rehearsed.seconds.toFixed(1)} s = ${rehearsedPerSecond.toFixed(1)} records/s (${(rehearsedPerSecond / localPerSecond).toFixed(2)}× local)`,
  );
  console.log(`  synth: ${result.synthSeconds.toFixed(1)} s`);
  const perBundle = [...bundles].map(([handler, { kb, inits }]) => ({
    handler,
    bundleKb: kb,
    coldStarts: inits.length,
    medianInitMs: Math.round(median(inits)),
    maxInitMs: Math.round(Math.max(0, ...inits)),
  }));
  for (const b of perBundle) {
    console.log(
      `  ${b.handler} bundle ${b.bundleKb} KB: ${b.coldStarts} cold starts, init median ${b.medianInitMs} ms, max ${b.maxInitMs} ms`,
    );
  }
  console.log(
    JSON.stringify({
      customers,
      localRecordsPerSecond: Number(localPerSecond.toFixed(1)),
      rehearsedRecordsPerSecond: Number(rehearsedPerSecond.toFixed(1)),
      ratio: Number((rehearsedPerSecond / localPerSecond).toFixed(2)),
      bundles: perBundle,
      maxMemoryUsedMb: Math.max(...result.functions.map((f) => f.maxMemoryUsedMb)),
    }),
  );
} finally {
  rmSync(workDir, { recursive: true, force: true });
}

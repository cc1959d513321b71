/**
 * `npm run chaos -- --seed N [--records M] [--rounds R]`: one chaos scenario on the local stack.
 * Progress goes to stderr; the last line of stdout is the report as JSON. Exits 1 when the
 * invariant does not hold, so CI can loop over seeds.
 */
import { parseArgs } from 'node:util';
import { runChaosScenario } from './runChaosScenario.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    records: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '3' },
  },
});
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const records = Number(values.records);
const rounds = Number(values.rounds);
if (!Number.isInteger(seed) || !Number.isInteger(records) || records < 1 || !Number.isInteger(rounds)) {
  process.stderr.write('usage: npm run chaos -- --seed N [--records M] [--rounds R]\n');
  process.exit(2);
}
process.stderr.write(
  `chaos: seed ${seed}, ${records} records, ${rounds} rounds (replay: npm run chaos -- --seed ${seed} --records ${records})\n`,
);
const report = await runChaosScenario({
  seed,
  records,
  rounds,
  log: (line) => process.stderr.write(`chaos: ${line}\n`),
});
const { perSync, faults, ...totals } = report;
for (const [sync, c] of Object.entries(perSync)) {
  process.stdout.write(
    `${sync}: ok ${c.ok}, dlq ${c.dlq} (expected ${c.expectedDlq}), duplicates ${c.duplicates}, missing ${c.missing}, stale ${c.stale}, unaccounted ${c.unaccounted}\n`,
  );
  for (const p of c.problems) process.stdout.write(`  ${p}\n`);
}
process.stdout.write(`faults: ${JSON.stringify(faults)}\n`);
process.stdout.write(`${JSON.stringify({ ...totals, faults })}\n`);
process.exit(report.pass ? 0 : 1);

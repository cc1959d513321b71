import { Command } from 'commander';
import { runDemo } from './demo.ts';
import { runDemoTouch } from './demoTouch.ts';
import { fail } from './output.ts';
import { runValidate } from './validate.ts';

const program = new Command()
  .name('writeback')
  .description('Reverse ETL from a Postgres warehouse into SaaS apps: incremental, idempotent, observable.')
  .option('-c, --config <path>', 'config file', 'writeback.config.ts')
  .showHelpAfterError();

program
  .command('validate')
  .description('check writeback.config.ts and print the syncs it defines')
  .action(async () => runValidate(program.opts().config));

program
  .command('demo')
  .description('run the whole pipeline locally: embedded Postgres, DynamoDB and SQS emulators, target fakes')
  .option('--interval <duration>', 'run every sync this often instead of its schedule', '15s')
  .option('--real-schedules', "use each sync's own schedule expression")
  .option('--customers <n>', 'demo customers to generate', '10000')
  .option('--once', 'stop after the first runs are drained (CI, scripts)')
  .action(async (opts) => runDemo({ configPath: program.opts().config, ...opts }));

program
  .command('demo-touch')
  .description('edit customers in the running demo warehouse; the next run writes exactly those')
  .option('-n, --count <n>', 'customers to edit', '5')
  .action(async (opts) => runDemoTouch(Number(opts.count)));

program.parseAsync().catch(fail);

import { Command, CommanderError } from 'commander';
import type { OpsContext } from '../shared/ops/OpsContext.ts';
import { refuseSecretOptions } from '../shared/ops/warehouseCredentials.ts';
import { count, countOrZero } from './args.ts';
import type { GlobalOptions } from './ops/withOps.ts';
import { EXIT, fail } from './output.ts';

// Command modules are imported when their command runs: `writeback status` does not load the
// embedded Postgres, the emulators and the CDK.
const program = new Command()
  .name('writeback')
  .description('Reverse ETL from a Postgres warehouse into SaaS apps: incremental, idempotent, observable.')
  .option('-c, --config <path>', 'config file', 'writeback.config.ts')
  .option('--stack <name>', 'operate a deployed stack (CloudFormation outputs say where everything is)')
  .option('--region <region>', 'AWS region of --stack (default: AWS_REGION / your profile)')
  .option('--local', 'operate the running local stack (the default when one is running)')
  .option('--local-state <file>', 'state file of the local stack', '.wb/demo.json')
  .option(
    '--dwh-url <url>',
    'warehouse URL, without a password (PGPASSWORD, ~/.pgpass or the warehouse secret give it), for commands that read it',
  )
  .option('--json', 'JSON on stdout, for scripts')
  .option('--debug', 'print stacks of unexpected errors')
  .showHelpAfterError('(writeback --help lists the commands; writeback <command> --help the options)')
  .exitOverride()
  .addHelpText(
    'after',
    '\nExit codes: 0 ok · 1 failed (or failures found: failed run, records left in the DLQ, verify findings) · 2 usage · 3 config / no stack',
  );

// No option may carry a secret (`--dwh-url postgres://user:secret@…`): refused before any command runs.
program.hook('preAction', (_program, action) => {
  for (const cmd of [program, action]) {
    const values = cmd.opts<Record<string, unknown>>();
    refuseSecretOptions(
      Object.fromEntries(
        cmd.options.map((o) => [o.long ?? o.short ?? o.name(), values[o.attributeName()]] as const),
      ),
    );
  }
});

const collectPairs = (value: string, previous: string[] = []): string[] => [...previous, value];
const globals = (): GlobalOptions => program.opts<GlobalOptions>();
const json = (): boolean => globals().json === true;
const ops = async (command: (ctx: OpsContext) => Promise<number | undefined>): Promise<void> =>
  (await import('./ops/withOps.ts')).withOps(globals(), command);

program
  .command('validate')
  .description('check writeback.config.ts and print the syncs it defines')
  .option(
    '--connections',
    "also check each connection's credentials with its vendor (identity endpoint, scopes the syncs need): the stack's secrets with --stack, else the files of writeback connect",
  )
  .action(async (opts: { connections?: boolean }) => {
    const { runValidate, runValidateConnections } = await import('./validate.ts');
    const g = globals();
    await runValidate(g.config);
    if (!opts.connections) return;
    process.exitCode = await runValidateConnections({
      configPath: g.config,
      localStatePath: g.localState,
      ...(g.stack ? { stack: g.stack } : {}),
      ...(g.region ? { region: g.region } : {}),
    });
  });

program
  .command('rehearse')
  .description(
    'before your first deploy: synth the stack, run it offline from its bundles (every AWS call checked against its role) and operate it with the CLI',
  )
  .option(
    '--context <key=value>',
    'cdk context of the deploy (repeat: dwhVpcId=…, trialDatabase=true…)',
    collectPairs,
  )
  .option('--customers <n>', 'demo customers in the rehearsal warehouse', count, 300)
  .option(
    '--work-dir <dir>',
    'where cdk.out, the function logs and the report go (default: a new temporary one)',
  )
  .option(
    '--secrets <file>',
    'JSON file of secret values by name, for connections without a local fake (a sandbox account)',
  )
  .action(async (opts: { context?: string[]; customers: number; workDir?: string; secrets?: string }) => {
    const { rehearseCommand } = await import('./rehearse.ts');
    process.exitCode = await rehearseCommand(globals().config, opts, json());
  });

program
  .command('test-connector <connection>')
  .description(
    "check a connection's connector against the contract (its local fake, or --against a sandbox): one line per property",
  )
  .option('--against <url>', 'base URL of a sandbox account instead of the local fake')
  .option(
    '--secret-file <path>',
    "with --against: a JSON file of the sandbox's credentials (default: the connection's secret)",
  )
  .action(async (connection: string, opts: { against?: string; secretFile?: string }) => {
    const { runTestConnector } = await import('./testConnector.ts');
    process.exitCode = await runTestConnector(connection, {
      configPath: globals().config,
      json: json(),
      ...opts,
    });
  });

program
  .command('connect <connection>')
  .description(
    "connect an account: an OAuth app (Xero: prints a URL to open) or a token, key or client credentials asked without echo (HubSpot, Stripe, Salesforce; or WRITEBACK_TOKEN / WRITEBACK_CLIENT_SECRET), checked with the vendor, then stored in the connection's secret (--stack) or a local 0600 file",
  )
  .option('--tenant <id|name>', 'the organisation to connect when the authorisation reaches several')
  .option(
    '--client-id <id>',
    "the OAuth app's client id or Salesforce consumer key (default: asked); its secret comes from WRITEBACK_CLIENT_SECRET or is asked without echo",
  )
  .option('--public-client', 'a PKCE app without a client secret')
  .option(
    '--oauth',
    "HubSpot, Salesforce: authorise the vendor's OAuth app in a browser instead of giving a token or client credentials",
  )
  .option(
    '--port <n>',
    'loopback port of the redirect URI http://127.0.0.1:<port>/callback (default: a random free one)',
    count,
  )
  .option(
    '--secret-file <path>',
    'without --stack: the file to write (default .wb/connections/<connection>.json)',
  )
  .action(
    async (
      connection: string,
      opts: {
        tenant?: string;
        clientId?: string;
        publicClient?: boolean;
        oauth?: boolean;
        port?: number;
        secretFile?: string;
      },
    ) => {
      const { runConnect } = await import('./connect.ts');
      const g = globals();
      process.exitCode = await runConnect(connection, {
        configPath: g.config,
        ...(g.stack ? { stack: g.stack } : {}),
        ...(g.region ? { region: g.region } : {}),
        ...opts,
      });
    },
  );

program
  .command('demo')
  .description('run the whole pipeline locally: embedded Postgres, DynamoDB and SQS emulators, target fakes')
  .option('--interval <duration>', 'run every sync this often instead of its schedule', '15s')
  .option('--real-schedules', "use each sync's own schedule expression")
  .option('--customers <n>', 'demo customers to generate', count, 10_000)
  .option('--once', 'stop after the first runs are drained (CI, scripts)')
  .action(async (opts) => (await import('./demo.ts')).runDemo({ configPath: globals().config, ...opts }));

program
  .command('demo-touch')
  .description(
    "edit customers in the running demo warehouse (the next run writes exactly those), or the two-way pair's contacts in its apps",
  )
  .option('-n, --count <n>', 'customers to edit', count, 5)
  .option('--hubspot <n>', "edit n of the pair's contacts in HubSpot (a first name: HubSpot's field)", count)
  .option('--xero <n>', "edit n of the pair's contacts in Xero (an account number: Xero's field)", count)
  .option(
    '--both <n>',
    "edit n contacts' e-mail address in both apps (a conflict: the newer edit wins)",
    count,
  )
  .action(async (opts: { count: number; hubspot?: number; xero?: number; both?: number }) =>
    (await import('./demoTouch.ts')).runDemoTouch(opts),
  );

program
  .command('status')
  .description('one line per sync: state, schedule, last run, bookmark and backlog, queue, DLQ, links')
  .argument('[sync...]', 'only these syncs')
  .option('--fast', 'skip the link table scan (ok links not counted)')
  .option('--lag', 'measure the backlog in the warehouse (default when its address is known)')
  .option('--no-lag', 'do not measure the backlog in the warehouse')
  .action(async (syncs: string[], opts) =>
    ops(async (ctx) => (await import('./ops/statusCommand.ts')).statusCommand(ctx, syncs, opts, json())),
  );

program
  .command('runs')
  .description('run history: counts, bookmark before → after, duration, and what became of the records')
  .argument('<sync>')
  .option('-n, --limit <n>', 'runs to show', count, 20)
  .option('--fast', 'skip the link table scan (no write counts)')
  .action(async (sync: string, opts) =>
    ops(async (ctx) => (await import('./ops/runsCommand.ts')).runsCommand(ctx, sync, opts, json())),
  );

program
  .command('run')
  .description('run a sync now (respects the lease: skipped while another run is active)')
  .argument('<sync>')
  .option('--dry-run', 'show what a run would do, write nothing (same as `plan`)')
  .option('--wait', 'wait for the writers and report what the records became')
  .option('--timeout <duration>', 'longest wait with --wait', '10m')
  .option('--limit <n>', 'dry run: rows to read at most', count, 10_000)
  .option('--diff-limit <n>', 'dry run: records to look up in the target for a field diff', countOrZero, 20)
  .option('--all', 'dry run: list skipped records too')
  .action(async (sync: string, opts) =>
    ops(async (ctx) => (await import('./ops/runCommand.ts')).runCommand(ctx, sync, opts, json())),
  );

program
  .command('plan')
  .description('dry run: per record create, update, skip or invalid, with the changed fields; writes nothing')
  .argument('<sync>')
  .option('--limit <n>', 'rows to read at most', count, 10_000)
  .option('--diff-limit <n>', 'records to look up in the target for a field diff (0: none)', countOrZero, 20)
  .option('--all', 'list skipped records too')
  .action(async (sync: string, opts) =>
    ops(async (ctx) => (await import('./ops/runCommand.ts')).planCommand(ctx, sync, opts, json())),
  );

program
  .command('verify')
  .description(
    "compare each sync's source with the target's copy through the links: missing, drift, orphans, backlog, dead",
  )
  .argument('[sync...]', 'only these syncs (default: every sync with verify)')
  .option(
    '--repair',
    're-send the missing and drifted records through the normal write path (deletes nothing)',
  )
  .option('--dry-run', 'with --repair: list what would be re-sent, send nothing')
  .option(
    '--max <n>',
    'with --repair: records per sync re-sent without asking (default 1000; more: asks, or --yes)',
    countOrZero,
  )
  .option('--yes', 'with --repair: do not ask, whatever the number of records')
  .option('--load-copies', 'local stack: load the target copies into the warehouse first (the ELT stand-in)')
  .action(async (syncs: string[], opts) =>
    ops(async (ctx) => (await import('./ops/verifyCommand.ts')).verifyCommand(ctx, syncs, opts, json())),
  );

const dlq = program.command('dlq').description('dead-lettered records: list, show, redrive, purge');
const collect = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',')];

dlq
  .command('list')
  .description(
    'failed records with source key, reason (code, message, HTTP status), attempts, first/last failure',
  )
  .argument('<sync>')
  .option('--key <key>', 'only these keys (repeat, or comma-separated)', collect)
  .option('--code <code>', 'only this error code, e.g. WB_MAP_FAILED')
  .option('--since <time>', 'only keys that failed since: an ISO time or a duration (2h)')
  .option('--limit <n>', 'at most this many keys', count)
  .action(async (sync: string, opts) =>
    ops(async (ctx) => (await import('./ops/dlqCommands.ts')).dlqListCommand(ctx, sync, opts, json())),
  );

dlq
  .command('show')
  .description('one failed record: its payload, its link and its error history')
  .argument('<sync>')
  .argument('<key>')
  .action(async (sync: string, key: string) =>
    ops(async (ctx) => (await import('./ops/dlqCommands.ts')).dlqShowCommand(ctx, sync, key, json())),
  );

dlq
  .command('redrive')
  .description(
    "back to the sync's queue, rebuilt from the current source row (after fixing the source or map)",
  )
  .argument('<sync>')
  .option('--key <key>', 'these keys (repeat, or comma-separated)', collect)
  .option('--all', 'every key in the DLQ')
  .option('--stored', 'send the stored messages as they are instead (same as `replay`)')
  .option('--wait', 'wait for the writers and report what the records became')
  .option('--timeout <duration>', 'longest wait with --wait', '10m')
  .action(async (sync: string, opts) =>
    ops(async (ctx) => (await import('./ops/dlqCommands.ts')).dlqRedriveCommand(ctx, sync, opts, json())),
  );

dlq
  .command('purge')
  .description('delete dead-lettered records for good (asks first; --yes in scripts)')
  .argument('<sync>')
  .option('--key <key>', 'only these keys (repeat, or comma-separated)', collect)
  .option('--yes', 'do not ask')
  .action(async (sync: string, opts) =>
    ops(async (ctx) => (await import('./ops/dlqCommands.ts')).dlqPurgeCommand(ctx, sync, opts, json())),
  );

program
  .command('replay')
  .description('send failed records again from their stored payloads (e.g. after a target outage)')
  .argument('<sync>')
  .option('--key <key>', 'these keys (repeat, or comma-separated)', collect)
  .option('--all', 'every key in the DLQ')
  .option('--wait', 'wait for the writers and report what the records became')
  .option('--timeout <duration>', 'longest wait with --wait', '10m')
  .action(async (sync: string, opts) =>
    ops(async (ctx) =>
      (await import('./ops/dlqCommands.ts')).dlqRedriveCommand(ctx, sync, { ...opts, stored: true }, json()),
    ),
  );

program
  .command('links')
  .description('where a source row went (target id, status, hash, version); --target for the reverse')
  .argument('<sync>')
  .argument('[key]', 'source key (composite keys as JSON: \'["eu","42"]\')')
  .option('--target <id>', 'the link pointing at this target record id')
  .option('--status <status>', 'without a key: only links with this status (pending, retrying, failed, dead)')
  .option('--limit <n>', 'without a key: at most this many', count, 100)
  .action(async (sync: string, key: string | undefined, opts) =>
    ops(async (ctx) => (await import('./ops/linksCommand.ts')).linksCommand(ctx, sync, key, opts, json())),
  );

for (const enabled of [true, false]) {
  program
    .command(enabled ? 'enable' : 'disable')
    .description(enabled ? 'let the sync run again' : 'skip the sync’s runs (state and queue are kept)')
    .argument('<sync>')
    .action(async (sync: string) =>
      ops(async (ctx) =>
        (await import('./ops/controlCommands.ts')).enableCommand(ctx, sync, enabled, json()),
      ),
    );
}

program
  .command('audit')
  .description(
    'operator actions that changed state (reset, enable/disable, run, redrive, replay, purge, repair): who, when, what, how many',
  )
  .argument('[sync...]', 'only these syncs (default: every sync)')
  .option('-n, --limit <n>', 'actions to show', count, 50)
  .action(async (syncs: string[], opts) =>
    ops(async (ctx) => (await import('./ops/auditCommand.ts')).auditCommand(ctx, syncs, opts, json())),
  );

program
  .command('reset')
  .description('move the bookmark: --to start | end | <cursor value> | \'{"cursor":"…","key":["…"]}\'')
  .argument('<sync>')
  .requiredOption('--to <bookmark>', 'where the next run starts reading')
  .option('--yes', 'do not ask')
  .action(async (sync: string, opts) =>
    ops(async (ctx) => (await import('./ops/controlCommands.ts')).resetCommand(ctx, sync, opts, json())),
  );

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Help and version end with 0; everything commander refuses is a usage error.
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  fail(err);
});

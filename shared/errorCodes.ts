/**
 * Every `WB_*` error code Writeback can raise or show (a run record, a DLQ message attribute, a
 * link's lastError, a CLI error), defined once with what it means and what to do about it.
 * docs/errors.md is generated from this object (`npm run docs:errors`), and
 * test/unit/errorCodes.test.ts keeps it in step with the literals in the code: a new code fails
 * the test until it is added here. Connector codes (HUBSPOT_*, XERO_*, STRIPE_*, SALESFORCE_*,
 * PG_*) stay with their connectors (`XxxErrorCode` in shared/connectors/) and are listed from there.
 */

/** The stage that raises a code, and where a user meets it. */
export type ErrorWhere =
  | 'config'
  | 'extract'
  | 'queue'
  | 'write'
  | 'connector'
  | 'links'
  | 'verify'
  | 'rehearsal'
  | 'cli';

export interface ErrorCodeInfo {
  readonly where: ErrorWhere;
  /**
   * true: Writeback tries again on its own (the writer with backoff, the extract on its next run);
   * false: the same attempt fails the same way until something is fixed. Absent: not a record's
   * error (a command, a run that stopped), nothing to retry by itself.
   */
  readonly retryable?: boolean;
  /** What happened, for the user. */
  readonly meaning: string;
  /** What to do: the command to run or the config field to fix. */
  readonly action: string;
}

export const ERROR_CODES = {
  // config
  WB_CONFIG_INVALID: {
    where: 'config',
    meaning:
      'The configuration is invalid: writeback.config.ts, the environment a function was deployed with (`env.WB_…`), or a secret the config points at. The message lists every problem as `path: reason`. CLI exit code 3.',
    action:
      'Fix each listed field in writeback.config.ts and check it with `writeback validate`. For `env.…` paths deploy the current config (`npx cdk deploy`); for a secret, fix its JSON in Secrets Manager (the message names the fields it needs).',
  },
  WB_SECRET_UNREADABLE: {
    where: 'config',
    retryable: true,
    meaning:
      "A function could not read a secret from Secrets Manager (the warehouse's or a connection's): access denied, the secret or its KMS key deleted or unusable, no route to Secrets Manager, or throttling. The message names the secret and Secrets Manager's reason, never the value. At a cold start the invocation fails and is retried (a write batch comes back whole); later, a writer keeps the credentials it read last.",
    action:
      "Check that the secret exists under the name or ARN the config gives (`connections.<name>.secret`, the warehouse secret), that the function's role may `secretsmanager:GetSecretValue` it (and `kms:Decrypt` with a customer key), and that the function reaches Secrets Manager (a VPC endpoint or NAT in a private subnet). The next invocation reads it again.",
  },

  // extract: reading the warehouse
  WB_SOURCE_UNREADABLE: {
    where: 'extract',
    retryable: false,
    meaning:
      "The sync's source (`source.table` or `source.query`) cannot be read with its cursor and key columns: the table or a column does not exist, the query has an error, or the warehouse user lacks the grant. The run fails and the bookmark stays.",
    action:
      'Read the Postgres error in the message, then fix `source.table`/`source.query`, `source.cursor` or `source.key`, or grant the warehouse user SELECT. `writeback plan <sync>` reads the source the same way, without writing.',
  },
  WB_SOURCE_CURSOR_TYPE: {
    where: 'extract',
    retryable: false,
    meaning:
      'The cursor column has a type that cannot be read incrementally (it must be timestamp, timestamptz, date or an integer), or `lookback`/`settle` is set on an integer cursor (they are durations and need a time cursor). The run fails and the bookmark stays.',
    action:
      'Point `source.cursor` at a timestamp, timestamptz, date or integer column (cast it in `source.query` if needed), or remove `source.lookback`/`source.settle` from a sync with an integer cursor.',
  },
  WB_SOURCE_NO_CURSOR_INDEX: {
    where: 'extract',
    retryable: false,
    meaning:
      'The source table has no index whose first column is the cursor column: every run would scan the whole table, so the run refuses to start. The bookmark stays.',
    action:
      'Create the index the message prints (`create index concurrently on <table> (<cursor>, <key…>);`), then let the next run go (`writeback run <sync>` to start it now).',
  },
  WB_SOURCE_CURSOR_NULL: {
    where: 'extract',
    retryable: false,
    meaning:
      'Rows with NULL in the cursor column have no place in the incremental order and are never read. The run counts them and names a few keys (the run ends `partial`, never `succeeded`); the other rows go on.',
    action:
      'Fill the cursor column of those rows (and add NOT NULL), read through a `source.query` with `coalesce(<cursor>, <load time>)`, or exclude them with `source.where`. `writeback status` and `writeback runs <sync>` show the count and sample keys.',
  },
  WB_SOURCE_KEY_NULL: {
    where: 'extract',
    retryable: false,
    meaning:
      'Rows with NULL in a key column have no identity in the target and are set aside: counted with a few of their cursor values (the run ends `partial`); the other rows go on.',
    action:
      'Give those rows a key, or exclude them with `source.where`; check `source.key` names a unique, non-null column set. `writeback runs <sync>` shows the count and samples.',
  },
  WB_SOURCE_KEY_TOO_LONG: {
    where: 'extract',
    retryable: false,
    meaning:
      'A row whose source key is longer than 64 KiB is set aside (the run ends `partial`, with the first characters of the key): such a key cannot travel safely in messages and bookmarks.',
    action:
      'Key the sync by a shorter unique column, or read through a `query` that keys rows by a hash of the long value (e.g. `md5(long_key)`).',
  },
  WB_SOURCE_CURSOR_FUTURE: {
    where: 'extract',
    retryable: false,
    meaning:
      'Rows whose cursor is more than a day ahead of the warehouse clock (`infinity`, a mistyped year) are held back until that time comes (never, for infinity): counted with a few keys, the run ends `partial`; the other rows go on.',
    action:
      'Fix the cursor values of those rows, or exclude them with `source.where`. `writeback runs <sync>` shows the count and sample keys.',
  },
  WB_SQL_TIMEOUT: {
    where: 'extract',
    retryable: true,
    meaning:
      "A statement on the warehouse or a Postgres target ran longer than the connection's `statement_timeout` (Postgres 57014), or waited longer than its `lock_timeout` for a lock (55P03). Writeback sets both on every connection, below the function's own timeout, so a slow query fails with this instead of the function timing out. An extract run fails and its bookmark stays; a target write is retried.",
    action:
      "Make the query fast (the index `WB_SOURCE_NO_CURSOR_INDEX` names, a smaller `pageSize`, a simpler `source.query`), or find what holds the lock (`pg_locks`, a long ELT transaction). On AWS the statement timeout follows the function's timeout (extract 5 min: 4 min a statement; write 60 s: 45 s, 11 s for a lock; verify 15 min: 12 min); elsewhere it is 5 minutes. A `statement_timeout=…` (or `lock_timeout=…`) parameter in the connection URL (the secret's or the config's, or `--dwh-url`) overrides Writeback's.",
  },
  WB_POSTGRES_TLS: {
    where: 'extract',
    retryable: false,
    meaning:
      "The TLS connection to the warehouse or a Postgres target was refused: the server's certificate is not signed by a CA this process trusts, does not name the host connected to (`sslmode=verify-full`, the default), or the server offers no TLS. Writeback never falls back to plaintext.",
    action:
      "RDS on AWS needs nothing (the stack loads the Lambda runtime's Amazon CAs). Another server: give its CA with `sslrootcert` (a PEM field of the secret, or a file in the URL). Through a tunnel to localhost: `sslmode=verify-ca`. A server without TLS: turn it on, or set `sslmode=disable` knowingly. From a laptop, an RDS warehouse needs the RDS CA bundle: `sslrootcert=/path/to/global-bundle.pem`.",
  },
  WB_CHILD_COLUMN_MISSING: {
    where: 'extract',
    retryable: false,
    meaning:
      "A table of embedded children (`children[].table`) has no column named by the sync's `foreignKey`, `cursor` or `orderBy`. The run fails and the bookmark stays.",
    action:
      "Fix `children[].foreignKey`, `children[].cursor` or `children[].orderBy` (or the table name) in the sync's config; the message names the column.",
  },
  WB_DELETE_GUARD: {
    where: 'extract',
    retryable: false,
    meaning:
      'A run would delete more records than `deletes.maxPerRun` allows (rows marked deleted, or keys in the deleted-keys log, since the bookmark). The run stops before it deletes or writes anything; the bookmark stays.',
    action:
      'Check the source: a broken load can mark every row deleted. If the deletes are right, raise `deletes.maxPerRun` for one run (deploy, `writeback run <sync>`), then set it back.',
  },
  WB_MAP_FAILED: {
    where: 'extract',
    retryable: false,
    meaning:
      "The sync's `map()` threw on a row (the message carries its error). The record goes to the DLQ and its link says `failed`; the other rows go on.",
    action:
      'See the failing rows with `writeback dlq list <sync> --code WB_MAP_FAILED` and one with `writeback dlq show <sync> <key>`; fix `map()` or the source row, then `writeback dlq redrive <sync> --all` (rebuilt from the current row with the current map).',
  },
  WB_PARENT_KEY_MISSING: {
    where: 'extract',
    retryable: false,
    meaning:
      "A row of a sync with `parent` has NULL in the parent's key column (`parent.key`), so the record cannot name its parent. It goes to the DLQ; the other rows go on.",
    action:
      'Fill the parent key in the source row (or exclude such rows with `source.where`), then `writeback dlq redrive <sync> --key <key>`.',
  },
  WB_PAIR_STORE_MISSING: {
    where: 'extract',
    retryable: false,
    meaning:
      "A sync that is one direction of a two-way pair (`defineTwoWay`) ran without the store of the pair's entity state: a wiring fault of a program that builds its own extract dependencies, never a data problem. Nothing was read or sent.",
    action:
      'Pass `pairs: new DynamoPairStore(ddb, linksTable)` in the extract and writer dependencies (functions/awsDeps.ts and local/LocalStack.ts do).',
  },
  WB_WRONG_SYNC: {
    where: 'extract',
    retryable: false,
    meaning:
      "An extract or verify function was invoked for another sync (`event.sync`) than the one it was deployed for (its `WB_SYNC`). Each sync's functions may touch only that sync's links, state and queue, so the invocation is refused before anything is read or written; it fails (the function's error alarm) and, after its one retry, lands in the sync's schedule dead-letter queue.",
    action:
      "Invoke the sync's own function: `writeback run <sync>` and `writeback verify <sync>` find it in the stack outputs (`<Sync>ExtractFunctionName`). A schedule or script of your own that sends this: point it at the right function, or leave `sync` out of the event. Then purge the schedule DLQ.",
  },
  WB_INTERNAL: {
    where: 'extract',
    meaning:
      'An unexpected error, not one Writeback raises on purpose; the message carries its name and text. In a run record the run failed and the bookmark stays where the last enqueued page left it.',
    action:
      "Read the message; the function's logs (CloudWatch log group `/aws/lambda/<function>`) or the CLI with `--debug` show the stack. If it repeats, report it with the message.",
  },

  // queue: sending to and receiving from SQS
  WB_ENQUEUE_FAILED: {
    where: 'queue',
    retryable: true,
    meaning:
      "Messages could not be put on the sync's queue durably (SQS or the claim-check bucket unreachable, throttled past the retries), or some were refused (the message names each refused key with its own code). The bookmark does not move past them; the next run tries again.",
    action:
      "Usually nothing: the next scheduled run sends them (`writeback run <sync>` to start it now). If it repeats, check that the extract function reaches SQS and S3 (VPC endpoints, IAM). For refused keys see that key's code (`WB_MESSAGE_TOO_LARGE`, `WB_MESSAGE_REFUSED`).",
  },
  WB_MESSAGE_TOO_LARGE: {
    where: 'queue',
    retryable: false,
    meaning:
      "A record's message is larger than the queue's message size limit and there is no claim-check bucket to carry it, or even its claim-check pointer is too large (the source key is extremely long). The record is set aside: counted in the run with a few keys (the run ends `partial`), the rows after it are sent, and it is sent again when its row changes.",
    action:
      'Deploy the current stack (`npx cdk deploy`): it gives every function the claim-check bucket (`WB_CLAIM_CHECK_BUCKET`) that carries large bodies. If the reason says the pointer is too large, shorten the source key (e.g. key on a hash of it). `writeback status` and `writeback runs <sync>` show the count and sample keys.',
  },
  WB_MESSAGE_REFUSED: {
    where: 'queue',
    retryable: false,
    meaning:
      "SQS refused a record's message itself (a sender fault); the reason carries SQS's code and message. The record is set aside: counted in the run with a few keys (the run ends `partial`), the rows after it are sent, and it is sent again when its row changes.",
    action:
      "Read SQS's reason in the run (`writeback runs <sync>`). Writeback encodes the characters SQS refuses, so this points at an unusual row or a bug: look at the row (`writeback plan <sync>`) and report it with SQS's code.",
  },
  WB_MAX_RECEIVES: {
    where: 'queue',
    meaning:
      'Shown by `writeback dlq list` for a message SQS moved to the DLQ itself after `maxReceiveCount` deliveries, without a reason from the writer: the write function crashed or timed out on each delivery.',
    action:
      "Look at the write function's logs (`/aws/lambda/<write function>`) for the crash; `writeback dlq show <sync> <key>` shows the record. Then `writeback dlq redrive <sync> --key <key>`; the extract also re-drives such keys on its own once their link is stuck.",
  },

  // write: the write function and the write protocol
  WB_MESSAGE_INVALID: {
    where: 'write',
    retryable: false,
    meaning:
      "A message on the sync's queue is not a Writeback write message: not JSON, not schema v1, a malformed claim-check pointer, or meant for another sync. It goes to the DLQ unread.",
    action:
      '`writeback dlq show <sync> <key>` shows the body. If the extract and write functions run different versions, deploy both (`npx cdk deploy`); if something else sends to the queue, stop it. Then `writeback dlq redrive <sync> --key <key>` (rebuilt from the source) or `writeback dlq purge <sync> --key <key>`.',
  },
  WB_CLAIM_CHECK_MISSING: {
    where: 'write',
    retryable: false,
    meaning:
      "A large record's body, stored in the claim-check bucket, is gone (expired or deleted) and the target does not hold this version, or the write function has no claim-check bucket configured. The record goes to the DLQ, never dropped.",
    action:
      'Redrive it from the source: `writeback dlq redrive <sync> --key <key>`. If the message says no bucket is configured, deploy the current stack first (`npx cdk deploy`).',
  },
  WB_CLAIM_CHECK_MISMATCH: {
    where: 'write',
    retryable: false,
    meaning:
      "A large record's body in the claim-check bucket does not match its pointer (size, SHA-256, or it is another record). It goes to the DLQ instead of writing the wrong content.",
    action:
      'Redrive it from the source: `writeback dlq redrive <sync> --key <key>`. Check that nothing but Writeback writes to the claim-check bucket.',
  },
  WB_CLAIM_CHECK_UNREADABLE: {
    where: 'write',
    retryable: true,
    meaning:
      "Reading a large record's body from the claim-check bucket kept failing (not a missing object) until the record's retries ran out; then it went to the DLQ.",
    action:
      'Check that the write function reaches S3 (S3 VPC endpoint, IAM read on the bucket), then `writeback dlq redrive <sync> --key <key>` (or `--all`).',
  },
  WB_PARENT_NOT_LINKED: {
    where: 'write',
    retryable: true,
    meaning:
      "A child record's parent (`parent.sync`) has no target id yet: not written yet, or its write is in flight. The child waits and is retried with backoff; it is never written with a missing reference.",
    action:
      "Nothing while the parent is on its way. If it lasts, look at the parent: `writeback status <parent sync>` and `writeback links <parent sync> <parent key>`; a parent that never arrives is outside the parent sync's `source.where` or its row is missing.",
  },
  WB_PARENT_FAILED: {
    where: 'write',
    retryable: false,
    meaning:
      "A child record's parent failed (it is in its own sync's DLQ), so the child cannot be written either; the message names the parent key and its code. The child goes to the DLQ.",
    action:
      'Fix why the parent failed (`writeback dlq list <parent sync>`), then `writeback dlq redrive <sync> --key <key>`: it redrives the failed parent first, then the child.',
  },
  WB_RATE_LIMIT_WAIT: {
    where: 'write',
    retryable: true,
    meaning:
      "The connection's shared rate limit had no free slot within the writer's wait, so the record was not sent and goes back to the queue with a delay; no target call was made.",
    action:
      "Nothing: it is retried. If many records show it, the syncs sharing this connection write more than the target's limit allows: lower their `concurrency` or spread their schedules.",
  },

  // connector: calling the target through its connector (vendor codes are listed per connector)
  WB_TARGET_CALL_FAILED: {
    where: 'connector',
    retryable: true,
    meaning:
      'The connector failed a write call with an error it did not classify (no vendor code); treated as retryable.',
    action:
      "Nothing if it clears: the record is retried, and when its retries run out the extract re-drives it later. If it lasts, read the message (`writeback dlq list <sync>`) and the write function's logs, then `writeback replay <sync> --all` once the cause is fixed.",
  },
  WB_LOOKUP_FAILED: {
    where: 'connector',
    retryable: true,
    meaning:
      'Looking the record up in the target by its external id failed. Writeback looks up a record before re-sending it when a crashed earlier attempt may have created it (a target without native upsert or idempotency keys), so it never creates a duplicate.',
    action:
      'Nothing if it clears: the record is retried. If it lasts, read the message and check the connection (credentials, the target being up): `writeback dlq list <sync> --code WB_LOOKUP_FAILED`.',
  },
  WB_NO_RESULT: {
    where: 'connector',
    retryable: true,
    meaning:
      "The connector's answer did not mention this record (an upsert or a delete), so Writeback cannot tell whether it was written; it is retried.",
    action:
      'Nothing if it clears. If it lasts for the same keys, the target answers incompletely for them: report it with the connector type and `writeback dlq show <sync> <key>`.',
  },
  WB_DELETE_UNSUPPORTED: {
    where: 'connector',
    retryable: false,
    meaning:
      "The sync has `deletes`, but its target's connector cannot delete or archive records. The deleted rows' records go to the DLQ.",
    action:
      'Remove `deletes` from the sync (or write to a target that supports deletes), deploy, then `writeback dlq purge <sync>` for the deletes that cannot happen.',
  },
  WB_ASSOCIATE_UNSUPPORTED: {
    where: 'connector',
    retryable: false,
    meaning:
      "The sync has `target.associate`, but its target's connector cannot associate records. The upsert stands; the record goes to the DLQ for the association.",
    action:
      'Remove `target.associate` from the sync (this connector cannot associate), deploy, then `writeback dlq redrive <sync> --all`.',
  },
  WB_DISSOCIATE_UNSUPPORTED: {
    where: 'connector',
    retryable: false,
    meaning:
      "A child moved to another parent, and its target's connector cannot remove the association with the former parent. The new association stands; the record goes to the DLQ.",
    action:
      'A connector that can associate but not dissociate cannot follow a child to a new parent: drop `target.associate` for this sync, or give the connector `dissociate` (docs/connectors.md, "Adding a connector"); then `writeback dlq redrive <sync> --key <key>`.',
  },

  // links: the link table
  WB_LINKSTORE_UNAVAILABLE: {
    where: 'links',
    retryable: true,
    meaning:
      'The link table (DynamoDB) could not be reached or answered unexpectedly. Writeback stops before any target write: an extract run fails with its bookmark kept, a write batch goes back to the queue.',
    action:
      "Nothing if it clears: the next run and the queue's redelivery carry on. If it lasts, check the links table exists and the functions reach DynamoDB (VPC endpoint, IAM); locally, that the emulators are running (`writeback status`).",
  },

  // verify
  WB_VERIFY_NO_COPY: {
    where: 'verify',
    meaning:
      "The target's warehouse copy named by `verify.table` does not exist in the warehouse yet, so there is nothing to compare with.",
    action:
      'Load the copy with your ELT tool (Fivetran, Airbyte…), or fix `verify.table`. On the local stack: `writeback verify --load-copies`.',
  },
  WB_VERIFY_EMPTY_COPY: {
    where: 'verify',
    meaning:
      "The target's copy (`verify.table`, or the target API's listing) holds no records while the sync's links say records were written there. Comparing with it would report every record missing and a repair would re-send the whole sync, so the verification stops instead: nothing was compared, nothing repaired.",
    action:
      'Check that your ELT tool has loaded the copy (a first sync, a failed load, another schema), that `verify.table` names it, and for an API listing that the connection points at the right account. On the local stack: `writeback verify --load-copies`.',
  },
  WB_VERIFY_EXPORT_DENIED: {
    where: 'verify',
    meaning:
      "Verification compared the sync, but the warehouse user it writes with may not create or write the `writeback` schema's tables (links, runs, findings, operator actions): a read-only user, as the extract's should be. Nothing was exported and the run fails, so the export never goes stale silently.",
    action:
      'Give verification its own warehouse user that owns only the `writeback` schema, in a second secret named by `warehouse.writerSecret` (docs/deploy.md, "Secrets"), and deploy again; or grant that schema to the user of `warehouse.secret`.',
  },
  WB_VERIFY_NO_TARGET: {
    where: 'verify',
    meaning:
      "The sync has no `verify.table` and no connector was given to list the target's records, so there is nothing to verify against.",
    action: 'Set `verify.table` to the warehouse copy of the target object.',
  },
  WB_VERIFY_NO_ASSOCIATIONS: {
    where: 'verify',
    meaning:
      "The sync's records are associated with parents (`target.associate`), and verify has no way to read those associations: no `verify.parentColumn`, and the connector cannot read them in batches. Verification fails rather than reporting them all as correct.",
    action:
      "Set `verify.parentColumn` to the column of the target's warehouse copy (`verify.table`) that holds each record's associated parent id.",
  },
  WB_VERIFY_NO_PARENT_COLUMN: {
    where: 'verify',
    meaning: '`verify.parentColumn` names a column that `verify.table` does not have.',
    action:
      "Set `verify.parentColumn` to the column your ELT tool loads each record's associated parent id into.",
  },

  // cli: the writeback command
  WB_USAGE: {
    where: 'cli',
    meaning:
      'The command was called wrongly: an unknown sync, a missing `--key` or `--all`, a bad option value, or an option carrying a password (`--dwh-url postgres://user:secret@…`: the password comes from PGPASSWORD, a pgpass file or the warehouse secret, never the command line). CLI exit code 2.',
    action:
      'Read the message; `writeback --help` lists the commands, `writeback <command> --help` their options, `writeback validate` the syncs.',
  },
  WB_CONFIRMATION_REQUIRED: {
    where: 'cli',
    meaning:
      'A destructive command (`dlq purge`, `reset`), or a `verify --repair` of more records than `--max`, was not confirmed: the word typed did not match, or there is no terminal to ask on (a script, CI). Nothing changed (a repair held over the cap sent nothing). CLI exit code 2.',
    action: 'Type the word shown, or pass `--yes` in scripts.',
  },
  WB_STACK_NOT_FOUND: {
    where: 'cli',
    meaning:
      "The CLI found nothing to operate: no local stack running here, a `--stack` that does not exist or lacks Writeback's outputs, or a sync the stack has no queue for. CLI exit code 3.",
    action:
      'Start the local stack (`npm start`) in another terminal, or pass `--stack <name> --region <region>` for a deployed one; for a sync missing from the stack, deploy the current config (`npx cdk deploy`).',
  },
  WB_UNREACHABLE: {
    where: 'cli',
    meaning:
      "The warehouse cannot be reached from where the CLI runs (on AWS it usually sits in the stack's VPC).",
    action:
      'Open a tunnel (SSM port forwarding, a bastion) and pass `--dwh-url "postgres://<user>@localhost:<port>/<db>?sslmode=verify-ca&sslrootcert=<RDS CA bundle>"` (the certificate names the database host, not localhost). `writeback status` works without it (backlog shown as `?`).',
  },
  WB_NOT_FOUND: {
    where: 'cli',
    meaning: '`writeback dlq show` found neither a DLQ message nor a link for that key.',
    action:
      'Check the key: `writeback dlq list <sync>` lists the failed keys, `writeback links <sync> <key>` shows a link (composite keys as JSON).',
  },
  WB_SYNC_BUSY: {
    where: 'cli',
    meaning: '`writeback reset` cannot move the bookmark: a run of the sync holds its lease.',
    action:
      'Try again when the run has finished (`writeback status`), or `writeback disable <sync>` first and `writeback enable <sync>` after the reset.',
  },
  WB_INVOKE_FAILED: {
    where: 'cli',
    meaning:
      "`writeback run` or `writeback verify` against a deployed stack invoked the sync's extract or verify function, and the function failed without recording a run.",
    action:
      "Read the function's error in the message and its logs (CloudWatch log group `/aws/lambda/<function>`); `writeback runs <sync>` shows the recorded runs.",
  },
  // rehearsal
  WB_REHEARSAL_UNRESOLVED: {
    where: 'rehearsal',
    meaning:
      'The synthesized template refers (Ref, Fn::GetAtt) to something the rehearsal cannot answer: a resource type it does not model, or an attribute a resource does not have. It stops rather than run on a guess.',
    action:
      'Read the places listed in the message. A resource type of your own stack extension: open an issue with the type and attribute; a typo in a custom construct: fix it and `npx cdk synth` again.',
  },
  WB_REHEARSAL_SYNTH_FAILED: {
    where: 'rehearsal',
    meaning:
      '`cdk synth` of the config failed: `cdk deploy` would fail the same way, before anything is deployed.',
    action:
      'Read the last lines of the synth output in the message (a config error names the sync and field; a cdk-nag finding names the resource and rule), fix it and rehearse again.',
  },
  WB_REHEARSAL_SECRET_MISSING: {
    where: 'rehearsal',
    meaning:
      "A function of the stack reads a connection's secret that the rehearsal cannot fill: the connection's type has no local fake (a connector of your own, or one without a fake).",
    action:
      'Give the value in a JSON file and pass it: `writeback rehearse --secrets secrets.json`, e.g. `{"writeback/acme": {"token": "…", "baseUrl": "https://sandbox.acme.example"}}`.',
  },
  WB_REHEARSAL_FUNCTION_INVALID: {
    where: 'rehearsal',
    meaning:
      'A Lambda function of the template cannot run as it would be deployed: its bundle is missing from cdk.out, it sets a variable Lambda reserves (the deploy would fail), or its runtime is not a Node.js runtime the rehearsal runs.',
    action:
      'Run `npx cdk synth` again; fix the function named in the message (environment or runtime in infra/).',
  },
} as const satisfies Record<`WB_${string}`, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether a string is a catalogued Writeback error code. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The catalogue entry of a code (a run record's, a DLQ message's, a link's), if it is a Writeback code. */
export function errorCodeInfo(code: string): ErrorCodeInfo | undefined {
  return isErrorCode(code) ? ERROR_CODES[code] : undefined;
}

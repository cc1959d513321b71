import type { Sql } from 'postgres';
import { type AwsClients, createAwsClients } from '../aws/awsClients.ts';
import { S3ClaimCheckStore } from '../aws/S3ClaimCheckStore.ts';
import { loadConfigFile } from '../config/loadConfig.ts';
import type { SyncConfig, WritebackConfig } from '../config/schema.ts';
import type { Connector } from '../connectors/Connector.ts';
import {
  type ConnectionCredentials,
  createConnector,
  credentialsFromSecret,
} from '../connectors/createConnector.ts';
import { findLocalState, type LocalStateFile, readLocalState } from '../contracts/localStateFile.ts';
import { ConfigValidationError, describeError, WritebackError } from '../errors.ts';
import { DynamoLinkStore } from '../links/DynamoLinkStore.ts';
import type { LinkStore } from '../links/LinkStore.ts';
import { DynamoPairStore } from '../pair/DynamoPairStore.ts';
import type { PairStore } from '../pair/PairStore.ts';
import { warehousePool } from '../postgresPools.ts';
import type { ClaimCheckStore } from '../queue/ClaimCheck.ts';
import { SqsEnqueuer } from '../queue/SqsEnqueuer.ts';
import { DynamoStateStore } from '../state/DynamoStateStore.ts';
import type { Actor } from '../state/OperatorAction.ts';
import type { StateStore } from '../state/StateStore.ts';
import { awsActor, localActor } from './actor.ts';
import { StackNotFoundError, UnreachableError, UsageError } from './errors.ts';
import { type OpsResources, resourcesFromOutputs, type SyncResources } from './stackResources.ts';
import { redactSecrets, refuseSecretOptions, warehouseLogin } from './warehouseCredentials.ts';

/** How the CLI says where to operate (global options). */
export interface OpsContextOptions {
  /** The writeback.config.ts to load. */
  readonly configPath: string;
  /** State file of a running local stack. */
  readonly localStatePath: string;
  /** Force the local stack (an error when none is running). */
  readonly local?: boolean;
  /** Name of a deployed CloudFormation stack: its outputs say where everything is. */
  readonly stack?: string;
  readonly region?: string;
  /**
   * Warehouse connection URL; overrides the config's (a tunnel into the VPC). Never with a
   * password: it comes from PGPASSWORD, a pgpass file or the warehouse secret (warehouseLogin).
   */
  readonly dwhUrl?: string;
  /** Where notes for the person go (a pgpass file ignored, an action not copied to the warehouse). */
  readonly onWarning?: (line: string) => void;
}

/**
 * Where the operator commands act: the tables, queues and functions of one pipeline, plus lazy
 * connections to the warehouse and the targets (only the commands that need them open them).
 * Resolved from `--stack <name>` (CloudFormation outputs), or else from the state file a running
 * local stack writes; the commands themselves do not know which.
 */
export class OpsContext {
  public readonly config: WritebackConfig;
  public readonly kind: 'local' | 'aws';
  /** For people: "local stack (pid 4242)" or "stack Writeback (eu-west-1)". */
  public readonly description: string;
  public readonly resources: OpsResources;
  public readonly aws: AwsClients;
  public readonly state: StateStore;
  public readonly links: LinkStore;
  /** The entity state of two-way pairs (read by `plan`). */
  public readonly pairs: PairStore;
  /** The claim-check bucket (message bodies too large for SQS), when the stack has one. */
  public readonly claimChecks: ClaimCheckStore | undefined;
  public readonly region: string | undefined;
  /** The queues answer exactly (the local emulator): no long poll to confirm an empty queue, faster polls. */
  public readonly exactQueues: boolean;
  private readonly local: LocalStateFile | undefined;
  private readonly dwhUrl: string | undefined;
  /** Notes for the person, on stderr in the CLI. */
  public readonly warn: (line: string) => void;
  private sql: Sql | undefined;
  private who: Promise<Actor> | undefined;
  private readonly connectors: Connector[] = [];

  public constructor(init: {
    config: WritebackConfig;
    kind: 'local' | 'aws';
    description: string;
    resources: OpsResources;
    aws: AwsClients;
    region?: string;
    local?: LocalStateFile;
    dwhUrl?: string;
    onWarning?: (line: string) => void;
  }) {
    if (init.dwhUrl !== undefined) refuseSecretOptions({ '--dwh-url': init.dwhUrl });
    this.config = init.config;
    this.kind = init.kind;
    this.description = init.description;
    this.resources = init.resources;
    this.aws = init.aws;
    this.region = init.region;
    this.local = init.local;
    this.dwhUrl = init.dwhUrl;
    this.warn = init.onWarning ?? (() => undefined);
    this.exactQueues = init.kind === 'local';
    this.state = new DynamoStateStore(this.aws.ddb, this.resources.stateTable);
    this.links = new DynamoLinkStore(this.aws.ddb, this.resources.linksTable);
    this.pairs = new DynamoPairStore(this.aws.ddb, this.resources.linksTable);
    this.claimChecks = this.resources.claimCheckBucket
      ? new S3ClaimCheckStore(this.aws.s3, this.resources.claimCheckBucket)
      : undefined;
  }

  /** Sends to a sync's queue as the extract does: bodies too large for SQS by claim check. */
  public enqueuer(syncName: string): SqsEnqueuer {
    return new SqsEnqueuer(
      this.aws.sqs,
      this.syncResources(syncName).queueUrl,
      this.claimChecks ? { claimChecks: this.claimChecks } : {},
    );
  }

  /**
   * Who is acting, for the audit trail: the AWS principal of the CLI's credentials
   * (sts:GetCallerIdentity) on a deployed stack, the OS user on the local stack. Asked once.
   */
  public actor(): Promise<Actor> {
    this.who ??=
      this.kind === 'local'
        ? Promise.resolve(localActor())
        : awsActor(this.region ? { region: this.region } : {});
    return this.who;
  }

  /** How to reach the running local stack (its fakes and databases); undefined for a deployed stack. */
  public get localStack(): LocalStateFile | undefined {
    return this.local;
  }

  /** A sync of the config by name; a usage error listing the known ones otherwise. */
  public sync(name: string): SyncConfig {
    const sync = this.config.syncs.find((s) => s.name === name);
    if (!sync) {
      throw new UsageError(
        `unknown sync '${name}': the config defines ${this.config.syncs.map((s) => s.name).join(', ')}`,
      );
    }
    return sync;
  }

  public syncResources(name: string): SyncResources {
    const res = this.resources.syncs[name];
    if (!res) {
      throw new StackNotFoundError(
        `sync '${name}' has no queue in ${this.description}: deploy the current config (\`npx cdk deploy\`) or restart the local stack`,
      );
    }
    return res;
  }

  /**
   * Whether a warehouse address was given outright (local stack, --dwh-url, the config's url), as
   * opposed to only a secret whose host is usually inside the stack's VPC.
   */
  public get warehouseGiven(): boolean {
    return this.dwhUrl !== undefined || this.local !== undefined || this.config.warehouse.url !== undefined;
  }

  /** The warehouse, connected on first use; an error that says how to reach it otherwise. */
  public async warehouse(): Promise<Sql> {
    if (this.sql) return this.sql;
    const given = this.dwhUrl ?? this.local?.dwhUrl ?? this.config.warehouse.url;
    const url = given ?? (await this.warehouseFromSecret());
    // A URL given without its password (--dwh-url, the config's url): PGPASSWORD, pgpass, the secret.
    const secret = this.config.warehouse.secret;
    const login =
      given !== undefined
        ? await warehouseLogin(url, {
            warn: this.warn,
            // The local stack never reads AWS secrets.
            ...(secret && !this.local ? { readSecret: () => this.readSecret(secret) } : {}),
          })
        : undefined;
    // Cursor values are kept as text: the session must be the one the extract uses.
    const sql = warehousePool(url, {
      max: 4,
      ...(login?.password !== undefined ? { password: login.password } : {}),
      ...(login?.username !== undefined ? { username: login.username } : {}),
    });
    try {
      await sql`select 1`;
    } catch (err) {
      await sql.end({ timeout: 1 }).catch(() => undefined);
      throw new UnreachableError(
        `cannot reach the warehouse from here (${redactSecrets(describeError(err).message)}). On AWS it usually sits in the stack's VPC: ` +
          'open a tunnel (SSM port forwarding, a bastion) and pass ' +
          '--dwh-url "postgres://<user>@localhost:<port>/<db>?sslmode=verify-ca&sslrootcert=<RDS CA bundle>" ' +
          '(through a tunnel the certificate names the database host, not localhost; ' +
          'the password from PGPASSWORD, ~/.pgpass or the warehouse secret, never on the command line)',
        { cause: err },
      );
    }
    this.sql = sql;
    return sql;
  }

  /** The warehouse when it is already connected, or its address was given (local stack, --dwh-url, the config's url); undefined otherwise. */
  public get warehouseIfGiven(): Promise<Sql> | undefined {
    if (this.sql) return Promise.resolve(this.sql);
    return this.warehouseGiven ? this.warehouse() : undefined;
  }

  private async warehouseFromSecret(): Promise<string> {
    const secret = this.config.warehouse.secret;
    if (!secret) {
      throw new UsageError('the config names no warehouse url or secret: pass --dwh-url postgres://…');
    }
    const url = credentialsFromSecret(await this.readSecret(secret)).url;
    if (!url) throw new UsageError(`secret ${secret} holds no url or host: pass --dwh-url postgres://…`);
    return url;
  }

  /**
   * The connector a sync writes through, for read-only use (plan's lookups). `readFields`: the
   * target fields lookup() must return (HubSpot returns only a default set unless asked).
   */
  public async connector(
    sync: SyncConfig,
    opts: { readFields?: readonly string[] } = {},
  ): Promise<Connector> {
    const name = sync.target.connection;
    const connection = this.config.connections[name]!;
    let creds: ConnectionCredentials;
    if (this.local) {
      const given = this.local.connections?.[name];
      if (!given) {
        throw new UsageError(
          `the local stack gives connection '${name}' (${connection.type}) nothing to connect with: restart it with this config (\`npm start\`)`,
        );
      }
      creds = given;
    } else {
      creds = connection.secret ? credentialsFromSecret(await this.readSecret(connection.secret)) : {};
    }
    const connector = createConnector(sync, connection, creds, {
      ...(opts.readFields ? { readFields: opts.readFields } : {}),
    });
    this.connectors.push(connector);
    return connector;
  }

  private async readSecret(id: string): Promise<Record<string, string>> {
    const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
    const client = new SecretsManagerClient({ ...(this.region ? { region: this.region } : {}) });
    try {
      const res = await client.send(new GetSecretValueCommand({ SecretId: id }));
      const text = res.SecretString ?? '';
      try {
        return JSON.parse(text) as Record<string, string>;
      } catch {
        return { value: text };
      }
    } finally {
      client.destroy();
    }
  }

  /** Closes every connection this context opened. */
  public async close(): Promise<void> {
    await Promise.allSettled(this.connectors.map((c) => c.close()));
    await this.sql?.end({ timeout: 2 }).catch(() => undefined);
    this.aws.ddb.destroy();
    this.aws.sqs.destroy();
    this.aws.s3.destroy();
  }
}

/**
 * Finds the pipeline to operate on: `--stack` wins; otherwise the running local stack of the
 * state file. Neither: an error that says how to get one.
 */
export async function openOpsContext(opts: OpsContextOptions): Promise<OpsContext> {
  if (opts.dwhUrl !== undefined) refuseSecretOptions({ '--dwh-url': opts.dwhUrl });
  const config = await loadConfig(opts.configPath);
  if (opts.stack && opts.local) throw new UsageError('give either --local or --stack, not both');
  if (opts.stack) return openStack(config, opts.stack, opts);
  const local = opts.local ? readLocalState(opts.localStatePath) : findLocalState(opts.localStatePath);
  if (!local) {
    // Reading it again gives the precise reason (missing file, or its owner has exited).
    readLocalState(opts.localStatePath);
  }
  const state = local!;
  return new OpsContext({
    config,
    kind: 'local',
    description: `local stack (pid ${state.pid})`,
    resources: {
      stateTable: state.stateTable,
      linksTable: state.linksTable,
      syncs: Object.fromEntries(
        Object.entries(state.queues).map(([name, q]) => [name, { queueUrl: q.url, dlqUrl: q.dlqUrl }]),
      ),
      ...(state.claimCheckBucket ? { claimCheckBucket: state.claimCheckBucket } : {}),
    },
    aws: createAwsClients({
      dynamodb: state.dynamodbEndpoint,
      sqs: state.sqsEndpoint,
      ...(state.s3Endpoint ? { s3: state.s3Endpoint } : {}),
    }),
    local: state,
    ...(opts.dwhUrl ? { dwhUrl: opts.dwhUrl } : {}),
    ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
  });
}

/** The config file; a file that cannot even be imported is a configuration error too (exit 3). */
async function loadConfig(path: string): Promise<WritebackConfig> {
  try {
    return await loadConfigFile(path);
  } catch (err) {
    if (err instanceof WritebackError) throw err;
    throw new ConfigValidationError([
      `${path}: cannot load it (${(err as Error).message}); -c <path> names another file`,
    ]);
  }
}

async function openStack(
  config: WritebackConfig,
  stackName: string,
  opts: OpsContextOptions,
): Promise<OpsContext> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const cfn = new CloudFormationClient({ ...(opts.region ? { region: opts.region } : {}) });
  let outputs: Record<string, string>;
  let region: string;
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = res.Stacks?.[0];
    if (!stack) throw new Error('no such stack');
    outputs = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
    region = await cfn.config.region();
  } catch (err) {
    throw new StackNotFoundError(
      `cannot read stack ${stackName}: ${(err as Error).message}. Check the name, --region (or AWS_REGION) and your AWS credentials (aws sts get-caller-identity).`,
      { cause: err },
    );
  } finally {
    cfn.destroy();
  }
  return new OpsContext({
    config,
    kind: 'aws',
    description: `stack ${stackName} (${region})`,
    resources: resourcesFromOutputs(stackName, outputs, config.syncs),
    aws: createAwsClients({ region }),
    region,
    ...(opts.dwhUrl ? { dwhUrl: opts.dwhUrl } : {}),
    ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
  });
}

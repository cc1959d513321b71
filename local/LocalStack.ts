import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Sql } from 'postgres';
import { createExtractHandler } from '../functions/extract.ts';
import { createWriteHandler } from '../functions/write.ts';
import { type AwsClients, createAwsClients } from '../shared/aws/awsClients.ts';
import { S3ClaimCheckStore } from '../shared/aws/S3ClaimCheckStore.ts';
import { mappingFingerprint } from '../shared/config/mappingFingerprint.ts';
import type { SyncConfig, WritebackConfig } from '../shared/config/schema.ts';
import type { Connector } from '../shared/connectors/Connector.ts';
import { type ConnectionCredentials, createConnector } from '../shared/connectors/createConnector.ts';
import type { ContractTarget } from '../shared/connectors/kit/ContractTarget.ts';
import { DynamoLinkStore } from '../shared/links/DynamoLinkStore.ts';
import { UsageError } from '../shared/ops/errors.ts';
import { DynamoPairStore } from '../shared/pair/DynamoPairStore.ts';
import { targetPool, warehousePool } from '../shared/postgresPools.ts';
import type { ClaimCheckStore } from '../shared/queue/ClaimCheck.ts';
import { SqsEnqueuer, type SqsEnqueuerOptions } from '../shared/queue/SqsEnqueuer.ts';
import { DynamoRunStartReader } from '../shared/state/DynamoRunStartReader.ts';
import { DynamoStateStore } from '../shared/state/DynamoStateStore.ts';
import type { RunCounts, RunRecord } from '../shared/state/RunRecord.ts';
import type { StateStore } from '../shared/state/StateStore.ts';
import type { TargetHealthOptions } from '../shared/write/checkTargetHealth.ts';
import { SqsDeadLetterSink } from '../shared/write/DeadLetterSink.ts';
import { emptyWriteCounts, type WriteCounts, type WriteDeps } from '../shared/write/processWriteBatch.ts';
import { type DemoSize, prepareBillingDb, seedDemoDwh } from './demoData.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './EmbeddedPostgres.ts';
import { type HubSpotFake, type HubSpotFakeOptions, startHubSpotFake } from './fakes/hubspot/HubSpotFake.ts';
import type { LocalServices } from './fakes/LocalConnector.ts';
import { localConnector } from './fakes/localConnectors.ts';
import { startXeroFake, type XeroFake } from './fakes/xero/XeroFake.ts';
import { type LocalEmulators, startLocalEmulators } from './LocalEmulators.ts';
import { createClaimCheckBucket, type LocalResources, provisionLocal } from './provisionLocal.ts';
import { SqsPoller } from './SqsPoller.ts';

/** The token the local HubSpot fake accepts. Not a secret: it only opens a fake on 127.0.0.1. */
export const LOCAL_HUBSPOT_TOKEN = 'local-hubspot-token';

export interface LocalStackOptions {
  readonly config: WritebackConfig;
  /** Postgres data directory to reuse across restarts; a throwaway one when absent. */
  readonly dataDir?: string;
  /** Name prefix of tables and queues. @default a random one */
  readonly prefix?: string;
  /** Seed the demo CRM warehouse with this many customers. */
  readonly demo?: DemoSize;
  readonly logger?: Logger;
  /** Wraps or replaces a sync's connector (tests inject faults here). */
  readonly wrapConnector?: (sync: SyncConfig, connector: Connector) => Connector;
  /** The time the handlers see. @default Date.now */
  readonly now?: () => number;
  /** Options of the HubSpot fake (rate limits, object types). @default the fake's defaults */
  readonly hubspot?: Omit<HubSpotFakeOptions, 'port' | 'token'>;
  /** When the extract treats a target as down and pauses (chaos tests shorten the window). */
  readonly extractHealth?: TargetHealthOptions | false;
  /** Visibility timeout of the sync queues, seconds (chaos tests shorten it). @default 60 */
  readonly queueVisibilitySeconds?: number;
  /** Extra write dependencies per sync: rate limiter, lease, backoff, crash points (tests, benchmarks). */
  readonly writeOptions?: (sync: SyncConfig) => WriteTuning;
  /** Bodies above this many bytes travel by claim check (tests set it low). @default 256 KiB */
  readonly claimCheckThresholdBytes?: number;
  /** Told of every handler invocation and its duration (the cost bench prices them as Lambda would). */
  readonly onInvocation?: (invocation: HandlerInvocation) => void;
}

/** One invocation of a handler, as Lambda would bill it. */
export interface HandlerInvocation {
  readonly fn: 'extract' | 'write';
  readonly sync: string;
  readonly ms: number;
}

/** The optional parts of the write dependencies a local run may set. */
export type WriteTuning = Partial<WriteDeps>;

export interface SyncStats {
  /** Extract counters summed over finished runs plus the run in progress. */
  extract: RunCounts;
  write: WriteCounts;
  runs: number;
}

const EXTRACT_TIMEOUT_MS = 15 * 60_000;

/**
 * Everything Writeback needs, on one machine: an embedded Postgres (the DWH and the billing
 * app database), DynamoDB and SQS emulators, the HubSpot fake, and the real extract and write
 * handlers driven like Lambda drives them. Tests and `npm start` use this same module.
 */
export class LocalStack {
  public readonly config: WritebackConfig;
  public readonly pg: EmbeddedPostgres;
  public readonly emulators: LocalEmulators;
  public readonly hubspot: HubSpotFake;
  /** The Xero Accounting fake (one organisation, Xero's real rate limits). */
  public readonly xero: XeroFake;
  /** Fakes started for the other connection types of the config (QuickBooks, a user's own), by type. */
  public readonly fakes: ReadonlyMap<string, ContractTarget>;
  public readonly aws: AwsClients;
  public readonly resources: LocalResources;
  /** The warehouse (database `dwh`). */
  public readonly dwh: Sql;
  public readonly links: DynamoLinkStore;
  /** The entity state of two-way pairs, in the link table. */
  public readonly pairs: DynamoPairStore;
  public readonly state: StateStore;
  /** The claim-check bucket in the emulator: message bodies too large for SQS. */
  public readonly claimChecks: ClaimCheckStore;
  private readonly enqueuerOptions: SqsEnqueuerOptions;
  private readonly finished = new Map<string, SyncStats>();
  private readonly current = new Map<string, RunCounts>();
  private readonly pollers = new Map<string, SqsPoller>();
  private readonly connectors: Connector[] = [];
  private readonly ownDataDir: string | undefined;
  private readonly extractHandler: ReturnType<typeof createExtractHandler>;
  private readonly writeHandler: ReturnType<typeof createWriteHandler>;
  private readonly logger: Logger;
  private readonly onInvocation: ((invocation: HandlerInvocation) => void) | undefined;

  private constructor(init: {
    opts: LocalStackOptions;
    pg: EmbeddedPostgres;
    emulators: LocalEmulators;
    hubspot: HubSpotFake;
    xero: XeroFake;
    fakes: ReadonlyMap<string, ContractTarget>;
    aws: AwsClients;
    resources: LocalResources;
    dwh: Sql;
    ownDataDir: string | undefined;
  }) {
    const { opts } = init;
    this.config = opts.config;
    this.pg = init.pg;
    this.emulators = init.emulators;
    this.hubspot = init.hubspot;
    this.xero = init.xero;
    this.fakes = init.fakes;
    this.aws = init.aws;
    this.resources = init.resources;
    this.dwh = init.dwh;
    this.ownDataDir = init.ownDataDir;
    this.onInvocation = opts.onInvocation;
    this.logger = opts.logger ?? new Logger({ serviceName: 'writeback-local', logLevel: 'SILENT' });
    this.links = new DynamoLinkStore(this.aws.ddb, this.resources.linksTable);
    this.pairs = new DynamoPairStore(this.aws.ddb, this.resources.linksTable);
    this.state = new DynamoStateStore(this.aws.ddb, this.resources.stateTable);
    this.claimChecks = new S3ClaimCheckStore(this.aws.s3, this.resources.claimCheckBucket!);
    this.enqueuerOptions = {
      claimChecks: this.claimChecks,
      ...(opts.claimCheckThresholdBytes !== undefined
        ? { claimCheckThresholdBytes: opts.claimCheckThresholdBytes }
        : {}),
    };
    const now = opts.now ?? Date.now;
    for (const s of this.config.syncs) this.finished.set(s.name, emptyStats());

    this.extractHandler = createExtractHandler(async () => ({
      config: this.config,
      logger: this.logger,
      depsFor: (sync) => ({
        sql: this.dwh,
        state: this.state,
        links: this.links,
        // As on AWS (functions/awsDeps.ts): the state and the quiet run's gate in one request.
        runStart: new DynamoRunStartReader(this.aws.ddb, {
          state: this.resources.stateTable,
          links: this.resources.linksTable,
        }),
        pairs: this.pairs,
        enqueuer: this.enqueuer(sync.name),
        now,
        mappingFingerprint: mappingFingerprint(sync),
        ...(opts.extractHealth !== undefined ? { health: opts.extractHealth } : {}),
        onProgress: (name, counts) => {
          this.current.set(name, { ...counts });
        },
      }),
    }));

    const connectorFor = new Map<string, Connector>();
    for (const sync of this.config.syncs) {
      const connection = this.config.connections[sync.target.connection]!;
      let connector = createConnector(sync, connection, this.credentials(sync.target.connection));
      this.connectors.push(connector);
      if (opts.wrapConnector) connector = opts.wrapConnector(sync, connector);
      connectorFor.set(sync.name, connector);
    }
    const syncByArn = new Map(this.config.syncs.map((s) => [this.resources.queues[s.name]!.arn, s.name]));
    this.writeHandler = createWriteHandler(async () => ({
      config: this.config,
      logger: this.logger,
      syncForSource: (arn) => syncByArn.get(arn) ?? '',
      depsFor: (sync) => ({
        ...opts.writeOptions?.(sync),
        links: this.links,
        pairs: this.pairs,
        connector: connectorFor.get(sync.name)!,
        deadLetters: new SqsDeadLetterSink(this.aws.sqs, this.resources.queues[sync.name]!.dlqUrl, now),
        claimChecks: this.claimChecks,
        now,
        newToken: randomUUID,
        onResult: (counts) => {
          const w = this.finished.get(sync.name)!.write;
          for (const k of Object.keys(counts) as (keyof WriteCounts)[]) w[k] += counts[k];
        },
        delay: async (receiptHandle, seconds) => {
          await this.aws.sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: this.resources.queues[sync.name]!.url,
              ReceiptHandle: receiptHandle,
              VisibilityTimeout: seconds,
            }),
          );
        },
      }),
    }));
  }

  public static async start(opts: LocalStackOptions): Promise<LocalStack> {
    const ownDataDir = opts.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'writeback-pg-'));
    const [pg, emulators, hubspot, xero] = await Promise.all([
      startEmbeddedPostgres({ dataDir: opts.dataDir ?? join(ownDataDir!, 'data') }),
      startLocalEmulators(),
      startHubSpotFake({
        // The demo's deals and line items carry the warehouse ids as unique properties; contacts
        // also the Xero id of the two-way pair's records, and the account number Xero owns.
        objects: {
          contacts: {
            uniqueProperties: ['email', 'dwh_customer_id', 'xero_contact_id'],
            properties: ['xero_account_number'],
          },
          deals: { uniqueProperties: ['dwh_invoice_id'] },
          line_items: { uniqueProperties: ['dwh_line_id'] },
        },
        ...opts.hubspot,
        port: 0,
        token: LOCAL_HUBSPOT_TOKEN,
      }),
      startXeroFake({ port: 0 }),
    ]);
    const fakes = await startLocalFakes(opts.config);
    const admin = targetPool(pg.url(), { max: 1 });
    for (const db of ['dwh', 'billing']) {
      const [exists] = await admin`select 1 from pg_database where datname = ${db}`;
      if (!exists) await admin.unsafe(`create database ${db}`);
    }
    await admin.end();
    const dwh = warehousePool(pg.url('dwh'), { max: 8 });
    if (opts.demo) await seedDemoDwh(dwh, opts.demo);
    const billing = targetPool(pg.url('billing'), { max: 1 });
    await prepareBillingDb(billing);
    await billing.end();
    // One process serves every invocation Lambda would spread over containers: each sync's
    // writers (its concurrency) and its extract, plus the runtime's own calls (drain, verify).
    const invocations = opts.config.syncs.reduce((n, s) => n + s.concurrency + 1, 1);
    const aws = createAwsClients(
      { dynamodb: emulators.dynamodbEndpoint, sqs: emulators.sqsEndpoint, s3: emulators.s3Endpoint },
      { invocations },
    );
    const prefix = opts.prefix ?? `wb${randomUUID().slice(0, 8)}`;
    const resources: LocalResources = {
      ...(await provisionLocal(aws, prefix, opts.config.syncs)),
      claimCheckBucket: await createClaimCheckBucket(aws.s3, prefix),
    };
    if (opts.queueVisibilitySeconds !== undefined) {
      for (const q of Object.values(resources.queues)) {
        await aws.sqs.send(
          new SetQueueAttributesCommand({
            QueueUrl: q.url,
            Attributes: { VisibilityTimeout: String(opts.queueVisibilitySeconds) },
          }),
        );
      }
    }
    return new LocalStack({ opts, pg, emulators, hubspot, xero, fakes, aws, resources, dwh, ownDataDir });
  }

  /**
   * What the stack gives a connection: its connector's local credentials (a fake's URL and token,
   * the billing database), by the connection's name.
   */
  public credentials(connectionName: string): ConnectionCredentials {
    const connection = this.config.connections[connectionName];
    if (!connection) throw new UsageError(`unknown connection '${connectionName}'`);
    const local = localConnector(connection.type);
    const services: LocalServices = {
      hubspot: { url: this.hubspot.url, token: LOCAL_HUBSPOT_TOKEN },
      xero: { url: this.xero.url, accessToken: this.xero.accessToken, tenantId: this.xero.tenantId },
      billingUrl: this.pg.url('billing'),
      fakes: this.fakes,
    };
    if (local?.credentials) return local.credentials(connection, services);
    const fake = this.fakes.get(connection.type);
    if (!fake) throw new UsageError(`the local stack has no fake for ${connection.type} targets`);
    return fake.creds;
  }

  /** An enqueuer for a sync's queue, with the stack's claim checks (tests and the extract handler). */
  public enqueuer(syncName: string): SqsEnqueuer {
    return new SqsEnqueuer(this.aws.sqs, this.resources.queues[syncName]!.url, this.enqueuerOptions);
  }

  /** Runs one extract of a sync through the real extract handler, as the schedule would. */
  public async runExtract(syncName: string): Promise<RunRecord> {
    const deadline = Date.now() + EXTRACT_TIMEOUT_MS;
    const started = performance.now();
    try {
      const run = await this.extractHandler({ sync: syncName }, fakeContext(`${syncName}-extract`, deadline));
      this.onInvocation?.({ fn: 'extract', sync: syncName, ms: performance.now() - started });
      const s = this.finished.get(syncName)!;
      s.runs++;
      s.extract = addCounts(s.extract, run.counts);
      return run;
    } finally {
      this.current.delete(syncName);
    }
  }

  /** Progress counters of a sync: extract (finished runs + the one in progress) and write. */
  public stats(syncName: string): SyncStats {
    const s = this.finished.get(syncName)!;
    const cur = this.current.get(syncName);
    return {
      runs: s.runs,
      extract: cur ? addCounts(s.extract, cur) : { ...s.extract },
      write: { ...s.write },
    };
  }

  /** Starts the local event source mappings: one poller per sync, at the sync's concurrency. */
  public startWriters(overrides: { waitSeconds?: number } = {}): void {
    for (const sync of this.config.syncs) {
      if (this.pollers.has(sync.name)) continue;
      const q = this.resources.queues[sync.name]!;
      const poller = new SqsPoller({
        sqs: this.aws.sqs,
        queueUrl: q.url,
        queueArn: q.arn,
        batchSize: sync.batchSize ?? 10,
        concurrency: sync.concurrency,
        waitSeconds: overrides.waitSeconds ?? 1,
        handler: async (event: SQSEvent) => {
          const started = performance.now();
          // An SQS event is answered with its batch response (a keep-alive event is not sent here).
          const res = (await this.writeHandler(
            event,
            fakeContext(`${sync.name}-write`, Date.now() + 60_000),
          )) as SQSBatchResponse;
          this.onInvocation?.({ fn: 'write', sync: sync.name, ms: performance.now() - started });
          return res;
        },
        onError: (err) => this.logger.error('writer invocation failed', { sync: sync.name, err }),
      });
      poller.start();
      this.pollers.set(sync.name, poller);
    }
  }

  public async stopWriters(): Promise<void> {
    await Promise.all([...this.pollers.values()].map((p) => p.stop()));
    this.pollers.clear();
  }

  /** Messages waiting or in flight in a sync's queue and its DLQ. */
  public async queueDepth(syncName: string): Promise<{ visible: number; inFlight: number; dlq: number }> {
    const q = this.resources.queues[syncName]!;
    const attrs = async (url: string) =>
      (
        await this.aws.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        )
      ).Attributes ?? {};
    const [main, dlq] = await Promise.all([attrs(q.url), attrs(q.dlqUrl)]);
    return {
      visible: Number(main.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(main.ApproximateNumberOfMessagesNotVisible ?? 0),
      dlq: Number(dlq.ApproximateNumberOfMessages ?? 0),
    };
  }

  /** Waits until every queue is empty and no writer is busy (the backlog is drained). */
  public async drain(timeoutMs = 120_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const depths = await Promise.all(this.config.syncs.map((s) => this.queueDepth(s.name)));
      const busy = [...this.pollers.values()].some((p) => p.inFlight > 0);
      if (!busy && depths.every((d) => d.visible === 0 && d.inFlight === 0)) return;
      if (Date.now() > until)
        throw new Error(`queues not drained after ${timeoutMs} ms: ${JSON.stringify(depths)}`);
      await sleep(100);
    }
  }

  public async stop(): Promise<void> {
    await this.stopWriters();
    await Promise.allSettled(this.connectors.map((c) => c.close()));
    await this.dwh.end({ timeout: 5 });
    this.aws.ddb.destroy();
    this.aws.sqs.destroy();
    this.aws.s3.destroy();
    await Promise.all([
      this.emulators.stop(),
      this.hubspot.stop(),
      this.xero.stop(),
      ...[...this.fakes.values()].map((f) => f.stop()),
      this.pg.stop(),
    ]);
    if (this.ownDataDir) rmSync(this.ownDataDir, { recursive: true, force: true });
  }
}

/**
 * The fakes of the config's connection types that the stack does not run anyway (it always runs
 * HubSpot's, Xero's and Postgres): one per type, whatever the number of its connections.
 */
async function startLocalFakes(config: WritebackConfig): Promise<Map<string, ContractTarget>> {
  const types = new Set(Object.values(config.connections).map((c) => c.type));
  const fakes = new Map<string, ContractTarget>();
  for (const type of types) {
    const local = localConnector(type);
    if (local?.credentials || !local?.startFake) continue;
    fakes.set(type, await local.startFake());
  }
  return fakes;
}

function emptyStats(): SyncStats {
  return {
    extract: { read: 0, unchanged: 0, enqueued: 0, invalid: 0 },
    write: emptyWriteCounts(),
    runs: 0,
  };
}

function addCounts(a: RunCounts, b: RunCounts): RunCounts {
  return {
    read: a.read + b.read,
    unchanged: a.unchanged + b.unchanged,
    enqueued: a.enqueued + b.enqueued,
    invalid: a.invalid + b.invalid,
  };
}

/** The parts of a Lambda context our handlers use. */
function fakeContext(name: string, deadline: number): Context {
  return {
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

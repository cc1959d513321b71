import type { Sql } from 'postgres';
import type { SyncConfig } from '../config/schema.ts';
import { orderSyncs } from '../config/syncGraph.ts';
import type { Connector } from '../connectors/Connector.ts';
import { WritebackError } from '../errors.ts';
import { SourceReader } from '../source/SourceReader.ts';
import { enqueueRepairs, repairableKeys } from '../verify/repairSync.ts';
import type { VerifyAnswer } from '../verify/VerifyReport.ts';
import { verifyReadsTarget } from '../verify/verifyReadsTarget.ts';
import { verifySyncFindings } from '../verify/verifySync.ts';
import { UsageError } from './errors.ts';
import type { OpsContext } from './OpsContext.ts';

/** A target's copy loaded into the warehouse before verifying (the local ELT stand-in). */
export interface LoadedCopy {
  readonly sync: string;
  readonly table: string;
  /** Records copied; undefined when the copy was not loaded. */
  readonly records?: number;
  /** From where: `HubSpot contacts`, `billing.invoices`; or why not loaded. */
  readonly from: string;
  readonly skipped?: boolean;
}

/** Loads the targets' copies into the warehouse; the local runtime provides it (`--load-copies`). */
export type CopyLoader = (ctx: OpsContext, dwh: Sql, syncs: readonly SyncConfig[]) => Promise<LoadedCopy[]>;

export interface VerifySyncsOptions {
  /** Re-enqueue the missing and drifted records through the normal write path. */
  readonly repair?: boolean;
  /** Local stack only: refresh the warehouse copies of the targets first (the ELT stand-in). */
  readonly loadCopies?: CopyLoader;
  readonly onProgress?: (line: string) => void;
}

export interface VerifySyncsResult {
  /** One per sync, parents before children. */
  readonly verifications: VerifyAnswer[];
  /** The copies loaded first (`loadCopies`). */
  readonly copies: LoadedCopy[];
}

/**
 * Verifies syncs: compares each one's source with its target's copy through the links (see
 * verifySync), keeps the report in the state table, and, when asked, repairs. Locally the
 * comparison runs here against the local stack; on AWS the sync's verify function runs it in the
 * warehouse's VPC (and keeps the report itself). Without sync names: every sync with `verify`.
 */
export async function verifySyncs(
  ctx: OpsContext,
  names: readonly string[],
  opts: VerifySyncsOptions = {},
): Promise<VerifySyncsResult> {
  const progress = opts.onProgress ?? (() => undefined);
  const chosen = names.length > 0 ? names.map((n) => ctx.sync(n)) : ctx.config.syncs.filter((s) => s.verify);
  if (chosen.length === 0) {
    throw new UsageError(
      "no sync configures verify: add `verify: { table: '<schema>.<table>' }` (the target's copy in the warehouse) to a sync, or name one",
    );
  }
  // Parents first: a repaired parent is enqueued before its children.
  const wanted = new Set(chosen.map((s) => s.name));
  const syncs = orderSyncs(ctx.config.syncs).order.filter((s) => wanted.has(s.name));
  for (const s of syncs) ctx.syncResources(s.name);

  if (ctx.kind === 'aws') {
    if (opts.loadCopies) {
      throw new UsageError(
        '--load-copies loads the copies from the local fakes; on AWS your ELT tool loads the targets into the warehouse',
      );
    }
    const verifications: VerifyAnswer[] = [];
    for (const sync of syncs) {
      progress(`${sync.name}: verifying (verify function)…`);
      verifications.push(await invokeVerify(ctx, sync, opts.repair === true));
    }
    return { verifications, copies: [] };
  }

  const dwh = await ctx.warehouse();
  let copies: LoadedCopy[] = [];
  if (opts.loadCopies) {
    progress('loading the target copies into the warehouse…');
    copies = await opts.loadCopies(ctx, dwh, syncs);
  }
  const verifications: VerifyAnswer[] = [];
  for (const sync of syncs) {
    progress(`${sync.name}: verifying…`);
    const connector = verifyReadsTarget(sync) ? await listingConnector(ctx, sync) : undefined;
    const { report, findings } = await verifySyncFindings(
      sync,
      {
        dwh,
        links: ctx.links,
        state: ctx.state,
        now: Date.now,
        ...(connector ? { connector } : {}),
      },
      { exportLogs: true },
    );
    await ctx.state.recordVerify(report);
    if (!opts.repair) {
      verifications.push(report);
      continue;
    }
    progress(`${sync.name}: repairing…`);
    const repair = await enqueueRepairs(sync, repairableKeys(findings), {
      sql: dwh,
      enqueuer: ctx.enqueuer(sync.name),
      now: Date.now,
    });
    verifications.push({ ...report, repair });
  }
  return { verifications, copies };
}

/**
 * The connector to list a target with when the sync has no warehouse copy: asked to return the
 * mapped fields (HubSpot returns a default set otherwise), as map() names them for one source row.
 */
async function listingConnector(ctx: OpsContext, sync: SyncConfig): Promise<Connector> {
  let fields = sync.verify?.fields ? Object.values(sync.verify.fields) : undefined;
  if (!fields) {
    const [first] = await new SourceReader(await ctx.warehouse(), sync.name, sync.source).readPage(
      undefined,
      1,
      undefined,
    );
    try {
      fields = first ? Object.keys(sync.map(first.row, { sync: sync.name })) : [];
    } catch {
      fields = [];
    }
  }
  return ctx.connector(sync, { readFields: fields });
}

/** A synchronous Invoke of the sync's verify function, which keeps the report itself. */
async function invokeVerify(ctx: OpsContext, sync: SyncConfig, repair: boolean): Promise<VerifyAnswer> {
  const functionName = ctx.syncResources(sync.name).verifyFunction;
  if (!functionName) {
    throw new UsageError(
      sync.verify
        ? `${ctx.description} has no verify function for ${sync.name}: deploy the current config (\`npx cdk deploy\`)`
        : `sync ${sync.name} does not configure verify: add a verify block to it and deploy`,
    );
  }
  const { InvokeCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
  // A verification may take up to the function's 15-minute limit: wait as long.
  const lambda = new LambdaClient({
    ...(ctx.region ? { region: ctx.region } : {}),
    requestHandler: { requestTimeout: 16 * 60_000 },
  });
  try {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify({ sync: sync.name, repair })),
      }),
    );
    const text = new TextDecoder().decode(out.Payload ?? new Uint8Array());
    if (!out.FunctionError) return JSON.parse(text) as VerifyAnswer;
    let message = text;
    try {
      message = (JSON.parse(text) as { errorMessage?: string }).errorMessage ?? text;
    } catch {
      // not JSON: the raw text says it
    }
    throw new WritebackError(
      'WB_INVOKE_FAILED',
      `verify function ${functionName} failed: ${message}. Its logs: CloudWatch log group /aws/lambda/${functionName}`,
    );
  } finally {
    lambda.destroy();
  }
}

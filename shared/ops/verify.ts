import type { Sql } from 'postgres';
import type { SyncConfig } from '../config/schema.ts';
import { orderSyncs } from '../config/syncGraph.ts';
import type { Connector } from '../connectors/Connector.ts';
import { WritebackError } from '../errors.ts';
import { SourceReader } from '../source/SourceReader.ts';
import {
  DEFAULT_REPAIR_MAX,
  enqueueRepairs,
  heldRepair,
  type RepairResult,
  repairableKeys,
} from '../verify/repairSync.ts';
import type { VerifyAnswer } from '../verify/VerifyReport.ts';
import { verifyReadsTarget } from '../verify/verifyReadsTarget.ts';
import { verifySyncFindings } from '../verify/verifySync.ts';
import { audited } from './audit.ts';
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
  /** With repair: list what would be re-sent (source rows read, messages built), send nothing. */
  readonly dryRun?: boolean;
  /**
   * With repair: a sync with more records to repair than this is held (nothing sent) until the
   * caller confirms (`sendHeld`). @default DEFAULT_REPAIR_MAX; Infinity: no cap (`--yes`).
   */
  readonly max?: number;
  /** Local stack only: refresh the warehouse copies of the targets first (the ELT stand-in). */
  readonly loadCopies?: CopyLoader;
  readonly onProgress?: (line: string) => void;
}

export interface VerifySyncsResult {
  /** One per sync, parents before children. */
  readonly verifications: VerifyAnswer[];
  /** The copies loaded first (`loadCopies`). */
  readonly copies: LoadedCopy[];
  /** Repairs held over the cap, in sync order: nothing of theirs was sent. */
  readonly held: HeldRepair[];
}

/** A sync's repair held over the cap (`max`), to send once confirmed. */
export interface HeldRepair {
  readonly sync: string;
  /** Records to repair. */
  readonly records: number;
  readonly max: number;
  /**
   * Sends it (recorded in the audit trail) and returns what it sent; on AWS the verify function
   * verifies again and sends at most `records`, so a confirmation never covers more than it saw.
   */
  send(): Promise<RepairResult>;
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

  const max = opts.max ?? DEFAULT_REPAIR_MAX;
  const held: HeldRepair[] = [];
  if (ctx.kind === 'aws') {
    if (opts.loadCopies) {
      throw new UsageError(
        '--load-copies loads the copies from the local fakes; on AWS your ELT tool loads the targets into the warehouse',
      );
    }
    const verifications: VerifyAnswer[] = [];
    for (const sync of syncs) {
      progress(`${sync.name}: verifying (verify function)…`);
      if (!opts.repair || opts.dryRun) {
        verifications.push(
          await invokeVerify(ctx, sync, { repair: opts.repair === true, dryRun: opts.dryRun === true }),
        );
        continue;
      }
      // The verify function verifies and repairs in one go, within the cap: the audit record wraps it.
      const answer = await auditedRepair(
        ctx,
        sync.name,
        () => invokeVerify(ctx, sync, { repair: true, max }),
        (a) => a.repair,
      );
      verifications.push(answer);
      const r = answer.repair;
      if (r?.heldOverMax !== undefined) {
        held.push({
          sync: sync.name,
          records: r.requested,
          max,
          send: async () => {
            const again = await auditedRepair(
              ctx,
              sync.name,
              () => invokeVerify(ctx, sync, { repair: true, max: r.requested }),
              (a) => a.repair,
            );
            return again.repair ?? heldRepair(r.requested, r.requested);
          },
        });
      }
    }
    return { verifications, copies: [], held };
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
    const keys = repairableKeys(findings);
    const repairDeps = { sql: dwh, enqueuer: ctx.enqueuer(sync.name), now: Date.now };
    if (opts.dryRun) {
      progress(`${sync.name}: listing the repair (dry run)…`);
      verifications.push({
        ...report,
        repair: await enqueueRepairs(sync, keys, repairDeps, { dryRun: true }),
      });
      continue;
    }
    const send = () =>
      keys.length === 0
        ? enqueueRepairs(sync, keys, repairDeps)
        : auditedRepair(
            ctx,
            sync.name,
            () => enqueueRepairs(sync, keys, repairDeps),
            (r) => r,
          );
    if (keys.length > max) {
      verifications.push({ ...report, repair: heldRepair(keys.length, max) });
      held.push({ sync: sync.name, records: keys.length, max, send });
      continue;
    }
    progress(`${sync.name}: repairing…`);
    verifications.push({ ...report, repair: await send() });
  }
  return { verifications, copies, held };
}

/** A repair with its audit record: how many records it sent, under which run id; or that it held them. */
function auditedRepair<T>(
  ctx: OpsContext,
  sync: string,
  act: () => Promise<T>,
  repairOf: (result: T) => RepairResult | undefined,
): Promise<T> {
  return audited(ctx, { sync, action: 'repair', detail: 'missing and drifted records' }, act, (result) => {
    const r = repairOf(result);
    if (!r) return { records: 0 };
    if (r.heldOverMax !== undefined) {
      return {
        records: 0,
        runId: r.runId,
        detail: `held: ${r.requested} record(s) to repair, more than --max ${r.heldOverMax}; nothing sent`,
      };
    }
    return {
      records: r.enqueued,
      keys: r.enqueuedKeys,
      runId: r.runId,
      detail:
        `missing and drifted records: ${r.requested} asked, ${r.enqueued} sent from the current source rows` +
        (r.sourceGone.length > 0 ? `, ${r.sourceGone.length} source row(s) gone` : '') +
        (r.invalid.length > 0 ? `, ${r.invalid.length} refused by map()` : ''),
    };
  });
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
async function invokeVerify(
  ctx: OpsContext,
  sync: SyncConfig,
  opts: { readonly repair: boolean; readonly dryRun?: boolean; readonly max?: number },
): Promise<VerifyAnswer> {
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
        Payload: new TextEncoder().encode(
          JSON.stringify({
            sync: sync.name,
            repair: opts.repair,
            ...(opts.repair && opts.dryRun ? { dryRun: true } : {}),
            // Infinity (`--yes`): no cap. JSON has no Infinity.
            ...(opts.repair && opts.max !== undefined && Number.isFinite(opts.max) ? { max: opts.max } : {}),
          }),
        ),
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

import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { SyncConfig, WritebackConfig } from '../config/schema.ts';
import { ConfigValidationError, WritebackError } from '../errors.ts';
import type { ExtractDeps } from '../extract/runExtract.ts';
import type { WriteMessage } from '../queue/WriteMessage.ts';
import type { StateStore } from '../state/StateStore.ts';
import type { VerifyDeps } from '../verify/verifySync.ts';
import type { WriteDeps } from '../write/processWriteBatch.ts';

/** What the extract handler needs, however it was built (AWS env + Secrets Manager, or the local stack). */
export interface ExtractHandlerDeps {
  readonly config: WritebackConfig;
  readonly logger: Logger;
  /** The sync to run when the event names none (the function's own sync on AWS). */
  readonly defaultSync?: string;
  depsFor(sync: SyncConfig): ExtractDeps;
  /** Starts the runs of child syncs that share this sync's schedule, once this one is done. */
  runChildren?(sync: SyncConfig): Promise<void>;
  /** Starts another run right away when a run stopped on its time budget with rows left. */
  continueBacklog?(sync: SyncConfig, context: Context): Promise<void>;
}

/** What the write handler needs. */
export interface WriteHandlerDeps {
  readonly config: WritebackConfig;
  readonly logger: Logger;
  /** The sync whose queue a record came from. */
  syncForSource(eventSourceArn: string): string;
  depsFor(sync: SyncConfig): WriteDeps;
}

/** What the verify handler needs. */
export interface VerifyHandlerDeps {
  readonly config: WritebackConfig;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly defaultSync?: string;
  depsFor(sync: SyncConfig): VerifyDeps & { readonly state: StateStore };
  /** The sync's queue, for a verification asked to repair (`{"repair": true}`). */
  enqueuerFor?(sync: SyncConfig): { sendAll(messages: readonly WriteMessage[]): Promise<void> };
}

export function findSync(config: WritebackConfig, name: string | undefined): SyncConfig {
  const sync = config.syncs.find((s) => s.name === name);
  if (!sync) {
    throw new ConfigValidationError([
      `event.sync: unknown sync '${name ?? ''}' (known: ${config.syncs.map((s) => s.name).join(', ')})`,
    ]);
  }
  return sync;
}

/**
 * The sync an invocation runs. A deployed function serves one sync (its WB_SYNC, `own`) and holds
 * only that sync's permissions: an event naming another one is refused with WB_WRONG_SYNC before
 * anything is read. Without a sync of its own (the local runtime) the event chooses.
 */
export function syncToRun(
  fn: 'extract' | 'verify',
  requested: string | undefined,
  own: string | undefined,
): string | undefined {
  if (own !== undefined && requested !== undefined && requested !== own) {
    throw new WritebackError(
      'WB_WRONG_SYNC',
      `event.sync: this ${fn} function runs sync '${own}' only (its WB_SYNC), not '${requested}'; invoke that sync's own ${fn} function`,
    );
  }
  return requested ?? own;
}

import type { SyncConfig } from '../config/schema.ts';
import { STACK_OUTPUTS, syncOutputNames } from '../contracts/outputNames.ts';
import { StackNotFoundError } from './errors.ts';

/** Where one sync's resources are, however they were found (stack outputs or a local state file). */
export interface SyncResources {
  readonly queueUrl: string;
  readonly dlqUrl: string;
  /** The extract function to invoke for `writeback run` on AWS; absent locally. */
  readonly extractFunction?: string;
  /** The verify function to invoke for `writeback verify` on AWS; absent locally and for syncs without `verify`. */
  readonly verifyFunction?: string;
}

/** The resources the operator commands work on. */
export interface OpsResources {
  readonly stateTable: string;
  readonly linksTable: string;
  readonly syncs: Readonly<Record<string, SyncResources>>;
  /** Bucket of the claim checks (message bodies too large for SQS); absent for a stack deployed before it. */
  readonly claimCheckBucket?: string;
}

/**
 * Reads a deployed stack's outputs (names from shared/contracts/outputNames.ts). Every missing output is
 * reported at once; a sync of the config that the stack does not have means the config and the
 * deployment differ, which `cdk deploy` fixes.
 */
export function resourcesFromOutputs(
  stackName: string,
  outputs: Readonly<Record<string, string>>,
  syncs: readonly SyncConfig[],
): OpsResources {
  const missing: string[] = [];
  const need = (name: string): string => {
    const value = outputs[name];
    if (value === undefined) missing.push(name);
    return value ?? '';
  };
  const stateTable = need(STACK_OUTPUTS.stateTableName);
  const linksTable = need(STACK_OUTPUTS.linksTableName);
  const bySync: Record<string, SyncResources> = {};
  for (const sync of syncs) {
    const names = syncOutputNames(sync.name);
    // Only syncs with `verify` have a verify function; a stack deployed before it was added has none.
    const verifyFunction = outputs[names.verifyFunctionName];
    bySync[sync.name] = {
      queueUrl: need(names.queueUrl),
      dlqUrl: need(names.dlqUrl),
      extractFunction: need(names.extractFunctionName),
      ...(verifyFunction ? { verifyFunction } : {}),
    };
  }
  if (missing.length > 0) {
    throw new StackNotFoundError(
      `stack ${stackName} lacks the outputs ${missing.join(', ')}: is it a Writeback stack deployed from this config? ` +
        'Run `npx cdk deploy` after changing the syncs.',
    );
  }
  const claimCheckBucket = outputs[STACK_OUTPUTS.claimCheckBucketName];
  return { stateTable, linksTable, syncs: bySync, ...(claimCheckBucket ? { claimCheckBucket } : {}) };
}

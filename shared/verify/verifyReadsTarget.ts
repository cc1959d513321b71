import type { SyncConfig } from '../config/schema.ts';

/**
 * Whether verifying a sync calls the target's API: to list the target when the warehouse holds
 * no copy of it, or to read the associations of associated children when the copy does not
 * carry them (`verify.parentColumn`). Decides who gets a connector and the connection secret.
 */
export function verifyReadsTarget(sync: SyncConfig): boolean {
  if (!sync.verify?.table) return true;
  return sync.target.associate !== undefined && sync.verify.parentColumn === undefined;
}

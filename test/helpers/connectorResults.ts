import type { AssociationResult, UpsertResult } from '../../shared/connectors/Connector.ts';
import { describeError, type TargetError } from '../../shared/errors.ts';

/** A connector's per-record (or per-pair) outcome. */
type Outcome = UpsertResult | AssociationResult;

/** The error of a failed outcome; anything else fails the test with what came instead. */
export function failure(r: Outcome | undefined): TargetError {
  if (r === undefined || r.ok) throw new Error(`expected a failed result, got ${JSON.stringify(r)}`);
  return r.error;
}

/** A successful outcome, narrowed; a failure fails the test with its (secret-free) error. */
export function success<R extends Outcome>(r: R | undefined): Extract<R, { ok: true }> {
  if (r === undefined || !r.ok)
    throw new Error(`expected a success, got ${r ? describeError(r.error).message : r}`);
  return r as Extract<R, { ok: true }>;
}

/** Results by record key: connectors may answer in any order. */
export function byKey(results: readonly UpsertResult[]): Map<string, UpsertResult> {
  return new Map(results.map((r) => [r.key, r]));
}

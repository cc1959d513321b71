import type { TargetError } from '../errors.ts';
import type { UpsertRecord, UpsertResult } from './Connector.ts';

/** One failed result per record, for a failure that struck the whole call and so every record in it. */
export function failAll(records: readonly Pick<UpsertRecord, 'key'>[], error: TargetError): UpsertResult[] {
  return records.map((r) => ({ key: r.key, ok: false, error }));
}

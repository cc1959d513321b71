import type { SyncConfig } from '../config/schema.ts';
import { applyNullPolicy } from '../connectors/nullPolicy.ts';
import { describeError, InvalidRecordError } from '../errors.ts';
import { PARENT_TARGET_ID, type WriteMessage } from '../queue/WriteMessage.ts';
import type { SourceRow } from '../source/SourceReader.ts';
import { contentHash } from '../util/contentHash.ts';

/**
 * The queue message for one source row: the mapped payload and its hash (which covers the parent
 * it refers to), the parent (its target id stands as PARENT_TARGET_ID until the writer resolves it), or, when map()
 * throws, an `invalid` message the writer dead-letters with map's reason. `version` overrides the
 * row's own (a changed embedded child makes the record newer than its cursor says).
 */
export function toWriteMessage(
  sync: SyncConfig,
  r: SourceRow,
  runId: string,
  enqueuedAt: string,
  version: string = r.version,
): WriteMessage {
  const base = { v: 1 as const, sync: sync.name, key: r.key, version, runId, enqueuedAt };
  try {
    const parentKey = sync.parent ? r.row[sync.parent.key] : undefined;
    if (sync.parent && (parentKey === null || parentKey === undefined)) {
      throw new InvalidRecordError(
        'WB_PARENT_KEY_MISSING',
        `column ${sync.parent.key} (the parent's key) is null`,
      );
    }
    const parent = sync.parent ? { sync: sync.parent.sync, key: String(parentKey) } : undefined;
    // The null policy applies before hashing: the hash covers exactly what is sent.
    const payload = applyNullPolicy(
      sync.map(r.row, {
        sync: sync.name,
        ...(parent ? { parent: { key: parent.key, targetId: PARENT_TARGET_ID } } : {}),
      }),
      sync.target.nulls,
    );
    // The parent is part of the content: a child moved to another parent has the same payload
    // (the parent's id is only a placeholder here) and must still be written again.
    const hash = contentHash(parent ? { payload, parent } : payload);
    return { ...base, hash, payload, ...(parent ? { parent } : {}) };
  } catch (err) {
    const { code, message } = describeError(err);
    return {
      ...base,
      hash: `invalid:${contentHash(message)}`,
      payload: {},
      invalid: { code: code === 'WB_INTERNAL' ? 'WB_MAP_FAILED' : code, message },
    };
  }
}

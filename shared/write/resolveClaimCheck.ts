import type { LinkStore } from '../links/LinkStore.ts';
import { newestVersion } from '../links/newestVersion.ts';
import {
  type ClaimCheckPointer,
  type ClaimCheckStore,
  claimCheckPointerOf,
  sha256Hex,
} from '../queue/ClaimCheck.ts';

/** Error codes of claim-checked messages (docs/write-protocol.md, "Message limits"). */
export const CLAIM_CHECK_CODES = {
  /** The stored body is gone (expired, deleted) and the link does not show the record written. */
  missing: 'WB_CLAIM_CHECK_MISSING',
  /** The stored body does not match its pointer (size, SHA-256 or identity). */
  mismatch: 'WB_CLAIM_CHECK_MISMATCH',
  /** The store kept failing (not a missing object) until the record's retries ran out. */
  unreadable: 'WB_CLAIM_CHECK_UNREADABLE',
} as const;

/** What a delivered body stands for, once a claim-check pointer is followed. */
export type ResolvedBody =
  /** The message text (the body itself, or the stored body a pointer led to). */
  | { readonly kind: 'body'; readonly body: string; readonly pointer?: ClaimCheckPointer }
  /** The stored body is gone, and the link shows why: the record was written, or a newer version is on its way. */
  | { readonly kind: 'settled'; readonly outcome: 'unchanged' | 'stale' }
  /** Set aside: the record cannot be read, ever. */
  | { readonly kind: 'deadLetter'; readonly code: string; readonly message: string; readonly key?: string }
  /** The store failed; try this delivery again later. */
  | { readonly kind: 'retry'; readonly message: string };

/**
 * Follows a claim-check pointer (ClaimCheck.ts) to the body it stands for; any other body is
 * returned as it is. A missing object is harmless when the link shows the record handled (the
 * writer deletes an object once its message is settled, and SQS may deliver a message twice);
 * otherwise the record is dead-lettered with WB_CLAIM_CHECK_MISSING, never dropped in silence.
 */
export async function resolveClaimCheck(
  body: string,
  deps: {
    readonly sync: string;
    readonly claimChecks: ClaimCheckStore | undefined;
    readonly links: Pick<LinkStore, 'get'>;
    /** This delivery is the last the record's retry budget allows. */
    readonly lastAttempt: boolean;
  },
): Promise<ResolvedBody> {
  const found = claimCheckPointerOf(body);
  if (found === undefined) return { kind: 'body', body };
  if ('error' in found) return { kind: 'deadLetter', code: 'WB_MESSAGE_INVALID', message: found.error };
  const { pointer } = found;
  const { claimCheck } = pointer;
  const where = `s3://${claimCheck.bucket}/${claimCheck.key}`;
  if (pointer.sync !== deps.sync)
    return {
      kind: 'deadLetter',
      code: 'WB_MESSAGE_INVALID',
      message: `message for sync ${pointer.sync} arrived at ${deps.sync}'s queue`,
      key: pointer.key,
    };
  if (!deps.claimChecks) {
    return {
      kind: 'deadLetter',
      code: CLAIM_CHECK_CODES.missing,
      message: `the record's body is stored at ${where}, but this writer has no claim-check bucket configured (WB_CLAIM_CHECK_BUCKET); redrive it once the writer has one`,
      key: pointer.key,
    };
  }
  let stored: string | undefined;
  try {
    stored = await deps.claimChecks.get(claimCheck);
  } catch (err) {
    const message = `reading the record's body at ${where} failed: ${(err as Error).name}: ${(err as Error).message}`;
    if (deps.lastAttempt)
      return { kind: 'deadLetter', code: CLAIM_CHECK_CODES.unreadable, message, key: pointer.key };
    return { kind: 'retry', message };
  }
  if (stored === undefined) {
    const link = await deps.links.get(pointer.sync, pointer.key);
    const seen = newestVersion(link);
    if (seen !== undefined && seen > BigInt(pointer.version)) return { kind: 'settled', outcome: 'stale' };
    if (
      link?.status === 'ok' &&
      link.hash === pointer.hash &&
      seen !== undefined &&
      seen >= BigInt(pointer.version)
    )
      return { kind: 'settled', outcome: 'unchanged' };
    return {
      kind: 'deadLetter',
      code: CLAIM_CHECK_CODES.missing,
      message: `the record's body at ${where} is gone (expired or deleted) and the target does not hold this version: redrive the key from the source (writeback dlq redrive)`,
      key: pointer.key,
    };
  }
  const bytes = Buffer.byteLength(stored, 'utf8');
  if (bytes !== claimCheck.bytes || sha256Hex(stored) !== claimCheck.sha256) {
    return {
      kind: 'deadLetter',
      code: CLAIM_CHECK_CODES.mismatch,
      message: `the record's body at ${where} does not match its pointer (${bytes} bytes, expected ${claimCheck.bytes}, or a different SHA-256): redrive the key from the source`,
      key: pointer.key,
    };
  }
  return { kind: 'body', body: stored, pointer };
}

/** The parsed message must be the record its pointer names. */
export function matchesPointer(
  msg: { sync: string; key: string; version: string; hash: string },
  pointer: ClaimCheckPointer,
): boolean {
  return (
    msg.sync === pointer.sync &&
    msg.key === pointer.key &&
    msg.version === pointer.version &&
    msg.hash === pointer.hash
  );
}

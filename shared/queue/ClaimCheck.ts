import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * Claim check for message bodies too large for SQS (the pattern of the SQS extended client
 * libraries): the body is stored as an object, and the queue message carries a pointer to it.
 * The pointer repeats the record's identity (sync, key, version, hash), so a writer that finds
 * the object gone can still tell a duplicate delivery of a record already written (harmless)
 * from a record that would be lost (dead-lettered with WB_CLAIM_CHECK_MISSING).
 */
export const ClaimCheckPointerSchema = z.object({
  v: z.literal(1),
  claimCheck: z.object({
    bucket: z.string().min(1),
    key: z.string().min(1),
    /** UTF-8 bytes of the stored body. */
    bytes: z.number().int().nonnegative(),
    /** Hex SHA-256 of the stored body's UTF-8 bytes. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  sync: z.string().min(1),
  key: z.string().min(1),
  version: z.string().regex(/^-?\d+$/),
  hash: z.string().min(1),
  runId: z.string().min(1),
  enqueuedAt: z.string(),
});
export type ClaimCheckPointer = z.infer<typeof ClaimCheckPointerSchema>;

/** Where one stored body is. */
export interface ClaimCheckLocation {
  readonly bucket: string;
  readonly key: string;
}

/**
 * The object store port (S3 on AWS and locally through the emulator). Object keys start with
 * the sync's name and `/`: each function's IAM policy is scoped to its sync's prefix.
 */
export interface ClaimCheckStore {
  /** Stores a body; resolves once it is durable. */
  put(objectKey: string, body: string): Promise<ClaimCheckLocation>;
  /** The stored body, or undefined when there is no such object. Throws on any other failure (retryable). */
  get(location: ClaimCheckLocation): Promise<string | undefined>;
  /** Removes an object; an object already gone is not an error. */
  delete(location: ClaimCheckLocation): Promise<void>;
}

/** Hex SHA-256 of a text's UTF-8 bytes. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The pointer in a message body, or undefined when the body is not a claim-check pointer. */
export function claimCheckPointerOf(
  body: string,
): { pointer: ClaimCheckPointer } | { error: string } | undefined {
  // Cheap test first: the marker is near the start of every pointer, and bodies can be large.
  if (!body.startsWith('{"v":1,"claimCheck":')) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { error: 'claim-check pointer is not JSON' };
  }
  const parsed = ClaimCheckPointerSchema.safeParse(json);
  if (!parsed.success) {
    return {
      error: `claim-check pointer does not match its schema: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    };
  }
  return { pointer: parsed.data };
}

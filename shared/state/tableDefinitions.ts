/**
 * Key schemas of Writeback's DynamoDB tables, shared by the CDK stack and the local runtime
 * so the emulator tables and the deployed ones cannot drift apart.
 */
export const STATE_TABLE = {
  /** `sync#<name>` */
  partitionKey: 'pk',
  /**
   * `state` for bookmark + lease, `run#<startedAt>#<runId>` for run history, `verify#<at>` for
   * verification reports, `action#<at>#<id>` for operator actions (the audit trail).
   */
  sortKey: 'sk',
  /** Epoch seconds after which DynamoDB TTL may delete run history items. */
  ttlAttribute: 'expiresAt',
} as const;

export const LINKS_TABLE = {
  /**
   * `<sync>#<encoded source key>`, or `<sync>~sha256:<base64url>` when that would exceed DynamoDB's
   * 2048 bytes (shared/links/linkKeys.ts); the full key is the `skey` attribute.
   */
  partitionKey: 'pk',
  /** Epoch seconds; only set on items that are safe to forget (none today). */
  ttlAttribute: 'expiresAt',
  /**
   * Sparse index of the links an operator or a redrive must find: failed, dead, retrying, and
   * pending only when claimed by a delivery that came back (a first delivery's claim carries no
   * `attention`, so the happy path writes no index entry). Projects everything: its items are few.
   */
  attentionIndex: { name: 'attention', partitionKey: 'attention', sortKey: 'updatedAt' },
  /**
   * Reverse lookup from the target's id: `<sync>#<targetId>`, hashed like `pk` when too long.
   * Projects only `skey`, which never changes for a link: a claim or commit that changes hash,
   * version or status writes no index entry (only the commit that sets or changes the target id).
   */
  targetIndex: { name: 'byTarget', partitionKey: 'targetRef', projectedAttributes: ['skey'] },
} as const;

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
  /** Sparse index of links that need attention: only items whose status is not `ok` carry `attention`. */
  attentionIndex: { name: 'attention', partitionKey: 'attention', sortKey: 'updatedAt' },
  /** Reverse lookup from the target's id: `<sync>#<targetId>`, hashed like `pk` when too long. */
  targetIndex: { name: 'byTarget', partitionKey: 'targetRef' },
} as const;

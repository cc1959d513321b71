import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { SyncConfig } from '../shared/config/schema.ts';
import { LINKS_TABLE } from '../shared/state/tableDefinitions.ts';

/**
 * Which items of the two tables each function of a sync may touch, and with which calls: exactly
 * the DynamoDB calls its code makes (listed per function below, with where they are made), each
 * limited by `dynamodb:LeadingKeys` to the partition keys the sync owns. One sync's functions can
 * therefore not read or change another sync's links, bookmarks, leases or run history.
 *
 * The partition keys, as the stores build them (test/infra/leastPrivilege.test.ts drives the real
 * stores and checks every key they send against these grants):
 *
 * | table | item | key | built in |
 * | --- | --- | --- | --- |
 * | state | state item (bookmark, lease, mapping, stream bookmarks), run and verify history | `sync#<sync>` | DynamoStateStore |
 * | links | a link | `<sync>#<key>`, or `<sync>~sha256:<hash>` when too long | linkKeys.ts (linkPk) |
 * | links, `attention` index | links that need a look | `<sync>#<status>` | linkKeys.ts (attentionKey) |
 * | links, `byTarget` index | reverse lookup | `<sync>#<targetId>` or hashed | linkKeys.ts (targetRef); no function queries it |
 * | links | target health buckets, auth outage, redrive flag | `~health#<sync>#<bucket>`, `…#auth`, `…#redrive` | DynamoTargetHealthStore |
 * | links | shared pacing of a connection | `~rate#<connection>` | DynamoRateLimiter |
 * | state | OAuth refresh lease of a connection | `connection#<connection>` | DynamoRefreshLease |
 * | links | entity state of a two-way pair (baseline, write times) | `~pair#<pair>#<entity>` or hashed | DynamoPairStore |
 *
 * Sync and connection names are `[a-z][a-z0-9-]*` (config schema): no `#`, `~`, `*` or `?`, so a
 * pattern of one sync (`crm#*`) never matches another's (`crm-eu#…`). The pacing item is the one key
 * not owned by a sync: every writer of a connection shares it by design (one budget per vendor
 * account), so the write functions of all syncs of that connection may change it.
 *
 * A Query on an index is checked against the index's partition key, so the `attention` queries are
 * limited the same way. A Scan has no leading key: it cannot be limited like this, and only the
 * verify function, which reads every link of its sync once per verification, may scan (the links
 * table, read only). The statements also require the key to be present (`Null`), because a
 * `ForAllValues` condition holds for a request that carries no key at all, such as a Scan.
 */

/** The partition-key patterns of the items of a sync (and of a connection's pacing item). */
export const itemKeys = {
  /** State table: the sync's state item and its run and verify history (one partition). */
  state: (sync: string): string[] => [`sync#${sync}`],
  /** Links table: the sync's links, readable and hashed (linkKeys.ts). */
  links: (sync: string): string[] => [`${sync}#*`, `${sync}~sha256:*`],
  /** `attention` index: `<sync>#<status>`. */
  attention: (sync: string): string[] => [`${sync}#*`],
  /** Links table: the sync's target health buckets. */
  health: (sync: string): string[] => [`~health#${sync}#*`],
  /** Links table: the shared pacing item of a connection (every writer of it). */
  pacing: (connection: string): string[] => [`~rate#${connection}`],
  /** Links table: the entity items of a two-way pair (both directions share them). */
  pair: (pair: string): string[] => [`~pair#${pair}#*`, `~pair#${pair}~sha256:*`],
  /** State table: the refresh lease of a connection's rotating OAuth tokens (every writer of it). */
  refreshLease: (connection: string): string[] => [`connection#${connection}`],
};

/** One grant: these actions on these items of one table (or of one of its indexes). */
export interface ItemGrant {
  readonly table: 'state' | 'links';
  /** An index of the table instead of the table itself. */
  readonly index?: string;
  readonly actions: readonly string[];
  /** `dynamodb:LeadingKeys` patterns; undefined only for a Scan, which has none. */
  readonly keys: readonly string[] | undefined;
  /** Statement id: what the grant is for. */
  readonly sid: string;
}

/**
 * The extract function (functions/extract.ts → runExtract):
 * - state: BatchGetItem (DynamoRunStartReader: the state item, in one request with the redrive
 *   flag and auth outage of the links table; IAM checks each table's part apart), GetItem
 *   (state.get, getStreamBookmark), UpdateItem (takeLease, saveMapping, saveProgress,
 *   saveStreamBookmark, releaseLease), PutItem (recordRun);
 * - links: BatchGetItem (selectChanged, deleteGuard, DeletedKeysStream, planPairPage's entity items; the health buckets in
 *   checkTargetHealth; the redrive flag and auth outage in readGate), UpdateItem (selectChanged's
 *   touchVersion, redriveFailed's markRedriven; settleRedrive on the redrive flag
 *   `~health#<sync>#redrive`), Query on `attention` (redriveFailed: listByStatus, countByStatus,
 *   oldestUpdate).
 */
export function extractItemGrants(sync: SyncConfig): ItemGrant[] {
  const s = sync.name;
  return [
    {
      sid: 'StateOfItsSync',
      table: 'state',
      actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      keys: itemKeys.state(s),
    },
    {
      sid: 'ReadItsLinksAndHealth',
      table: 'links',
      actions: ['dynamodb:BatchGetItem'],
      keys: [...itemKeys.links(s), ...itemKeys.health(s)],
    },
    {
      sid: 'MarkItsLinks',
      table: 'links',
      actions: ['dynamodb:UpdateItem'],
      keys: [...itemKeys.links(s), ...itemKeys.health(s)],
    },
    ...(sync.pair
      ? [
          {
            sid: 'ReadItsPairEntities',
            table: 'links' as const,
            actions: ['dynamodb:BatchGetItem'],
            keys: itemKeys.pair(sync.pair.name),
          },
        ]
      : []),
    {
      sid: 'QueryItsAttentionIndex',
      table: 'links',
      index: LINKS_TABLE.attentionIndex.name,
      actions: ['dynamodb:Query'],
      keys: itemKeys.attention(s),
    },
  ];
}

/**
 * The write function (functions/write.ts → processWriteBatch):
 * - links: GetItem (claim's re-read, resolveClaimCheck; the pacing item), BatchGetItem (the batch's
 *   links; resolveParents reads the parent sync's links, read only), UpdateItem (claim, commit,
 *   commitDeleted, recordFailure, touchVersion; the health bucket and the redrive flag; the pacing item);
 *   one direction of a two-way pair also UpdateItem of the pair's entity items and of the other
 *   direction's links (DynamoPairStore.recordWrite: the partner's link to a record it did not create);
 * - state: only when its connection refreshes rotating OAuth tokens (`refreshesTokens`), UpdateItem
 *   of that connection's refresh lease (DynamoRefreshLease: acquire, release); nothing of any sync.
 */
export function writeItemGrants(sync: SyncConfig, opts: { refreshesTokens?: boolean } = {}): ItemGrant[] {
  const s = sync.name;
  const pacing = itemKeys.pacing(sync.target.connection);
  return [
    {
      sid: 'ReadItsLinksParentsAndPacing',
      table: 'links',
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
      keys: [...itemKeys.links(s), ...(sync.parent ? itemKeys.links(sync.parent.sync) : []), ...pacing],
    },
    {
      sid: 'WriteItsLinksHealthAndPacing',
      table: 'links',
      actions: ['dynamodb:UpdateItem'],
      keys: [...itemKeys.links(s), ...itemKeys.health(s), ...pacing],
    },
    ...(sync.pair
      ? [
          {
            sid: 'RecordPairWrites',
            table: 'links' as const,
            actions: ['dynamodb:UpdateItem'],
            keys: [...itemKeys.pair(sync.pair.name), ...itemKeys.links(sync.pair.partner)],
          },
        ]
      : []),
    ...(opts.refreshesTokens
      ? [
          {
            sid: 'RefreshLeaseOfItsConnection',
            table: 'state' as const,
            actions: ['dynamodb:UpdateItem'],
            keys: itemKeys.refreshLease(sync.target.connection),
          },
        ]
      : []),
  ];
}

/**
 * The verify function (functions/verify.ts → verifySyncFindings):
 * - state: GetItem (the bookmark), Query (listRuns, for the sync-log export), PutItem (recordVerify);
 * - links: Scan (every link of the sync, filtered on it: not limited to the sync's items),
 *   BatchGetItem of the parent sync's links (resolveParents, for a child).
 */
export function verifyItemGrants(sync: SyncConfig): ItemGrant[] {
  return [
    {
      sid: 'StateOfItsSync',
      table: 'state',
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
      keys: itemKeys.state(sync.name),
    },
    { sid: 'ScanLinks', table: 'links', actions: ['dynamodb:Scan'], keys: undefined },
    ...(sync.parent
      ? [
          {
            sid: 'ReadParentLinks',
            table: 'links' as const,
            actions: ['dynamodb:BatchGetItem'],
            keys: itemKeys.links(sync.parent.sync),
          },
        ]
      : []),
  ];
}

/** Adds the grants to a function's role, each as one statement on the table (or index) it names. */
export function grantItems(
  role: iam.IRole,
  tables: { readonly state: dynamodb.ITable; readonly links: dynamodb.ITable },
  grants: readonly ItemGrant[],
): void {
  for (const grant of grants) {
    const tableArn = tables[grant.table].tableArn;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: grant.sid,
        actions: [...grant.actions],
        resources: [grant.index ? `${tableArn}/index/${grant.index}` : tableArn],
        ...(grant.keys
          ? {
              conditions: {
                'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...grant.keys] },
                Null: { 'dynamodb:LeadingKeys': 'false' },
              },
            }
          : {}),
      }),
    );
  }
}

import type { Sql } from 'postgres';
import type { ConnectionConfig, SyncConfig } from '../../shared/config/schema.ts';
import type { ConnectionCredentials } from '../../shared/connectors/ConnectionCredentials.ts';
import type { ContractTarget } from '../../shared/connectors/kit/ContractTarget.ts';
import type { CopySources } from '../loadTargetCopies.ts';

/** What the local stack runs for every connection, whatever its type. */
export interface LocalServices {
  /** The HubSpot fake and the token it accepts. */
  readonly hubspot: { readonly url: string; readonly token: string };
  /** The Xero fake: its URL, the access token and tenant id it accepts. */
  readonly xero: { readonly url: string; readonly accessToken: string; readonly tenantId: string };
  /** The billing application's database (the Postgres target of the demo). */
  readonly billingUrl: string;
  /** Fakes the stack started for the other connection types, by type. */
  readonly fakes: ReadonlyMap<string, ContractTarget>;
}

/** One sync's `verify.table` to refresh from the target, as the ELT tool would. */
export interface ReadBackRequest {
  readonly dwh: Sql;
  readonly sync: SyncConfig;
  readonly connection: ConnectionConfig;
  /** The warehouse copy to (re)create. */
  readonly table: string;
  readonly sources: CopySources;
}

/**
 * A connector's local half, kept out of shared/ (and so out of the Lambda bundles): its fake for
 * the contract kit, the credentials the local stack gives its connections, and how the local ELT
 * stand-in loads its records back into the warehouse.
 */
export interface LocalConnector {
  readonly type: string;
  /** A fresh fake for the contract kit, rate limits off (the kit injects its own faults). */
  startFake?(): Promise<ContractTarget>;
  /**
   * What a connection of this type is given in the local stack. @default the credentials of a fake
   * the stack starts with startFake() (`services.fakes`)
   */
  credentials?(connection: ConnectionConfig, services: LocalServices): ConnectionCredentials;
  /** Loads the target's copy into the warehouse; undefined: no local loader (the table is left as it is). */
  readBack?(req: ReadBackRequest): Promise<{ readonly records: number; readonly from: string } | undefined>;
}

import type { FakeCall, Reply } from '../common/FakeServer.ts';
import { stripeError } from './resources.ts';

/** What a restricted key may do with a resource, as the Dashboard sets it: None, Read or Write. */
export type StripeAccess = 'none' | 'read' | 'write';

/** A restricted key's permissions (Write implies Read). Unlisted resources are None. */
export interface StripeKeyPermissions {
  readonly customers?: StripeAccess;
  readonly invoices?: StripeAccess;
  /** The account's own details (GET /v1/account). */
  readonly account?: StripeAccess;
}

export interface StripeIdentityOptions {
  /** @default 'acct_1FakeWriteback00' */
  readonly accountId?: string;
  /** The Dashboard's display name. @default 'Writeback Fake Ltd' */
  readonly displayName?: string;
  /** Restricted keys (rk_test_…, rk_live_…) the fake accepts besides the secret key, with their permissions. */
  readonly restrictedKeys?: Readonly<Record<string, StripeKeyPermissions>>;
}

/** The permission name Stripe's 403 names for a resource and access. */
const PERMISSION: Readonly<Record<string, string>> = {
  'customers:read': 'rak_customer_read',
  'customers:write': 'rak_customer_write',
  'invoices:read': 'rak_invoice_read',
  'invoices:write': 'rak_invoice_write',
  'account:read': 'rak_accounts_kyc_basic_read',
};

/**
 * The account behind the fake's keys and what its restricted keys may do, as Stripe answers them:
 * - `GET /v1/account`: the account (`id`, `email`, `settings.dashboard.display_name`,
 *   `business_profile.name`);
 * - a restricted key without the permission an endpoint needs (GET: read, POST and DELETE:
 *   write; write implies read) is refused before anything else is looked at, with a 403
 *   `invalid_request_error` "The provided key 'rk_test_…' does not have the required permissions
 *   for this endpoint on account 'acct_…'. Having the 'rak_customer_write' permission would allow
 *   this request to continue." (a POST to an object that does not exist is therefore a 403 without
 *   the permission and a 404 with it).
 */
export class StripeIdentity {
  private readonly opts: StripeIdentityOptions;

  public constructor(opts: StripeIdentityOptions = {}) {
    this.opts = opts;
  }

  public get accountId(): string {
    return this.opts.accountId ?? 'acct_1FakeWriteback00';
  }

  /** A restricted key the fake accepts. */
  public knows(key: string | undefined): boolean {
    return key !== undefined && Object.hasOwn(this.opts.restrictedKeys ?? {}, key);
  }

  /** The answer to GET /v1/account; undefined for any other call. */
  public account(call: FakeCall, key: string): Reply | undefined {
    if (call.path !== '/v1/account') return undefined;
    if (call.method !== 'GET') return undefined;
    const denied = this.deny(call, key, 'account');
    if (denied) return denied;
    const name = this.opts.displayName ?? 'Writeback Fake Ltd';
    return {
      status: 200,
      body: {
        id: this.accountId,
        object: 'account',
        email: 'billing@example.com',
        country: 'GB',
        default_currency: 'gbp',
        business_profile: { name },
        settings: { dashboard: { display_name: name, timezone: 'Europe/London' } },
      },
    };
  }

  /** The 403 for a restricted key that lacks the permission this call needs; undefined when it may. */
  public deny(
    call: FakeCall,
    key: string,
    resource: 'customers' | 'invoices' | 'account',
  ): Reply | undefined {
    const permissions = this.opts.restrictedKeys?.[key];
    if (!permissions) return undefined;
    const needs: StripeAccess = call.method === 'GET' ? 'read' : 'write';
    const has = permissions[resource] ?? 'none';
    if (has === 'write' || has === needs) return undefined;
    const masked = `${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 14))}${key.slice(-6)}`;
    const permission = PERMISSION[`${resource}:${needs}`] ?? `rak_${resource}_${needs}`;
    return {
      status: 403,
      body: stripeError(
        'invalid_request_error',
        `The provided key '${masked}' does not have the required permissions for this endpoint on account '${this.accountId}'. Having the '${permission}' permission would allow this request to continue.`,
      ),
    };
  }
}

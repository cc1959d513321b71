import type { FakeCall, Reply } from '../common/FakeServer.ts';

/** What the integration user's profile and permission sets allow on one object. */
export interface SObjectPermissions {
  readonly create?: boolean;
  readonly edit?: boolean;
  readonly delete?: boolean;
}

export interface SalesforceIdentityOptions {
  /** The org id. @default '00D5g000004FAKEEAW' */
  readonly organizationId?: string;
  /** The user a connected app's client-credentials flow runs as. @default 'integration@writeback.example' */
  readonly username?: string;
  /** Scopes the connected app has: the token answer's `scope`. @default ['api'] */
  readonly scopes?: readonly string[];
  /** Object permissions of the user, by sObject; unlisted objects allow everything. */
  readonly objectPermissions?: Readonly<Record<string, SObjectPermissions>>;
}

const DESCRIBE = /^\/services\/data\/v\d+\.\d\/sobjects\/([^/]+)\/describe\/?$/;

/**
 * Who a Salesforce token acts as, and what that user may do, as the org answers it:
 * - `GET /services/oauth2/userinfo`: the OpenID Connect user info (`sub`, `user_id`,
 *   `organization_id`, `preferred_username`, `name`, `email`);
 * - `GET /services/data/vXX.X/sobjects/{SObject}/describe`: the object's `createable`,
 *   `updateable`, `deletable` for this user, and its fields with `externalId` and `idLookup`;
 *   an object that does not exist (or the user cannot see) is a 404 NOT_FOUND.
 */
export class SalesforceIdentity {
  private readonly opts: SalesforceIdentityOptions;

  public constructor(opts: SalesforceIdentityOptions = {}) {
    this.opts = opts;
  }

  public get organizationId(): string {
    return this.opts.organizationId ?? '00D5g000004FAKEEAW';
  }

  /** The scope string of the token answers. */
  public get scope(): string {
    return (this.opts.scopes ?? ['api']).join(' ');
  }

  /** The answer to an identity call, for an authorised call to one; undefined for any other. */
  public answer(
    call: FakeCall,
    baseUrl: string,
    fieldsOf: (sobject: string) => readonly { name: string; externalId?: boolean }[] | undefined,
  ): Reply | undefined {
    if (call.method !== 'GET') return undefined;
    if (call.path === '/services/oauth2/userinfo') {
      const userId = '0055g00000FAKEUAAW';
      const username = this.opts.username ?? 'integration@writeback.example';
      return {
        status: 200,
        body: {
          sub: `${baseUrl}/id/${this.organizationId}/${userId}`,
          user_id: userId,
          organization_id: this.organizationId,
          preferred_username: username,
          name: 'Writeback Integration',
          email: username,
          email_verified: true,
          user_type: 'STANDARD',
          active: true,
          urls: { custom_domain: baseUrl, rest: `${baseUrl}/services/data/v{version}/` },
        },
      };
    }
    const m = DESCRIBE.exec(call.path);
    if (!m) return undefined;
    const name = decodeURIComponent(m[1]!);
    const fields = fieldsOf(name);
    if (!fields) {
      return {
        status: 404,
        body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }],
      };
    }
    const may = this.opts.objectPermissions?.[name] ?? {};
    return {
      status: 200,
      body: {
        name,
        createable: may.create ?? true,
        updateable: may.edit ?? true,
        deletable: may.delete ?? true,
        queryable: true,
        fields: [
          { name: 'Id', type: 'id', idLookup: true, externalId: false },
          ...fields.map((f) => ({
            name: f.name,
            type: 'string',
            externalId: f.externalId === true,
            idLookup: f.externalId === true,
            createable: may.create ?? true,
            updateable: may.edit ?? true,
          })),
        ],
      },
    };
  }
}

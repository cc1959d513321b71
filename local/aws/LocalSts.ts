import { createHash } from 'node:crypto';
import { AwsServiceError } from './awsErrors.ts';
import { el, handleQuery, type QueryService } from './awsQuery.ts';
import { accessKeyIdOf, LocalHttpServer } from './httpServer.ts';

/** Who an access key belongs to, as GetCallerIdentity reports it. */
export interface CallerIdentity {
  /** e.g. `arn:aws:sts::123456789012:assumed-role/Operator/alice` or `arn:aws:iam::123456789012:user/bob`. */
  readonly arn: string;
  /** e.g. `AROAEXAMPLE:alice` for an assumed role, `AIDAEXAMPLE` for a user. */
  readonly userId: string;
}

export type IdentityLookup = (accessKeyId: string) => CallerIdentity | undefined;

export interface LocalStsOptions {
  /**
   * Access key id → identity: a record, a map (read at each call, so keys issued later count),
   * or a function. A key with no identity is refused as AWS refuses an unknown key.
   */
  readonly identities:
    | Readonly<Record<string, CallerIdentity>>
    | ReadonlyMap<string, CallerIdentity>
    | IdentityLookup;
}

/**
 * The identity of a role session, as GetCallerIdentity answers inside a Lambda function:
 * `arn:aws:sts::<account>:assumed-role/<RoleName>/<session>` (the role's path dropped) and
 * `<RoleId>:<session>`, with a stable made-up `AROA…` role id.
 */
export function assumedRoleIdentity(roleArn: string, sessionName: string): CallerIdentity {
  const [, partition, , , account, resource = ''] = roleArn.split(':');
  const roleName = resource.split('/').at(-1) ?? resource;
  const roleId = `AROA${createHash('sha256').update(roleArn).digest('hex').slice(0, 17).toUpperCase()}`;
  return {
    arn: `arn:${partition}:sts::${account}:assumed-role/${roleName}/${sessionName}`,
    userId: `${roleId}:${sessionName}`,
  };
}

/**
 * STS's GetCallerIdentity on a loopback port, reached by the real SDK client through
 * `AWS_ENDPOINT_URL_STS`. The installed client (@aws-sdk/client-sts 3.1178) speaks the Query
 * protocol. The caller is the access key id of the request's SigV4 credential scope; the
 * signature itself is not checked.
 */
export class LocalSts {
  readonly #identityOf: IdentityLookup;
  readonly #server: LocalHttpServer;

  public constructor(opts: LocalStsOptions) {
    const ids = opts.identities;
    this.#identityOf =
      typeof ids === 'function'
        ? ids
        : ids instanceof Map
          ? (akid) => ids.get(akid)
          : (akid) => (Object.hasOwn(ids, akid) ? (ids as Record<string, CallerIdentity>)[akid] : undefined);
    const service: QueryService = {
      xmlns: 'https://sts.amazonaws.com/doc/2011-06-15/',
      version: '2011-06-15',
      actions: {
        GetCallerIdentity: (_params, req) => {
          const akid = accessKeyIdOf(req);
          if (!akid) {
            throw new AwsServiceError(
              'MissingAuthenticationToken',
              'Request is missing Authentication Token',
              403,
            );
          }
          const who = this.#identityOf(akid);
          if (!who) {
            throw new AwsServiceError(
              'InvalidClientTokenId',
              'The security token included in the request is invalid.',
              403,
            );
          }
          // The account is the ARN's fifth field (arn:partition:service:region:account:resource).
          return el('Arn', who.arn) + el('UserId', who.userId) + el('Account', who.arn.split(':')[4]);
        },
      },
    };
    this.#server = new LocalHttpServer((req) => handleQuery(service, req));
  }

  /** Resolves to the endpoint URL, `http://127.0.0.1:<port>`. */
  public start(): Promise<string> {
    return this.#server.start();
  }

  public stop(): Promise<void> {
    return this.#server.stop();
  }
}

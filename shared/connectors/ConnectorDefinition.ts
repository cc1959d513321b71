import type { z } from 'zod';
import type { Payload, SyncConfig } from '../config/schema.ts';
import type { StaticCredentials } from '../oauth/CredentialCheck.ts';
import type { OAuthApp } from '../oauth/OAuthApp.ts';
import type { TokenRotationPorts } from '../oauth/TokenRotationPorts.ts';
import type { SessionTimeouts } from '../postgresPools.ts';
import type { ConnectionCredentials } from './ConnectionCredentials.ts';
import type { Connector, ConnectorCapabilities } from './Connector.ts';
import type { ContractTarget } from './kit/ContractTarget.ts';

/** How a connector's own connections are bounded, and what a read-only caller asks of it. */
export interface ConnectorOptions {
  /** A database target's statement and lock timeouts. @default DEFAULT_TIMEOUTS of shared/postgresPools.ts */
  readonly timeouts?: SessionTimeouts;
  /** Target fields lookup() and list() must return (`writeback plan`); a connector that reads every field ignores it. */
  readonly readFields?: readonly string[];
  /**
   * false: keep no rate limits of our own (the contract kit against a fake whose limits are off,
   * where our pacing would only slow the run down). @default true
   */
  readonly pace?: boolean;
  /**
   * Where an OAuth 2.0 connection's rotating tokens are kept and the lease to refresh them (the
   * write function: the connection's secret and the state table). Without it, a connection that
   * lives on a refresh token uses its stored access token until it expires and never refreshes.
   */
  readonly tokenRotation?: TokenRotationPorts;
}

/** What a definition's factory is given to build one sync's connector. */
export interface ConnectorFactoryContext<C> {
  readonly sync: SyncConfig;
  /** The connection's name in the config (`connections.<name>`), for messages and limiter keys. */
  readonly connectionName: string;
  /** The connection's config, as the definition's schema parsed it. */
  readonly connection: C;
  /** Fields of the connection's secret (or the local stack's stand-ins). */
  readonly creds: ConnectionCredentials;
  readonly options: ConnectorOptions;
}

/**
 * Sample records of one object, for the contract kit (`writeback test-connector`): what the
 * target accepts, what it refuses for one record alone, and a field a null clears.
 */
export interface ContractSample {
  /** The object the kit writes to (`contacts`, `Customer`, `public.contract_target`). */
  readonly object: string;
  /** The target field holding our external id, when the connector takes it from the sync (`target.externalId`). */
  readonly externalId?: string;
  /** Fields of the sample connection besides `type` (a generic HTTP connection's endpoints). */
  readonly connection?: Readonly<Record<string, unknown>>;
  /** A payload the target accepts; `i` makes unique values. */
  valid(i: number): Payload;
  /** A payload the target refuses for this record alone (a validation error, never a whole-call one). */
  invalid(i: number): Payload;
  /** A field of valid() that a null clears (the connector's default null semantics is 'clear'). */
  readonly clearable: string;
}

/**
 * Everything Writeback knows about one kind of target, in one place: its connection's config
 * schema, the secret fields it reads, its declared capabilities and limits, how to build it, and
 * sample records for the contract kit. Built-ins live in shared/connectors/<type>/ and are
 * listed in shared/connectors/registry.ts; users pass their own to `defineConfig({ connectors })`.
 */
export interface ConnectorDefinition<C extends { readonly type: string } = { readonly type: string }> {
  /** `connections.<name>.type`: lowercase letters, digits and dashes. */
  readonly type: string;
  /** Product name for messages and docs: 'QuickBooks Online'. */
  readonly title: string;
  /** The connection's config (`type` a literal of this definition's type); strict, so typos are reported. */
  readonly connection: z.ZodType<C>;
  /** Fields its secret holds (`token`, `clientId`…): documented, and read from ConnectionCredentials. */
  readonly secretFields: readonly string[];
  /** What a connector of this type can do with its default options; each instance reports its own. */
  readonly capabilities: ConnectorCapabilities;
  /**
   * 'database': the target is reached over a database protocol (the write function may need the
   * warehouse's network); 'api': over HTTPS on the internet. @default 'api'
   */
  readonly reach?: 'api' | 'database';
  /**
   * true: a connection may live on a rotating OAuth 2.0 refresh token (`writeback connect`), which
   * its writers refresh and write back to the connection's secret: the stack grants its write
   * function secretsmanager:PutSecretValue/UpdateSecretVersionStage on that secret and the
   * connection's refresh lease in the state table. @default false
   */
  readonly refreshesTokens?: boolean;
  /**
   * How `writeback connect` authorises an account of this vendor with its OAuth 2.0 app, and how
   * `writeback validate --connections` checks the grant (identity endpoint, scopes per object).
   */
  readonly oauth?: OAuthApp<NoInfer<C>>;
  /**
   * How `writeback connect` asks for a static credential of this vendor (a token, a key, client
   * credentials) and how it and `writeback validate --connections` check one with the vendor.
   */
  readonly credentials?: StaticCredentials<NoInfer<C>>;
  /** Builds one sync's connector; throws ConfigValidationError naming every missing piece at once. */
  create(ctx: ConnectorFactoryContext<C>): Connector;
  /** Sample records for the contract kit; without them `writeback test-connector` cannot run. */
  readonly contract?: ContractSample;
  /**
   * A user connector's local fake, for `writeback test-connector` and `npm start` (ours register
   * theirs in local/fakes/localConnectors.ts, out of the Lambda bundles). Import it lazily
   * (`fake: async () => (await import('./fake.ts')).startFake()`) so a Lambda never loads it;
   * esbuild still bundles a literal dynamic import, so keep the fake small and free of
   * local-only packages.
   */
  readonly fake?: () => Promise<ContractTarget>;
}

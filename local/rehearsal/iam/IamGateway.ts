import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AWS_SERVICES,
  type AwsCall,
  type AwsRequest,
  type AwsService,
  type DescribeContext,
  UndescribableRequestError,
} from './awsCall.ts';
import { errorResponse, unknownKeyMessage } from './denyResponses.ts';
import { describeAwsCall } from './describeAwsCall.ts';
import { type CallDecision, evaluateCall, parseRoleArn, sessionArn } from './evaluateCall.ts';
import type { NamedPolicy, PolicyDocument } from './policiesFromTemplate.ts';
import { parseSigV4 } from './sigv4.ts';

/** A caller the gateway knows by its access key id: a function running as its role. */
export interface GatewayPrincipal {
  /** For the report: the function's logical id. */
  readonly name: string;
  readonly roleArn: string;
  readonly identityPolicies: readonly NamedPolicy[];
  /** The role session's name, as Lambda names it: the function's name. Default: `name`. */
  readonly sessionName?: string;
  /** The role's tags (`aws:PrincipalTag/<key>`). */
  readonly tags?: Readonly<Record<string, string>>;
}

export interface IamGatewayOptions {
  /** Where each service's allowed requests go (the emulators and local endpoints). */
  readonly upstreams: Partial<Record<AwsService, string>>;
  /** Access key id → principal. */
  readonly principals: ReadonlyMap<string, GatewayPrincipal>;
  /**
   * The operator CLI's access key id: allowed everything (a user's own rights are not the
   * stack's), recorded as principal `operator`.
   */
  readonly operatorAccessKeyId?: string;
  /** The resource policy of a call's resource (queue, bucket), if any: see resourcePolicyFor. */
  readonly resourcePolicy?: (resource: string) => PolicyDocument | undefined;
  /** The account, tables' key schemas and secret ARNs; the region comes from each request. */
  readonly describe: Omit<DescribeContext, 'region'>;
  /** Every call as it is decided (the rehearsal prints denials as they happen). */
  readonly onCall?: (record: CallRecord) => void;
}

/** One IAM call of one request, with who made it and what IAM decided. */
export interface CallRecord {
  /** Shared by the calls of one request. */
  readonly requestId: string;
  readonly at: Date;
  /** The principal's name, `operator`, or `unknown` for an access key nobody has. */
  readonly principal: string;
  readonly accessKeyId: string;
  readonly roleArn?: string;
  readonly call: AwsCall;
  readonly decision: CallDecision;
}

/** The principal name of the operator's calls. */
export const OPERATOR = 'operator';

/**
 * The rehearsal's one endpoint for every AWS service (`AWS_ENDPOINT_URL_<SERVICE>` of each
 * function points here). It tells services and callers apart by the SigV4 credential scope
 * (service, region, access key id), describes each request as IAM calls, evaluates them against
 * the caller's role and the resource's policy, records them, forwards an allowed request to the
 * service's emulator unchanged (method, path, headers including Host, body byte for byte: fauxqs
 * builds the queue URLs it returns from Host, so they keep pointing here), and answers a denied
 * one with the error AWS would send, so the function fails as it would on AWS.
 *
 * STS GetCallerIdentity is answered here when no sts upstream is given: the gateway is the one
 * that knows which role a key belongs to.
 */
export class IamGateway {
  readonly #opts: IamGatewayOptions;
  readonly #records: CallRecord[] = [];
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 256 });
  readonly #cache = new Map<string, CallDecision>();
  readonly #timeSensitive: boolean;
  #server: Server | undefined;
  #url: string | undefined;

  public constructor(opts: IamGatewayOptions) {
    this.#opts = opts;
    // A cached decision is reused for the same call; only a policy that reads the clock could
    // decide differently later.
    const everything = JSON.stringify([...opts.principals.values()].map((p) => p.identityPolicies));
    this.#timeSensitive = /aws:(CurrentTime|EpochTime)/i.test(everything);
  }

  /** Listens on 127.0.0.1 (an ephemeral port); returns the gateway's URL. */
  public async start(): Promise<string> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`rehearsal gateway: ${err instanceof Error ? err.message : String(err)}`);
      });
    });
    // The SDK keeps sockets open between calls: so does the gateway (Node's default is 5 s).
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.#url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.#url;
  }

  public get url(): string {
    if (!this.#url) throw new Error('IamGateway: start() it first');
    return this.#url;
  }

  /** Every call recorded so far, in order. */
  public calls(): readonly CallRecord[] {
    return this.#records;
  }

  public async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#agent.destroy();
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = await readRequest(req);
    const scope = parseSigV4(request.headers, request.query);
    const service = AWS_SERVICES.find((s) => s === scope?.service);
    if (!scope || !service) {
      // Not a signed request for a service the rehearsal routes: nothing to authorize it as.
      send(res, errorResponse(service ?? 'dynamodb', 'unrecognizedClient', 'Missing Authentication Token'));
      return;
    }
    const requestId = randomUUID();
    const at = new Date();
    const isOperator = scope.accessKeyId === this.#opts.operatorAccessKeyId;
    const principal = isOperator ? undefined : this.#opts.principals.get(scope.accessKeyId);
    const ctx: DescribeContext = { ...this.#opts.describe, region: scope.region };

    let calls: AwsCall[];
    let unreadable: string | undefined;
    try {
      calls = describeAwsCall(service, request, ctx);
    } catch (err) {
      if (!(err instanceof UndescribableRequestError)) throw err;
      // The check cannot tell what IAM would ask for: it fails closed, and says why.
      unreadable = `the rehearsal's IAM check cannot read this ${service} request: ${err.message}`;
      calls = [
        { service, operation: 'unknown', action: `${service}:unknown`, resource: '*', conditions: {} },
      ];
    }
    const record = (call: AwsCall, decision: CallDecision): void =>
      this.#record({
        requestId,
        at,
        principal: isOperator ? OPERATOR : (principal?.name ?? 'unknown'),
        accessKeyId: scope.accessKeyId,
        ...(principal ? { roleArn: principal.roleArn } : {}),
        call,
        decision,
      });

    if (!isOperator && !principal) {
      const reason = unknownKeyMessage(service);
      for (const call of calls) {
        record(call, {
          allowed: false,
          result: 'ImplicitlyDenied',
          reason: `unknown access key ${scope.accessKeyId}: ${reason}`,
          matchedStatements: [],
        });
      }
      send(res, errorResponse(service, 'unrecognizedClient', reason));
      return;
    }
    if (unreadable !== undefined) {
      record(calls[0]!, {
        allowed: isOperator,
        result: isOperator ? 'Allowed' : 'ImplicitlyDenied',
        reason: unreadable,
        matchedStatements: [],
      });
      if (isOperator) await this.#forward(service, request, req, res);
      else send(res, errorResponse(service, 'accessDenied', unreadable));
      return;
    }

    let denied: CallDecision | undefined;
    for (const call of calls) {
      const decision = principal
        ? await this.#decide(scope.accessKeyId, principal, call, at)
        : {
            allowed: true,
            result: 'Allowed' as const,
            reason: 'the operator is allowed everything',
            matchedStatements: [],
          };
      record(call, decision);
      if (!decision.allowed && !denied) denied = decision;
    }
    if (denied) {
      send(res, errorResponse(service, 'accessDenied', denied.reason));
      return;
    }
    if (service === 'sts' && !this.#opts.upstreams.sts && calls[0]?.operation === 'GetCallerIdentity') {
      send(res, callerIdentity(principal, this.#opts.describe.account));
      return;
    }
    await this.#forward(service, request, req, res);
  }

  async #decide(key: string, principal: GatewayPrincipal, call: AwsCall, now: Date): Promise<CallDecision> {
    const cacheKey = this.#timeSensitive
      ? undefined
      : JSON.stringify([key, call.action, call.resource, call.conditions]);
    const cached = cacheKey === undefined ? undefined : this.#cache.get(cacheKey);
    if (cached) return cached;
    const decision = await evaluateCall(
      call,
      {
        roleArn: principal.roleArn,
        sessionName: principal.sessionName ?? principal.name,
        identityPolicies: principal.identityPolicies,
        ...(principal.tags ? { tags: principal.tags } : {}),
      },
      this.#opts.resourcePolicy?.(call.resource),
      { now },
    );
    if (cacheKey !== undefined) {
      if (this.#cache.size >= 50_000) this.#cache.clear();
      this.#cache.set(cacheKey, decision);
    }
    return decision;
  }

  #record(record: CallRecord): void {
    this.#records.push(record);
    this.#opts.onCall?.(record);
  }

  async #forward(
    service: AwsService,
    request: AwsRequest,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const upstream = this.#opts.upstreams[service];
    if (!upstream) {
      send(res, {
        status: 502,
        headers: { 'content-type': 'text/plain' },
        body: `rehearsal gateway: no upstream for ${service}`,
      });
      return;
    }
    const target = new URL(req.url ?? '/', upstream);
    await new Promise<void>((resolve, reject) => {
      const out = httpRequest(
        target,
        { method: request.method, headers: forwardedHeaders(req), agent: this.#agent },
        (upstreamRes) => {
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          upstreamRes.pipe(res);
          upstreamRes.once('end', resolve);
          upstreamRes.once('error', reject);
        },
      );
      out.once('error', reject);
      out.end(request.body);
    });
  }
}

/** The client's headers as sent (Host included), minus the hop-by-hop ones of its own connection. */
function forwardedHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || k === 'connection' || k === 'keep-alive') continue;
    headers[k] = v;
  }
  return headers;
}

async function readRequest(req: IncomingMessage): Promise<AwsRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const url = new URL(req.url ?? '/', 'http://gateway');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers,
    body: Buffer.concat(chunks),
  };
}

function send(
  res: ServerResponse,
  answer: { status: number; headers: Record<string, string>; body: string },
): void {
  res.writeHead(answer.status, {
    ...answer.headers,
    'content-length': String(Buffer.byteLength(answer.body)),
  });
  res.end(answer.body);
}

/** STS GetCallerIdentity as AWS answers it for a role session (awsQuery XML). */
function callerIdentity(
  principal: GatewayPrincipal | undefined,
  operatorAccount: string,
): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  const requestId = randomUUID();
  const arn = principal
    ? sessionArn({ roleArn: principal.roleArn, sessionName: principal.sessionName ?? principal.name })
    : `arn:aws:iam::${operatorAccount}:user/operator`;
  const account = principal ? parseRoleArn(principal.roleArn).account : operatorAccount;
  const userId = principal
    ? `AROAREHEARSAL:${principal.sessionName ?? principal.name}`
    : 'AIDAREHEARSALOPERATOR';
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body:
      '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
      `<Arn>${arn}</Arn><UserId>${userId}</UserId><Account>${account}</Account>` +
      `</GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
  };
}

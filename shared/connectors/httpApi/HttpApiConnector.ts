import type { Payload } from '../../config/schema.ts';
import { TargetError } from '../../errors.ts';
import { writeInCalls } from '../batching.ts';
import type {
  Connector,
  ConnectorCapabilities,
  ConnectorMetrics,
  TargetRecord,
  UpsertRecord,
  UpsertResult,
} from '../Connector.ts';
import { ClientCredentialsToken } from '../http/ClientCredentialsToken.ts';
import { classifyAnswer } from '../http/classifyAnswer.ts';
import { connectorHttpClient, connectorMetrics } from '../http/connectorHttpClient.ts';
import { type HttpClient, type HttpResponse, parseJson } from '../http/HttpClient.ts';
import type { RateLimitSpec } from '../http/RateLimiter.ts';
import { Secret } from '../http/Secret.ts';
import { applyNullPolicy } from '../nullPolicy.ts';
import { failAll } from '../upsertResults.ts';
import type { HttpApiConnectionConfig } from './httpApiConnection.ts';
import { atPath, fillTemplate } from './jsonPath.ts';

/** Stable error codes this connector puts on TargetError (the rest come from classifyAnswer: HTTP_RATE_LIMITED…). */
export const HttpApiErrorCode = {
  /** A result of a batch said the record was refused (its errorPath held a message). */
  refused: 'HTTP_REFUSED',
  /** The answer did not hold what the connection says it holds (an id at idPath, a result per record). */
  badResponse: 'HTTP_BAD_RESPONSE',
  /** The connection configures no `list` endpoint. */
  noList: 'HTTP_NO_LIST',
} as const;

/** The limits a connection's `rateLimit` gives. */
export function httpApiRateLimits(rl: HttpApiConnectionConfig['rateLimit']): RateLimitSpec {
  return {
    windows: [
      ...(rl.perSecond ? [{ name: 'second', limit: rl.perSecond, intervalMs: 1000 }] : []),
      ...(rl.perMinute ? [{ name: 'minute', limit: rl.perMinute, intervalMs: 60_000 }] : []),
    ],
    ...(rl.concurrency ? { maxConcurrency: rl.concurrency } : {}),
  };
}

export interface HttpApiCredentials {
  readonly token?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly apiKey?: string | undefined;
  readonly clientId?: string | undefined;
  readonly clientSecret?: string | undefined;
}

export interface HttpApiConnectorOptions {
  readonly config: HttpApiConnectionConfig;
  readonly creds: HttpApiCredentials;
  /** @default config.baseUrl */
  readonly baseUrl?: string;
  readonly limiterKey: string;
  /** false: pace nothing (the contract kit against the fake). */
  readonly pace?: boolean;
  readonly fetch?: typeof globalThis.fetch;
}

/**
 * A REST API described by its connection (httpApiConnection.ts): upserts by our external id, one
 * record or a batch per call, results matched back by external id or by order, lookups and
 * listings read where the config says; transport, pacing, Retry-After and error verdicts are the
 * shared ones (classifyAnswer).
 */
export class HttpApiConnector implements Connector {
  public readonly type = 'http';
  public readonly capabilities: ConnectorCapabilities;
  private readonly config: HttpApiConnectionConfig;
  private readonly http: HttpClient;
  private readonly token: ClientCredentialsToken | undefined;

  public constructor(opts: HttpApiConnectorOptions) {
    const { config, creds } = opts;
    this.config = config;
    const spec = httpApiRateLimits(config.rateLimit);
    this.capabilities = {
      nativeUpsert: true,
      idempotencyKey: config.idempotencyHeader !== undefined,
      maxBatchSize: config.upsert.batchSize,
      // One record per call, or a batch whose answer has a result per record.
      partialSuccess: 'per-record',
      rateLimits: spec,
      children: 'none',
      versionToken: undefined,
      nulls: config.nulls,
    };
    const secrets = Object.values(creds)
      .filter((v): v is string => typeof v === 'string')
      .map((v) => new Secret(v));
    const auth = config.auth;
    if (auth.kind === 'oauthClientCredentials') {
      if (!creds.clientId || !creds.clientSecret)
        throw new Error('http: oauthClientCredentials needs clientId and clientSecret');
      this.token = new ClientCredentialsToken({
        tokenUrl: auth.tokenUrl,
        clientId: creds.clientId,
        clientSecret: new Secret(creds.clientSecret),
        clientAuth: auth.clientAuth,
        ...(auth.scope ? { scope: auth.scope } : {}),
        codePrefix: 'HTTP',
        vendor: 'HTTP API',
        ...(opts.fetch ? { fetch: opts.fetch } : {}),
      });
    }
    this.http = connectorHttpClient(
      {
        limiterKey: opts.limiterKey,
        timeoutMs: config.timeoutMs,
        ...(opts.fetch ? { fetch: opts.fetch } : {}),
      },
      {
        vendor: 'HTTP API',
        codePrefix: 'HTTP',
        baseUrl: opts.baseUrl ?? config.baseUrl,
        rateLimit: opts.pace === false ? undefined : spec,
        defaultLimiterKey: opts.limiterKey,
        authHeaders: () => this.authHeaders(creds),
        secrets: () => [
          ...secrets.map((s) => s.reveal()),
          ...(this.token?.current() ? [this.token.current()!] : []),
        ],
        isRetryable: (res) => res.status === 429 || config.retryableStatuses.includes(res.status),
        // A token the API turns down is fetched again on the next call.
        onResponse: (res) => {
          if (res.status === 401) this.token?.invalidate();
        },
        idempotentWrites: config.idempotencyHeader !== undefined,
      },
    );
  }

  private async authHeaders(creds: HttpApiCredentials): Promise<Record<string, string>> {
    const auth = this.config.auth;
    switch (auth.kind) {
      case 'bearer':
        return creds.token ? { Authorization: `Bearer ${creds.token}` } : {};
      case 'basic':
        return {
          Authorization: `Basic ${Buffer.from(`${creds.username ?? ''}:${creds.password ?? ''}`).toString('base64')}`,
        };
      case 'apiKey': {
        const key = creds.apiKey ?? creds.token;
        return key ? { [auth.header]: key } : {};
      }
      case 'oauthClientCredentials':
        return { Authorization: `Bearer ${await this.token!.get()}` };
      case 'none':
        return {};
    }
  }

  public upsertBatch(object: string, records: readonly UpsertRecord[]): Promise<UpsertResult[]> {
    return writeInCalls(records, this.config.upsert.batchSize, (call) =>
      this.config.upsert.batchSize > 1 ? this.writeBatch(object, call) : this.writeOne(object, call[0]!),
    );
  }

  private recordBody(r: UpsertRecord): Record<string, unknown> {
    const shape = this.config.upsert.body;
    const fields: Payload = applyNullPolicy(r.payload, this.config.nulls);
    return shape.fieldsField
      ? { [shape.externalIdField]: r.externalId, [shape.fieldsField]: fields }
      : { ...fields, [shape.externalIdField]: r.externalId };
  }

  private writeHeaders(records: readonly UpsertRecord[]): Record<string, string> {
    const header = this.config.idempotencyHeader;
    // A batch's key is its records' keys together: the same batch replayed carries the same key.
    return header
      ? {
          [header]: records
            .map((r) => r.idempotencyKey)
            .join(',')
            .slice(0, 255),
        }
      : {};
  }

  private async writeOne(object: string, r: UpsertRecord): Promise<UpsertResult[]> {
    const u = this.config.upsert;
    const route = `${u.method} ${u.path}`;
    const res = await this.http.request({
      method: u.method,
      path: fillTemplate(u.path, { object, externalId: r.externalId, targetId: r.targetId }),
      route,
      body: this.recordBody(r),
      headers: this.writeHeaders([r]),
      // An upsert by external id: sending it twice writes it once.
      replaySafe: true,
    });
    if (!res.ok) return failAll([r], res.error);
    if (res.status < 200 || res.status > 299) return failAll([r], this.verdict(res, route));
    const body = parseJson<unknown>(res.text);
    const id = atPath(body, u.idPath);
    if (id === undefined || id === null || id === '') {
      return failAll([r], this.badResponse(`${route} answered without an id at '${u.idPath}'`));
    }
    const created = u.createdPath ? atPath(body, u.createdPath) === true : res.status === 201;
    return [{ key: r.key, ok: true, targetId: String(id), created }];
  }

  private async writeBatch(object: string, records: readonly UpsertRecord[]): Promise<UpsertResult[]> {
    const u = this.config.upsert;
    const route = `${u.method} ${u.path}`;
    const items = records.map((r) => this.recordBody(r));
    const res = await this.http.request({
      method: u.method,
      path: fillTemplate(u.path, { object }),
      route,
      body: u.body.wrap ? { [u.body.wrap]: items } : items,
      headers: this.writeHeaders(records),
      replaySafe: true,
    });
    if (!res.ok) return failAll(records, res.error);
    if (res.status < 200 || res.status > 299) return failAll(records, this.verdict(res, route));
    const results = atPath(parseJson<unknown>(res.text), u.resultsPath);
    if (!Array.isArray(results)) {
      return failAll(records, this.badResponse(`${route} answered without a list at '${u.resultsPath}'`));
    }
    const byExt = u.resultExternalIdPath
      ? new Map(results.map((item) => [String(atPath(item, u.resultExternalIdPath!)), item]))
      : undefined;
    return records.map((r, i): UpsertResult => {
      const item = byExt ? byExt.get(r.externalId) : results[i];
      if (item === undefined) {
        return {
          key: r.key,
          ok: false,
          error: this.badResponse(`${route} left ${r.externalId} out of its results`),
        };
      }
      const problem = atPath(item, u.errorPath);
      if (problem !== undefined && problem !== null && problem !== false) {
        const message = typeof problem === 'string' ? problem : JSON.stringify(problem);
        const error = new TargetError(
          HttpApiErrorCode.refused,
          `HTTP API refused ${r.externalId}: ${message}`,
          {
            disposition: 'permanent',
            httpStatus: res.status,
          },
        );
        return { key: r.key, ok: false, error };
      }
      const id = atPath(item, u.idPath);
      if (id === undefined || id === null || id === '') {
        return {
          key: r.key,
          ok: false,
          error: this.badResponse(`${route}: no id at '${u.idPath}' for ${r.externalId}`),
        };
      }
      const created = u.createdPath ? atPath(item, u.createdPath) === true : false;
      return { key: r.key, ok: true, targetId: String(id), created };
    });
  }

  public async lookup(object: string, externalId: string): Promise<TargetRecord | undefined> {
    const l = this.config.lookup;
    const route = `${l.method} ${l.path}`;
    const res = await this.http.request({
      method: l.method,
      path: fillTemplate(l.path, { object, externalId }),
      route,
      replaySafe: true,
    });
    if (!res.ok) throw res.error;
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw this.verdict(res, route);
    let record = atPath(parseJson<unknown>(res.text), l.recordPath);
    if (Array.isArray(record)) record = record[0];
    if (record === undefined || record === null) return undefined;
    return this.toRecord(record, l.idPath, l.externalIdPath, l.fieldsPath);
  }

  public async *list(object: string): AsyncIterable<TargetRecord> {
    const l = this.config.list;
    if (!l) {
      throw new TargetError(HttpApiErrorCode.noList, 'this HTTP connection configures no list endpoint', {
        disposition: 'permanent',
      });
    }
    const route = `GET ${l.path}`;
    let cursor: string | undefined;
    do {
      const base = fillTemplate(l.path, { object });
      const sep = base.includes('?') ? '&' : '?';
      const path =
        cursor === undefined
          ? base
          : `${base}${sep}${encodeURIComponent(l.cursorParam)}=${encodeURIComponent(cursor)}`;
      const res = await this.http.request({ method: 'GET', path, route });
      if (!res.ok) throw res.error;
      if (res.status !== 200) throw this.verdict(res, route);
      const page = parseJson<unknown>(res.text);
      const items = atPath(page, l.itemsPath);
      if (!Array.isArray(items))
        throw this.badResponse(`${route} answered without a list at '${l.itemsPath}'`);
      for (const item of items) {
        yield this.toRecord(
          item,
          this.config.lookup.idPath,
          this.config.lookup.externalIdPath,
          this.config.lookup.fieldsPath,
        );
      }
      const next = atPath(page, l.nextPath);
      cursor = next === undefined || next === null || next === '' ? undefined : String(next);
    } while (cursor !== undefined);
  }

  private toRecord(
    record: unknown,
    idPath: string,
    externalIdPath: string | undefined,
    fieldsPath: string | undefined,
  ): TargetRecord {
    const ext = atPath(record, externalIdPath ?? this.config.upsert.body.externalIdField);
    const fields = atPath(record, fieldsPath ?? '');
    return {
      targetId: String(atPath(record, idPath)),
      externalId: ext === undefined || ext === null ? undefined : String(ext),
      fields: typeof fields === 'object' && fields !== null ? (fields as Payload) : {},
    };
  }

  private verdict(res: HttpResponse, route: string): TargetError {
    return classifyAnswer(res, {
      vendor: 'HTTP API',
      codePrefix: 'HTTP',
      route,
      retryableStatuses: this.config.retryableStatuses,
    });
  }

  private badResponse(message: string): TargetError {
    return new TargetError(HttpApiErrorCode.badResponse, message, { disposition: 'retryable' });
  }

  public metrics(): ConnectorMetrics {
    return connectorMetrics(this.http);
  }

  public async close(): Promise<void> {}
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CallMatch, type Fault, FaultQueue, matches, type StatusFault } from './faults.ts';

/** One call as the fake saw it. */
export interface FakeCall {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly at: number;
  /** Elements or inputs in a batch body. */
  elements?: number;
  /** HTTP status answered; undefined when the connection was dropped. */
  status?: number;
  fault?: Fault['kind'];
}

/** An answer: a JSON body, or raw text. */
export interface Reply {
  status: number;
  body?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export interface FailOptions {
  readonly match?: CallMatch;
  /** Sent instead of the vendor-shaped body; a string is sent as text. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Adds `Retry-After: <seconds>` (a Retry-After in `headers` wins). */
  readonly retryAfterSeconds?: number;
}

export interface FakeServerOptions {
  /** The clock for call timestamps (and the vendor fake's limits, tokens, records). @default Date.now */
  readonly now?: () => number;
  /** Larger bodies are refused with tooLargeReply(). @default 10 MiB */
  readonly maxBodyBytes?: number;
}

/**
 * What every vendor fake shares: a node:http server on 127.0.0.1, a log of calls, fault injection
 * (fail, delay or drop the next matching calls) and `settled()` for tests that must wait until a
 * delayed write has landed. A vendor fake implements `process` (auth, limits, routing) and
 * `faultReply` (its error bodies); `C` and `S` let it add optional fields to its calls and its
 * status faults.
 */
export abstract class FakeServer<C extends FakeCall = FakeCall, S extends StatusFault = StatusFault> {
  /** Base URL to give the connector. */
  public url = '';
  protected server: Server | undefined;
  protected readonly now: () => number;
  private readonly maxBodyBytes: number;
  private readonly log: C[] = [];
  private readonly faults = new FaultQueue<Fault<S>>();
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly sleeps = new Set<() => void>();

  protected constructor(opts: FakeServerOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.maxBodyBytes = opts.maxBodyBytes ?? 10 * 1024 * 1024;
  }

  /** Answers one call; `call` may be annotated (elements). */
  protected abstract process(call: C, raw: string, url: URL): Promise<Reply> | Reply;

  /** The vendor-shaped answer to a status fault injected without a body; the fault's headers go over it. */
  protected abstract faultReply(fault: S, call: C): Reply;

  /** Called when a call arrives; the returned function when its answer has left (or it was dropped). */
  protected enter(_call: C): () => void {
    return () => undefined;
  }

  /** Last touch on every answer: headers and content types a vendor puts on all of them. */
  protected finish(reply: Reply): Reply {
    return reply;
  }

  protected tooLargeReply(): Reply {
    return { status: 413, text: 'Request Entity Too Large' };
  }

  protected crashReply(err: unknown): Reply {
    return { status: 500, text: `fake crashed: ${String(err)}`, headers: { 'Content-Type': 'text/plain' } };
  }

  /** Listens on `port` (0: any free port). */
  public async listen(port = 0, host = '127.0.0.1'): Promise<this> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) this.send(res, this.crashReply(err));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.url = `http://${host}:${(server.address() as AddressInfo).port}`;
    return this;
  }

  public async stop(): Promise<void> {
    for (const wake of this.sleeps) wake();
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Resolves once no call is being processed (delayed writes included). */
  public async settled(): Promise<void> {
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Every call received, oldest first. */
  public calls(match?: CallMatch): readonly C[] {
    return this.log.filter((c) => matches(match, c.method, c.path));
  }

  public callCount(match?: CallMatch): number {
    return this.calls(match).length;
  }

  /** Calls per `METHOD /path`. */
  public callsByPath(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of this.log) counts[`${c.method} ${c.path}`] = (counts[`${c.method} ${c.path}`] ?? 0) + 1;
    return counts;
  }

  /** Applies `fault` to the next `times` calls that match. */
  public inject(fault: Fault<S>, opts: { times?: number; match?: CallMatch } = {}): void {
    this.faults.add(fault, opts.times ?? 1, opts.match);
  }

  /**
   * The next `times` matching calls answer `status` without being processed, with the vendor's
   * error body unless `body` is given. Options beyond FailOptions are the fields the fake's status
   * faults add (HubSpot: `policy`).
   */
  public failNext(
    times: number,
    status = 500,
    opts: FailOptions & Partial<Omit<S, keyof StatusFault>> = {},
  ): void {
    const { match, body, headers, retryAfterSeconds, ...details } = opts;
    const all = {
      ...(retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) }),
      ...headers,
    };
    const fault = {
      ...details,
      kind: 'status',
      status,
      ...(body === undefined ? {} : { body }),
      ...(Object.keys(all).length > 0 ? { headers: all } : {}),
    };
    // S only adds optional fields (see the class comment), so this is an S.
    this.inject(fault as unknown as S, { times, match });
  }

  /** The next `times` matching calls wait `ms` before answering (processed after the wait unless applyFirst). */
  public delayNext(times: number, ms: number, opts: { match?: CallMatch; applyFirst?: boolean } = {}): void {
    this.inject({ kind: 'delay', ms, applyFirst: opts.applyFirst ?? false }, { times, match: opts.match });
  }

  /** The next `times` matching calls lose their connection (after processing them when applyFirst). */
  public dropNext(times: number, opts: { match?: CallMatch; applyFirst?: boolean } = {}): void {
    this.inject({ kind: 'drop', applyFirst: opts.applyFirst ?? false }, { times, match: opts.match });
  }

  public clearFaults(): void {
    this.faults.clear();
  }

  /** Injected faults not yet used up. */
  public pendingFaults(): number {
    return this.faults.pending();
  }

  /** Forgets calls and faults. */
  protected resetCalls(): void {
    this.log.length = 0;
    this.faults.clear();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    // C only adds optional fields, which `process` fills in.
    const call = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      at: this.now(),
    } as C;
    this.log.push(call);
    this.inFlight++;
    const leave = this.enter(call);
    try {
      const reply = await this.respond(req, call, url);
      if (reply === undefined) {
        req.socket.destroy();
        return;
      }
      call.status = reply.status;
      this.send(res, reply);
    } finally {
      leave();
      this.inFlight--;
      if (this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  /** The answer to a call, or undefined when a drop fault closes its connection instead. */
  private async respond(req: IncomingMessage, call: C, url: URL): Promise<Reply | undefined> {
    let raw: string;
    try {
      raw = await readBody(req, this.maxBodyBytes);
    } catch {
      return this.tooLargeReply();
    }
    const fault = this.faults.take(call.method, call.path);
    if (fault) call.fault = fault.kind;
    if (fault?.kind === 'status') return this.injectedReply(fault, call);
    if (fault?.kind === 'drop' && !fault.applyFirst) return undefined;
    if (fault?.kind === 'delay' && !fault.applyFirst) await this.sleep(fault.ms);
    const reply = await this.process(call, raw, url);
    if (fault?.kind === 'delay' && fault.applyFirst) await this.sleep(fault.ms);
    return fault?.kind === 'drop' ? undefined : reply;
  }

  private injectedReply(f: S, call: C): Reply {
    const headers = { ...(f.headers ?? {}) };
    if (f.body === undefined) {
      const reply = this.faultReply(f, call);
      return { ...reply, headers: { ...(reply.headers ?? {}), ...headers } };
    }
    return typeof f.body === 'string'
      ? { status: f.status, text: f.body, headers }
      : { status: f.status, body: f.body, headers };
  }

  private send(res: ServerResponse, reply: Reply): void {
    write(res, this.finish(reply));
  }

  /** A delay fault's wait; stop() ends it early. */
  private async sleep(ms: number): Promise<void> {
    const woken = new AbortController();
    const wake = () => woken.abort();
    this.sleeps.add(wake);
    try {
      await sleep(ms, undefined, { signal: woken.signal });
    } catch {
      // woken by stop()
    } finally {
      this.sleeps.delete(wake);
    }
  }
}

function write(res: ServerResponse, reply: Reply): void {
  if (res.destroyed || res.writableEnded) return;
  const headers: Record<string, string> = { ...(reply.headers ?? {}) };
  let payload = '';
  if (reply.text !== undefined) {
    payload = reply.text;
    headers['Content-Type'] ??= 'text/plain; charset=utf-8';
  } else if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    headers['Content-Type'] ??= 'application/json; charset=utf-8';
  }
  headers['Content-Length'] = String(Buffer.byteLength(payload));
  res.writeHead(reply.status, headers);
  res.end(payload);
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        reject(new Error('body too large'));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A header's single value (node gives arrays for repeated headers). */
export function header(call: FakeCall, name: string): string | undefined {
  const v = call.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

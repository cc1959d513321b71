import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Which calls a fault applies to, or which calls to count. */
export interface CallMatch {
  readonly method?: string;
  /** A string matches any path containing it ('/Contacts'); a RegExp is tested. */
  readonly path?: string | RegExp;
}

/** A failure injected into the next matching calls. */
export type Fault =
  /** Answer `status` without processing the call (the fake shapes the body like its vendor). */
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly body?: unknown;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** Wait `ms` before answering; with applyFirst the call is processed before the wait. */
  | { readonly kind: 'delay'; readonly ms: number; readonly applyFirst?: boolean }
  /** Close the connection without answering; with applyFirst the call is processed first. */
  | { readonly kind: 'drop'; readonly applyFirst?: boolean };

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

interface FaultEntry {
  readonly fault: Fault;
  remaining: number;
  readonly match: CallMatch | undefined;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;

export function matches(m: CallMatch | undefined, method: string, path: string): boolean {
  if (m === undefined) return true;
  if (m.method !== undefined && m.method.toUpperCase() !== method) return false;
  if (m.path === undefined) return true;
  return typeof m.path === 'string' ? path.includes(m.path) : m.path.test(path);
}

/**
 * What every vendor fake shares: a node:http server on 127.0.0.1, a log of calls, fault injection
 * (fail, delay or drop the next matching calls) and `settled()` for tests that must wait until a
 * delayed write has landed. A vendor fake implements `process` (auth, limits, routing) and
 * `faultReply` (its error bodies).
 */
export abstract class FakeServer {
  /** Base URL to give the connector. */
  public url = '';
  protected server: Server | undefined;
  private readonly log: FakeCall[] = [];
  private readonly faults: FaultEntry[] = [];
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly sleeps = new Set<() => void>();

  /** Answers one call; `call` may be annotated (elements). */
  protected abstract process(call: FakeCall, raw: string): Promise<Reply> | Reply;

  /** The answer for an injected status fault, shaped like the vendor's. */
  protected abstract faultReply(fault: Extract<Fault, { kind: 'status' }>, call: FakeCall): Reply;

  /** Called when a call arrives; the returned function when its answer has left (or it was dropped). */
  protected enter(_call: FakeCall): () => void {
    return () => undefined;
  }

  /** The clock used for call timestamps. */
  protected clock(): number {
    return Date.now();
  }

  /** Listens on `port` (0: any free port). */
  public async listen(port = 0, host = '127.0.0.1'): Promise<this> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end(`fake crashed: ${String(err)}`);
        }
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
  public calls(match?: CallMatch): readonly FakeCall[] {
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
  public inject(fault: Fault, opts: { times?: number; match?: CallMatch } = {}): void {
    this.faults.push({ fault, remaining: opts.times ?? 1, match: opts.match });
  }

  /** The next `times` matching calls answer `status` without being processed. */
  public failNext(
    times: number,
    status = 500,
    opts: { match?: CallMatch; body?: unknown; headers?: Record<string, string> } = {},
  ): void {
    this.inject(
      {
        kind: 'status',
        status,
        ...(opts.body === undefined ? {} : { body: opts.body }),
        ...(opts.headers ? { headers: opts.headers } : {}),
      },
      { times, match: opts.match },
    );
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
    this.faults.length = 0;
  }

  /** Forgets calls and faults. */
  protected resetCalls(): void {
    this.log.length = 0;
    this.faults.length = 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const call: FakeCall = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      at: this.clock(),
    };
    this.log.push(call);
    this.inFlight++;
    const leave = this.enter(call);
    try {
      let raw: string;
      try {
        raw = await readBody(req);
      } catch {
        call.status = 413;
        send(res, { status: 413, text: 'Request Entity Too Large' });
        return;
      }
      const fault = this.takeFault(method, url.pathname);
      if (fault) call.fault = fault.kind;
      if (fault?.kind === 'status') {
        const reply = this.faultReply(fault, call);
        call.status = reply.status;
        send(res, reply);
        return;
      }
      if (fault?.kind === 'drop' && !fault.applyFirst) {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'delay' && !fault.applyFirst) await this.sleep(fault.ms);
      const reply = await this.process(call, raw);
      if (fault?.kind === 'delay' && fault.applyFirst) await this.sleep(fault.ms);
      if (fault?.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      call.status = reply.status;
      send(res, reply);
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

  private takeFault(method: string, path: string): Fault | undefined {
    const i = this.faults.findIndex((f) => f.remaining > 0 && matches(f.match, method, path));
    const entry = this.faults[i];
    if (entry === undefined) return undefined;
    entry.remaining--;
    if (entry.remaining <= 0) this.faults.splice(i, 1);
    return entry.fault;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleeps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleeps.add(wake);
    });
  }
}

function send(res: ServerResponse, reply: Reply): void {
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

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
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

/** A sliding-window counter as vendors keep one: calls admitted in the last `intervalMs`. */
export class SlidingWindow {
  private readonly stamps: number[] = [];
  public readonly limit: number;
  public readonly intervalMs: number;

  public constructor(limit: number, intervalMs: number) {
    this.limit = limit;
    this.intervalMs = intervalMs;
  }

  public used(now: number): number {
    while (this.stamps.length > 0 && (this.stamps[0] ?? 0) <= now - this.intervalMs) this.stamps.shift();
    return this.stamps.length;
  }

  public remaining(now: number): number {
    return Math.max(0, this.limit - this.used(now));
  }

  /** Milliseconds until one more call fits. */
  public retryAfterMs(now: number): number {
    this.used(now);
    const oldest = this.stamps[this.stamps.length - this.limit] ?? now;
    return Math.max(0, oldest + this.intervalMs - now);
  }

  public full(now: number): boolean {
    return this.used(now) >= this.limit;
  }

  public record(now: number): void {
    this.stamps.push(now);
  }

  public clear(): void {
    this.stamps.length = 0;
  }
}

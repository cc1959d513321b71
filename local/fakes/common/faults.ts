/** Which calls a fault applies to, or which calls to count. */
export interface CallMatch {
  readonly method?: string;
  /** A string matches any path containing it ('/Contacts'); a RegExp is tested. */
  readonly path?: string | RegExp;
}

/** Answer `status` without processing the call (the fake shapes the body like its vendor). */
export interface StatusFault {
  readonly kind: 'status';
  readonly status: number;
  /** Sent instead of the vendor-shaped body; a string is sent as text. */
  readonly body?: unknown;
  /** Sent over the fake's own headers. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A failure injected into the next matching calls. `S` lets a fake add optional details to its
 * status faults (HubSpot: the rate-limit policy a 429 names).
 */
export type Fault<S extends StatusFault = StatusFault> =
  | S
  /** Wait `ms` before answering; with applyFirst the call is processed before the wait. */
  | { readonly kind: 'delay'; readonly ms: number; readonly applyFirst?: boolean }
  /** Close the connection without answering; with applyFirst the call is processed first. */
  | { readonly kind: 'drop'; readonly applyFirst?: boolean };

export function matches(m: CallMatch | undefined, method: string, path: string): boolean {
  if (m === undefined) return true;
  if (m.method !== undefined && m.method.toUpperCase() !== method) return false;
  if (m.path === undefined) return true;
  return typeof m.path === 'string' ? path.includes(m.path) : m.path.test(path);
}

interface Entry<F> {
  readonly fault: F;
  remaining: number;
  readonly match: CallMatch | undefined;
}

/** Injected faults, oldest first: a call takes the first one that matches it. */
export class FaultQueue<F> {
  private readonly entries: Entry<F>[] = [];

  public add(fault: F, times: number, match: CallMatch | undefined): void {
    this.entries.push({ fault, remaining: times, match });
  }

  public take(method: string, path: string): F | undefined {
    const i = this.entries.findIndex((e) => e.remaining > 0 && matches(e.match, method, path));
    const entry = this.entries[i];
    if (entry === undefined) return undefined;
    entry.remaining--;
    if (entry.remaining <= 0) this.entries.splice(i, 1);
    return entry.fault;
  }

  /** Calls the queued faults will still answer. */
  public pending(): number {
    return this.entries.reduce((n, e) => n + e.remaining, 0);
  }

  public clear(): void {
    this.entries.length = 0;
  }
}

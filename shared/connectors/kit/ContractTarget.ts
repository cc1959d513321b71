import type { ConnectionCredentials } from '../ConnectionCredentials.ts';

/** Failures a fake can be asked to give, so the contract kit can check how a connector takes them. */
export interface ContractFaults {
  /** The next write gets the target's rate-limit answer (429, or its own equivalent) asking to wait `seconds`. */
  rateLimitNext(seconds: number): void;
  /** The next write gets a server error (`status`, 5xx) and is not applied. */
  serverErrorNext(status: number): void;
}

/**
 * A target the contract kit writes to: a fake started for the run (with fault injection), or a
 * sandbox account given by URL (without: its properties that need faults are skipped).
 */
export interface ContractTarget {
  /** What the connector is built with: the fake's URL as `baseUrl`, its token… */
  readonly creds: ConnectionCredentials;
  readonly faults?: ContractFaults;
  /** Empties the target between properties (a fake); a sandbox keeps its records. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

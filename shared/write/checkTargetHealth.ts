import { needsReconnect } from '../connectors/authErrors.ts';
import type { AuthOutage, LinkStore } from '../links/LinkStore.ts';

/** How long an auth outage pauses the sync after its last refusal, by default (TargetHealthOptions.authPauseMs). */
export const AUTH_PAUSE_MS = 1_800_000;

/** When a sync's target counts as down. */
export interface TargetHealthOptions {
  /** Window of writer reports considered. @default 120000 */
  readonly windowMs?: number;
  /** Fewer calls than this in the window say nothing (the queue may simply be idle). @default 5 */
  readonly minCalls?: number;
  /** Share of calls that failed outright (every record retryable) at which the sync pauses. @default 0.5 */
  readonly maxFailureRate?: number;
  /** Queue lag (enqueue → first delivery) at which the sync pauses: the writers are far behind. @default 900000 */
  readonly maxLagMs?: number;
  /**
   * How long an auth outage pauses the sync after its last refusal. Refused records come back
   * every AUTH_BACKOFF_SECONDS (15 min) and refresh it, so the pause holds while they cycle; once
   * they are parked, the next run after this probes the target again (half-open). @default 1800000
   */
  readonly authPauseMs?: number;
}

export interface TargetHealth {
  /** Stop enqueuing new pages: what is queued would only wait, fail or be dead-lettered. */
  readonly paused: boolean;
  /** Why, for the run record (`message`) and logs. */
  readonly reason: string | undefined;
  readonly calls: number;
  readonly failedCalls: number;
  readonly lagMs: number | undefined;
  /** The open auth outage: the target refuses the connection's credentials (see AuthOutage). */
  readonly auth?: AuthOutage;
}

/**
 * Whether the extract should stop enqueuing for now, from what the writers reported in the link
 * table (see TargetHealthStore): the share of target calls that failed outright, and how long
 * messages waited in the queue. A paused run leaves its bookmark where it is, so nothing is lost;
 * the queued records keep retrying with backoff, and once they succeed the failure rate falls and
 * the next run goes on. Without calls in the window there is no evidence, so the sync runs: that
 * is the half-open probe after a long outage.
 *
 * An auth outage pauses the sync first, whatever the counts: the target refused the connection's
 * credentials even after a writer re-read the secret, so every record would be refused the same
 * way until an operator updates the secret. It lasts until a call goes through again (a writer
 * clears it) or, with no refusal for `authPauseMs`, until the next run probes the target.
 */
export async function checkTargetHealth(
  links: LinkStore,
  sync: string,
  now: number,
  opts: TargetHealthOptions = {},
): Promise<TargetHealth> {
  const windowMs = opts.windowMs ?? 120_000;
  const minCalls = opts.minCalls ?? 5;
  const maxFailureRate = opts.maxFailureRate ?? 0.5;
  const maxLagMs = opts.maxLagMs ?? 900_000;
  const authPauseMs = opts.authPauseMs ?? AUTH_PAUSE_MS;
  const stats = await links.health.read(sync, now, windowMs);
  const base = {
    calls: stats.calls,
    failedCalls: stats.failedCalls,
    lagMs: stats.lagMs,
    ...(stats.auth ? { auth: stats.auth } : {}),
  };
  if (stats.auth && now - stats.auth.lastAt < authPauseMs) {
    return { ...base, paused: true, reason: authPauseReason(stats.auth) };
  }
  if (stats.calls >= minCalls && stats.failedCalls / stats.calls >= maxFailureRate) {
    const pct = Math.round((100 * stats.failedCalls) / stats.calls);
    return {
      ...base,
      paused: true,
      reason: `target failing: ${stats.failedCalls} of ${stats.calls} calls (${pct}%) failed in the last ${Math.round(windowMs / 1000)} s`,
    };
  }
  if (stats.lagMs !== undefined && stats.lagMs >= maxLagMs) {
    return {
      ...base,
      paused: true,
      reason: `queue behind: messages waited ${Math.round(stats.lagMs / 1000)} s before their first delivery`,
    };
  }
  return { ...base, paused: false, reason: undefined };
}

/**
 * The run record's (and so `writeback status`'s) line for an auth outage:
 * `credentials refused by <connection> (<code>) since <ISO time>: update the secret <name>`, or
 * for a rejected refresh token (which only a new authorisation cures): `…: run \`writeback
 * connect <connection>\``.
 */
export function authPauseReason(auth: AuthOutage): string {
  const todo = needsReconnect(auth)
    ? `run \`writeback connect ${auth.connection}\``
    : `update the secret ${auth.secret}`;
  return `credentials refused by ${auth.connection} (${auth.code}) since ${new Date(auth.since).toISOString()}: ${todo}`;
}

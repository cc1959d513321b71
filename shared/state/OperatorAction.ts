/**
 * What an operator did by hand that changes a sync's state or its records, as the audit trail
 * keeps it: in the state table's history beside the runs (`writeback audit`, `writeback runs`)
 * and in the warehouse's `writeback.operator_actions`.
 */
export const OPERATOR_ACTION_KINDS = [
  'enable',
  'disable',
  'reset',
  'run',
  'dlq-redrive',
  'replay',
  'dlq-purge',
  'repair',
] as const;
export type OperatorActionKind = (typeof OPERATOR_ACTION_KINDS)[number];

/** Who acted: the AWS principal the CLI's credentials resolve to, or the local user. */
export interface Actor {
  /** `aws`: `id` is the caller's principal ARN (sts:GetCallerIdentity); `local`: the OS user on the local stack. */
  readonly kind: 'aws' | 'local';
  readonly id: string;
  /** The AWS account of the principal. */
  readonly account?: string;
  /** The OS user the CLI ran as, and the machine it ran on. */
  readonly osUser: string;
  readonly host: string;
}

/**
 * One operator action. Recorded `started` before it changes anything and again with its outcome,
 * so that an action cut short (a crash, Ctrl-C) still shows who began it.
 */
export interface OperatorAction {
  readonly id: string;
  readonly sync: string;
  readonly action: OperatorActionKind;
  /** When it started (ISO). */
  readonly at: string;
  readonly finishedAt?: string;
  readonly outcome: 'started' | 'ok' | 'failed';
  readonly actor: Actor;
  /** Against what: `local stack (pid 4242)`, `stack Writeback (eu-west-1)`. */
  readonly where: string;
  /** How many records it touched (sent, deleted), when it acts on records. */
  readonly records?: number;
  /** The first keys it touched (at most 100). */
  readonly keys?: readonly string[];
  /** The run or repair id its messages carry. */
  readonly runId?: string;
  /** What it did, for people: `bookmark … → start`, `--all, from the current source rows`. */
  readonly detail?: string;
  /** Why it failed. */
  readonly message?: string;
}

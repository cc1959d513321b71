import { AWS_SERVICES, type AwsCall } from './awsCall.ts';
import type { MissingStatement } from './evaluateCall.ts';
import { statementsOf } from './evaluateCall.ts';
import type { CallRecord } from './IamGateway.ts';
import type { NamedPolicy } from './policiesFromTemplate.ts';

/** A principal as the report needs it: its role and the policies it was evaluated against. */
export interface ReportPrincipal {
  readonly roleArn: string;
  readonly identityPolicies: readonly NamedPolicy[];
}

export interface DeniedCall {
  readonly action: string;
  readonly resource: string;
  readonly operation: string;
  readonly reason: string;
  readonly missingStatement?: MissingStatement;
  /** How many times the same call was denied. */
  readonly count: number;
}

/** A granted `action on resource` pair (as the policy writes them) and what the calls made of it. */
export interface Grant {
  readonly policyName: string;
  readonly sid?: string;
  /** 1-based position of the statement in its policy. */
  readonly index: number;
  readonly action: string;
  readonly resource: string;
  /** The concrete actions calls used it for (one for a plain action, more under a wildcard). */
  readonly usedAs: readonly string[];
}

/** Calls the role allowed, by action and resource. */
export interface AllowedCall {
  readonly action: string;
  readonly resource: string;
  readonly count: number;
}

export interface PrincipalReport {
  readonly name: string;
  readonly roleArn: string;
  readonly calls: number;
  readonly allowed: readonly AllowedCall[];
  readonly denied: readonly DeniedCall[];
  /** Granted and never used by any call of the rehearsal. */
  readonly unused: readonly Grant[];
  /**
   * Grants on services whose calls do not pass through the rehearsal's gateway (logs, xray, ec2:
   * Lambda's runtime and VPC plumbing make them, not the function's code), so neither used nor unused.
   */
  readonly notObserved: readonly Grant[];
  /** Wildcard grants that calls used, with the actions they used them for: candidates to narrow. */
  readonly wildcards: readonly Grant[];
}

export interface LeastPrivilegeReport {
  readonly principals: readonly PrincipalReport[];
  readonly deniedCalls: number;
  readonly unusedGrants: number;
}

/**
 * Per principal: the calls its role denied (with the statement that is missing) and the grants
 * (each action pattern × resource pattern of each Allow statement) that no call used. A grant is
 * used by a call that the statement allowed (the evaluator names the statements that allowed a
 * call) whose action and resource match the pair's patterns.
 */
export function leastPrivilegeReport(
  principals:
    | ReadonlyMap<string, ReportPrincipal>
    | Readonly<Record<string, ReportPrincipal>>
    | readonly (ReportPrincipal & { readonly name: string })[],
  records: readonly CallRecord[],
): LeastPrivilegeReport {
  // By name: a map or record keyed by name, or the gateway's principals (`[...principals.values()]`).
  const entries: [string, ReportPrincipal][] = Array.isArray(principals)
    ? principals.map((p): [string, ReportPrincipal] => [p.name, p])
    : principals instanceof Map
      ? [...principals.entries()]
      : Object.entries(principals);
  // Calls with an access key no principal has fail the rehearsal too: reported under their name.
  if (records.some((r) => r.principal === 'unknown'))
    entries.push(['unknown', { roleArn: '(unknown access key)', identityPolicies: [] }]);
  const reports = entries.map(([name, principal]) => {
    const mine = records.filter((r) => r.principal === name);
    const denied = new Map<string, DeniedCall>();
    const allowed = new Map<string, AllowedCall>();
    for (const r of mine) {
      if (r.decision.allowed) {
        const key = `${r.call.action} ${r.call.resource}`;
        const seen = allowed.get(key);
        allowed.set(key, { action: r.call.action, resource: r.call.resource, count: (seen?.count ?? 0) + 1 });
        continue;
      }
      const key = JSON.stringify([
        r.call.action,
        r.call.resource,
        r.decision.missingStatement ?? null,
        r.decision.reason,
      ]);
      const seen = denied.get(key);
      denied.set(
        key,
        seen
          ? { ...seen, count: seen.count + 1 }
          : {
              action: r.call.action,
              resource: r.call.resource,
              operation: r.call.operation,
              reason: r.decision.reason,
              ...(r.decision.missingStatement ? { missingStatement: r.decision.missingStatement } : {}),
              count: 1,
            },
      );
    }
    const unused: Grant[] = [];
    const notObserved: Grant[] = [];
    const wildcards: Grant[] = [];
    for (const policy of principal.identityPolicies) {
      statementsOf(policy.policy).forEach((statement, i) => {
        if (statement.Effect !== 'Allow' || !statement.Action) return;
        const index = i + 1;
        const usedBy = mine.filter(
          (r) =>
            r.decision.allowed &&
            r.decision.matchedStatements.some(
              (m) => m.policyType === 'identity' && m.policyName === policy.name && m.index === index,
            ),
        );
        for (const action of list(statement.Action)) {
          for (const resource of list(statement.Resource ?? '*')) {
            const calls = usedBy.filter(
              (r) => matchesAction(action, r.call) && matchesPattern(resource, r.call.resource, false),
            );
            const grant: Grant = {
              policyName: policy.name,
              ...(statement.Sid ? { sid: statement.Sid } : {}),
              index,
              action,
              resource,
              usedAs: [...new Set(calls.map((r) => r.call.action))].sort(),
            };
            if (!observable(action)) notObserved.push(grant);
            else if (grant.usedAs.length === 0) unused.push(grant);
            else if (/[*?]/.test(action)) wildcards.push(grant);
          }
        }
      });
    }
    return {
      name,
      roleArn: principal.roleArn,
      calls: mine.length,
      allowed: [...allowed.values()],
      denied: [...denied.values()],
      unused,
      notObserved,
      wildcards,
    };
  });
  return {
    principals: reports,
    deniedCalls: reports.reduce((n, p) => n + p.denied.reduce((m, d) => m + d.count, 0), 0),
    unusedGrants: reports.reduce((n, p) => n + p.unused.length, 0),
  };
}

/** The report as the rehearsal prints it. */
export function formatLeastPrivilegeReport(report: LeastPrivilegeReport): string {
  const lines: string[] = [
    `IAM check: ${report.principals.length} principal(s), ${report.deniedCalls} denied call(s), ${report.unusedGrants} grant(s) never used`,
  ];
  for (const p of report.principals) {
    const status = p.denied.length > 0 ? 'DENIED' : 'ok';
    lines.push('', `${p.name} [${status}] ${p.calls} call(s), role ${p.roleArn}`);
    // Claim-check objects have a key each: an action on many resources is one line.
    for (const [action, calls] of Map.groupBy(p.allowed, (a) => a.action)) {
      const count = calls.reduce((n, a) => n + a.count, 0);
      const on =
        calls.length <= 3
          ? calls.map((a) => a.resource).join(', ')
          : `${calls.length} resources, e.g. ${calls[0]!.resource}`;
      lines.push(`  allowed: ${action} on ${on} (${count} call(s))`);
    }
    for (const d of p.denied) {
      lines.push(
        `  denied: ${d.action} on ${d.resource} (${d.operation}${d.count > 1 ? `, ${d.count} times` : ''})`,
      );
      lines.push(`    ${d.reason}`);
      if (d.missingStatement) lines.push(`    missing statement: ${JSON.stringify(d.missingStatement)}`);
    }
    for (const g of p.unused) lines.push(`  unused: ${g.action} on ${g.resource} (${where(g)})`);
    for (const g of p.wildcards) {
      lines.push(
        `  wider than used: ${g.action} on ${g.resource} (${where(g)}) used only as ${g.usedAs.join(', ')}`,
      );
    }
    if (p.notObserved.length > 0) {
      const actions = [...new Set(p.notObserved.map((g) => g.action))].join(', ');
      lines.push(`  not observed offline (the runtime's own calls): ${actions}`);
    }
  }
  return lines.join('\n');
}

function where(g: Grant): string {
  return `${g.policyName} ${g.sid ? `Sid ${g.sid}` : `statement #${g.index}`}`;
}

function list(value: string | readonly string[]): readonly string[] {
  return typeof value === 'string' ? [value] : value;
}

/** Whether the gateway sees calls of this action's service at all. */
function observable(actionPattern: string): boolean {
  const service = actionPattern.split(':')[0]!.toLowerCase();
  return service === '*' || (AWS_SERVICES as readonly string[]).includes(service);
}

/** IAM action patterns are case-insensitive; `*` and `?` are wildcards. */
function matchesAction(pattern: string, call: AwsCall): boolean {
  return matchesPattern(pattern, call.action, true);
}

function matchesPattern(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

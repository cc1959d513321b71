/**
 * A small evaluator of IAM policy statements from a synthesized template, enough to ask "may this
 * principal make this request?" of the stack's identity and queue policies: Allow and Deny,
 * Action/Resource/Principal with wildcards, and the condition operators the stack uses (String*,
 * Arn*, Bool, Null, with ForAllValues/ForAnyValue and the rules for missing keys). It follows the
 * IAM documentation's evaluation logic for requests within one account: an explicit Deny in any
 * policy wins, else an Allow in the identity or the resource policy allows, else it is denied.
 * It is a test aid, not a complete IAM implementation: anything it does not know throws.
 */

export type PolicyStatement = {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
};

/** A request as IAM sees it; `context` holds the condition keys (absent: not in the request). */
export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  /** The calling principal's ARN (roles: the role's ARN, as `aws:PrincipalArn` has it). */
  readonly principal: string;
  readonly context?: Readonly<Record<string, string | readonly string[] | undefined>>;
}

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

/** Template values as plain text: pseudo parameters fixed, `Fn::GetAtt [X, Arn]` → `arn:test:::X`. */
export const PSEUDO = { partition: 'aws', region: 'eu-west-1', account: '123456789012' } as const;

export function arnOf(logicalId: string): string {
  return `arn:test:::${logicalId}`;
}

export function resolveValue(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if ('Ref' in v) {
    const ref = v.Ref as string;
    if (ref === 'AWS::Partition') return PSEUDO.partition;
    if (ref === 'AWS::Region') return PSEUDO.region;
    if (ref === 'AWS::AccountId') return PSEUDO.account;
    if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
    return `ref:${ref}`;
  }
  if ('Fn::GetAtt' in v) {
    const [id, attr] = v['Fn::GetAtt'] as [string, string];
    if (attr !== 'Arn') throw new Error(`policyEvaluator: Fn::GetAtt ${id}.${attr} is not handled`);
    return arnOf(id);
  }
  if ('Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(resolveValue).join(sep);
  }
  throw new Error(`policyEvaluator: cannot resolve ${JSON.stringify(value)}`);
}

/** The statement with every value resolved to text. */
export function resolveStatement(s: PolicyStatement): PolicyStatement {
  const texts = (x: unknown): unknown =>
    x === undefined ? undefined : Array.isArray(x) ? x.map(resolveValue) : resolveValue(x);
  const principal =
    s.Principal === undefined || typeof s.Principal === 'string'
      ? s.Principal
      : Object.fromEntries(Object.entries(s.Principal as object).map(([k, v]) => [k, texts(v)]));
  const condition = s.Condition
    ? Object.fromEntries(
        Object.entries(s.Condition).map(([op, keys]) => [
          op,
          Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, texts(v)])),
        ]),
      )
    : undefined;
  return {
    ...s,
    ...(s.Resource !== undefined ? { Resource: texts(s.Resource) } : {}),
    ...(principal !== undefined ? { Principal: principal } : {}),
    ...(condition ? { Condition: condition } : {}),
  };
}

const list = (x: unknown): string[] => (x === undefined ? [] : Array.isArray(x) ? x : [x as string]);

function glob(pattern: string, value: string, caseInsensitive = false): boolean {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, caseInsensitive ? 'si' : 's').test(value);
}

const OPERATORS: Record<string, { match: (policy: string, request: string) => boolean; negated: boolean }> = {
  StringEquals: { match: (p, r) => p === r, negated: false },
  StringNotEquals: { match: (p, r) => p === r, negated: true },
  StringLike: { match: (p, r) => glob(p, r), negated: false },
  StringNotLike: { match: (p, r) => glob(p, r), negated: true },
  ArnEquals: { match: (p, r) => glob(p, r), negated: false },
  ArnLike: { match: (p, r) => glob(p, r), negated: false },
  ArnNotEquals: { match: (p, r) => glob(p, r), negated: true },
  ArnNotLike: { match: (p, r) => glob(p, r), negated: true },
  Bool: { match: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: false },
};

function conditionHolds(
  operator: string,
  key: string,
  policyValues: string[],
  context: IamRequest['context'] = {},
): boolean {
  const raw = context[key];
  const present = raw !== undefined && !(Array.isArray(raw) && raw.length === 0);
  const values = raw === undefined ? [] : list(raw);
  if (operator === 'Null') {
    const wantsAbsent = policyValues.map((v) => v.toLowerCase());
    if (wantsAbsent.length !== 1) throw new Error('policyEvaluator: Null takes one value');
    return wantsAbsent[0] === 'true' ? !present : present;
  }
  const set = operator.startsWith('ForAllValues:')
    ? 'all'
    : operator.startsWith('ForAnyValue:')
      ? 'any'
      : 'single';
  let base = operator.replace(/^For(AllValues|AnyValue):/, '');
  const ifExists = base.endsWith('IfExists');
  if (ifExists) base = base.slice(0, -'IfExists'.length);
  const op = OPERATORS[base];
  if (!op) throw new Error(`policyEvaluator: condition operator ${operator} is not handled`);
  // A request value satisfies the operator when it matches a policy value (or, negated, none).
  const satisfies = (value: string): boolean => {
    const matched = policyValues.some((p) => op.match(p, value));
    return op.negated ? !matched : matched;
  };
  if (set === 'all') return values.every(satisfies);
  if (set === 'any') return present && values.some(satisfies);
  if (!present) return ifExists || op.negated;
  return values.some(satisfies);
}

function principalMatches(principal: unknown, request: IamRequest): boolean {
  if (principal === undefined) return true;
  if (principal === '*') return true;
  const aws = list((principal as { AWS?: unknown }).AWS);
  if (aws.includes('*')) return true;
  return aws.some((p) => p === request.principal || p === request.principal.replace(/:[^:]*$/, ':root'));
}

function statementMatches(s: PolicyStatement, request: IamRequest): boolean {
  const actionHit = (patterns: string[]) => patterns.some((p) => glob(p, request.action, true));
  if (s.Action !== undefined && !actionHit(list(s.Action))) return false;
  if (s.NotAction !== undefined && actionHit(list(s.NotAction))) return false;
  if (s.Resource !== undefined && !list(s.Resource).some((p) => glob(p, request.resource))) return false;
  if (!principalMatches(s.Principal, request)) return false;
  for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
    for (const [key, values] of Object.entries(keys)) {
      if (!conditionHolds(operator, key, list(values), request.context)) return false;
    }
  }
  return true;
}

/**
 * The decision for a request within one account, given the caller's identity statements and the
 * resource's policy statements (both as in the template; they are resolved here).
 */
export function evaluate(
  request: IamRequest,
  identity: readonly PolicyStatement[],
  resourcePolicy: readonly PolicyStatement[] = [],
): Decision {
  const all = [...identity.map(resolveStatement), ...resourcePolicy.map(resolveStatement)];
  const hits = all.filter((s) => statementMatches(s, request));
  if (hits.some((s) => s.Effect === 'Deny')) return 'explicit-deny';
  return hits.some((s) => s.Effect === 'Allow') ? 'allow' : 'implicit-deny';
}

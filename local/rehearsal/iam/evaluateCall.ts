import {
  getDenialReasons,
  getGrantReasons,
  type RequestAnalysis,
  runSimulation,
} from '@cloud-copilot/iam-simulate';
import type { AwsCall, ConditionValue } from './awsCall.ts';
import type { NamedPolicy, PolicyDocument, PolicyStatement } from './policiesFromTemplate.ts';

/** Who makes a call: a role, in a session named for the function (as Lambda names it). */
export interface CallPrincipal {
  /** `arn:aws:iam::<account>:role/<path/><name>` */
  readonly roleArn: string;
  readonly sessionName: string;
  readonly identityPolicies: readonly NamedPolicy[];
  /** The role's tags, as `aws:PrincipalTag/<key>` (queue policies tell functions apart by them). */
  readonly tags?: Readonly<Record<string, string>>;
}

/** A statement that decided a call, as `<policy> <Sid or #index>`. */
export interface MatchedStatement {
  readonly policyType: 'identity' | 'resource';
  /** The identity policy's name; absent for a resource policy (a resource has one). */
  readonly policyName?: string;
  readonly sid?: string;
  /** 1-based position in the policy's Statement list. */
  readonly index: number;
  readonly effect: 'Allow' | 'Deny';
  /** The statement as written. */
  readonly statement?: PolicyStatement;
}

export interface MissingStatement {
  readonly Effect: 'Allow';
  readonly Action: string;
  readonly Resource: string;
  readonly Condition?: Record<string, Record<string, ConditionValue>>;
}

export interface CallDecision {
  readonly allowed: boolean;
  readonly result: 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';
  /** AWS's message for a denied call; for an allowed one, which statement allowed it. */
  readonly reason: string;
  /** The statements that allowed the call, or those that denied it explicitly. */
  readonly matchedStatements: readonly MatchedStatement[];
  /** For an implicit deny: the statement that, added to the role, would allow the call. */
  readonly missingStatement?: MissingStatement;
  /** The simulator refused the input (an invalid policy or ARN): the call is treated as denied. */
  readonly simulationError?: string;
}

export interface EvaluateOptions {
  /** aws:CurrentTime; the real clock by default. */
  readonly now?: Date;
}

/** `arn:aws:iam::<account>:role/<path>/<name>` → account and name. */
export function parseRoleArn(roleArn: string): { account: string; roleName: string } {
  const m = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  if (!m) throw new TypeError(`not a role ARN: ${roleArn}`);
  return { account: m[1]!, roleName: m[2]! };
}

/** The ARN AWS names the caller by in its messages: the role's session. */
export function sessionArn(principal: Pick<CallPrincipal, 'roleArn' | 'sessionName'>): string {
  const { account, roleName } = parseRoleArn(principal.roleArn);
  return `arn:aws:sts::${account}:assumed-role/${roleName}/${principal.sessionName}`;
}

/**
 * Evaluates one call as AWS would for a role in the resources' own account: allowed when an
 * identity policy or the resource policy allows it and no statement of either denies it. STS's
 * GetCallerIdentity needs no permission and is always allowed.
 */
export async function evaluateCall(
  call: AwsCall,
  principal: CallPrincipal,
  resourcePolicy?: PolicyDocument,
  opts: EvaluateOptions = {},
): Promise<CallDecision> {
  const caller = sessionArn(principal);
  // S3's messages quote the resource ARN; the other services' do not.
  const shown = call.service === 's3' ? `"${call.resource}"` : call.resource;
  if (call.action === 'sts:GetCallerIdentity') {
    return {
      allowed: true,
      result: 'Allowed',
      reason: 'sts:GetCallerIdentity needs no permission',
      matchedStatements: [],
    };
  }
  const { account } = parseRoleArn(principal.roleArn);
  const response = await runSimulation(
    {
      request: {
        principal: caller,
        action: call.action,
        resource: { resource: call.resource, accountId: account },
        contextVariables: {
          'aws:PrincipalArn': principal.roleArn,
          'aws:PrincipalAccount': account,
          'aws:PrincipalType': 'AssumedRole',
          'aws:CurrentTime': (opts.now ?? new Date()).toISOString(),
          ...Object.fromEntries(
            Object.entries(principal.tags ?? {}).map(([k, v]) => [`aws:PrincipalTag/${k}`, v]),
          ),
          ...call.conditions,
        },
      },
      identityPolicies: principal.identityPolicies.map((p) => ({ name: p.name, policy: p.policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy } : {}),
    },
    {},
  );
  if (response.resultType === 'error') {
    const message = `the IAM simulator refused the call: ${response.errors.message} ${JSON.stringify(response.errors)}`;
    return {
      allowed: false,
      result: 'ImplicitlyDenied',
      reason: message,
      matchedStatements: [],
      simulationError: message,
    };
  }
  // A resource with a wildcard (ListQueues' `*`) may give one result per pattern, or none at all.
  const analysis: RequestAnalysis | undefined =
    response.resultType === 'single' ? response.result.analysis : response.results[0]?.analysis;
  const result = analysis ? response.overallResult : 'ImplicitlyDenied';
  const statementOf = (type: 'identity' | 'resource', name: string | undefined, index: number) => {
    const document =
      type === 'resource' ? resourcePolicy : principal.identityPolicies.find((p) => p.name === name)?.policy;
    return document ? statementsOf(document)[index - 1] : undefined;
  };
  if (result === 'Allowed') {
    const matched = getGrantReasons(analysis!)
      .filter((g) => g.policyType === 'identity' || g.policyType === 'resource')
      .map((g) => matchedStatement(g.policyType as 'identity' | 'resource', g, 'Allow', statementOf));
    return {
      allowed: true,
      result,
      reason: `allowed by ${matched.map(describeStatement).join(', ') || 'the policies'}`,
      matchedStatements: matched,
    };
  }
  const denials = analysis ? getDenialReasons(analysis) : [];
  if (result === 'ExplicitlyDenied') {
    const explicit = denials.filter((d) => d.denialType === 'Explicit');
    const matched = explicit
      .filter((d) => d.policyType === 'identity' || d.policyType === 'resource')
      .map((d) => matchedStatement(d.policyType as 'identity' | 'resource', d, 'Deny', statementOf));
    const where = explicit.some((d) => d.policyType === 'resource')
      ? 'a resource-based policy'
      : 'an identity-based policy';
    return {
      allowed: false,
      result,
      reason: `User: ${caller} is not authorized to perform: ${call.action} on resource: ${shown} with an explicit deny in ${where}`,
      matchedStatements: matched,
    };
  }
  return {
    allowed: false,
    result,
    reason: `User: ${caller} is not authorized to perform: ${call.action} on resource: ${shown} because no identity-based policy allows the ${call.action} action`,
    matchedStatements: [],
    missingStatement: missingStatementFor(call),
  };
}

/** The narrowest statement that grants the call: its action, its resource, the keys it touched. */
export function missingStatementFor(call: AwsCall): MissingStatement {
  const statement = { Effect: 'Allow' as const, Action: call.action, Resource: call.resource };
  const keys = call.conditions['dynamodb:LeadingKeys'];
  if (Array.isArray(keys) && keys.length > 0) {
    return {
      ...statement,
      Condition: {
        'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': keys },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    };
  }
  const prefix = call.conditions['s3:prefix'];
  if (typeof prefix === 'string')
    return { ...statement, Condition: { StringEquals: { 's3:prefix': prefix } } };
  return statement;
}

export function statementsOf(document: PolicyDocument): readonly PolicyStatement[] {
  return Array.isArray(document.Statement) ? document.Statement : [document.Statement as PolicyStatement];
}

export function describeStatement(s: MatchedStatement): string {
  const where = s.policyType === 'resource' ? 'resource policy' : s.policyName;
  return `${where} ${s.sid ? `Sid ${s.sid}` : `statement #${s.index}`}`;
}

function matchedStatement(
  policyType: 'identity' | 'resource',
  reason: { policyIdentifier?: string; statementId?: string | undefined; statementIndex: number },
  effect: 'Allow' | 'Deny',
  statementOf: (
    type: 'identity' | 'resource',
    name: string | undefined,
    index: number,
  ) => PolicyStatement | undefined,
): MatchedStatement {
  const statement = statementOf(policyType, reason.policyIdentifier, reason.statementIndex);
  return {
    policyType,
    ...(policyType === 'identity' && reason.policyIdentifier ? { policyName: reason.policyIdentifier } : {}),
    ...(reason.statementId ? { sid: reason.statementId } : {}),
    index: reason.statementIndex,
    effect,
    ...(statement ? { statement } : {}),
  };
}

import { AWS_MANAGED_POLICIES } from './managedPolicies.ts';

/** A policy attached to an identity, named for the report (`<logical id of the policy>`). */
export interface NamedPolicy {
  readonly name: string;
  readonly policy: PolicyDocument;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: PolicyStatement | readonly PolicyStatement[];
}

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Principal?: unknown;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface RolePolicies {
  readonly logicalId: string;
  readonly roleName: string;
  readonly roleArn: string;
  readonly identityPolicies: readonly NamedPolicy[];
  /** The role's tags: `aws:PrincipalTag/<key>` of its sessions (queue policies test them). */
  readonly tags: Readonly<Record<string, string>>;
  /** AWS managed policies the role names that the rehearsal has no document for. */
  readonly unknownManagedPolicies: readonly string[];
}

export interface TemplatePolicies {
  /** By the role's logical id. */
  readonly roles: Readonly<Record<string, RolePolicies>>;
  /** Function logical id → the logical id of its role (its `Role` property). */
  readonly functionRoles: Readonly<Record<string, string>>;
  /** Schedule logical id → the role EventBridge Scheduler assumes to call the target. */
  readonly scheduleRoles: Readonly<Record<string, { readonly role: string; readonly targetArn: string }>>;
  /** Queue ARN → the queue's policy (AWS::SQS::QueuePolicy). */
  readonly queuePolicies: Readonly<Record<string, PolicyDocument>>;
  /** Bucket name → the bucket's policy (AWS::S3::BucketPolicy). */
  readonly bucketPolicies: Readonly<Record<string, PolicyDocument>>;
  /** Function ARN → its resource-based policy, one statement per AWS::Lambda::Permission. */
  readonly functionPolicies: Readonly<Record<string, PolicyDocument>>;
}

/** What a resolved template gives: resources with intrinsics evaluated, and each one's physical ids. */
export interface ResolvedResources {
  readonly resources: Readonly<
    Record<string, { readonly Type: string; readonly Properties?: Readonly<Record<string, unknown>> }>
  >;
  readonly physical: ReadonlyMap<
    string,
    { readonly ref: string; readonly attributes: Readonly<Record<string, string>> }
  >;
}

/** A resolved template still holding something the check cannot read (a Role that names no role). */
export class TemplatePoliciesError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'TemplatePoliciesError';
  }
}

/**
 * The identity policies of every role of a resolved template (its inline Policies, each
 * AWS::IAM::Policy whose Roles name it, its AWS managed policies), the resource policies of its
 * queues and buckets, and which role each function and schedule uses.
 */
export function policiesFromTemplate(stack: ResolvedResources): TemplatePolicies {
  const entries = Object.entries(stack.resources);
  const ofType = (type: string) => entries.filter(([, r]) => r.Type === type);
  const ref = (id: string) => stack.physical.get(id)?.ref;
  const arn = (id: string) => stack.physical.get(id)?.attributes.Arn;

  const roleByName = new Map<string, string>();
  const roleByArn = new Map<string, string>();
  const policies = new Map<string, NamedPolicy[]>();
  const unknownManaged = new Map<string, string[]>();
  for (const [id, role] of ofType('AWS::IAM::Role')) {
    const name = ref(id);
    const roleArn = arn(id);
    if (!name || !roleArn) throw new TemplatePoliciesError(`role ${id} has no physical name or ARN`);
    roleByName.set(name, id);
    roleByArn.set(roleArn, id);
    const own: NamedPolicy[] = [];
    for (const inline of (role.Properties?.Policies ?? []) as {
      PolicyName: string;
      PolicyDocument: PolicyDocument;
    }[]) {
      own.push({ name: `${id}/${inline.PolicyName}`, policy: inline.PolicyDocument });
    }
    const unknown: string[] = [];
    for (const managed of (role.Properties?.ManagedPolicyArns ?? []) as string[]) {
      const document = AWS_MANAGED_POLICIES[managed] as PolicyDocument | undefined;
      if (document) own.push({ name: managed.slice(managed.lastIndexOf('/') + 1), policy: document });
      else unknown.push(managed);
    }
    policies.set(id, own);
    unknownManaged.set(id, unknown);
  }
  const roleIdOf = (value: unknown): string | undefined =>
    typeof value === 'string' ? (roleByName.get(value) ?? roleByArn.get(value)) : undefined;

  for (const [id, policy] of ofType('AWS::IAM::Policy')) {
    const document = policy.Properties?.PolicyDocument as PolicyDocument;
    for (const roleRef of (policy.Properties?.Roles ?? []) as unknown[]) {
      const roleId = roleIdOf(roleRef);
      if (!roleId)
        throw new TemplatePoliciesError(`policy ${id} names a role not in the template: ${String(roleRef)}`);
      policies.get(roleId)!.push({ name: id, policy: document });
    }
  }

  const roles: Record<string, RolePolicies> = {};
  for (const [id, role] of ofType('AWS::IAM::Role')) {
    roles[id] = {
      logicalId: id,
      roleName: ref(id)!,
      roleArn: arn(id)!,
      identityPolicies: policies.get(id)!,
      tags: Object.fromEntries(
        ((role.Properties?.Tags ?? []) as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value]),
      ),
      unknownManagedPolicies: unknownManaged.get(id)!,
    };
  }

  const functionRoles: Record<string, string> = {};
  for (const [id, fn] of ofType('AWS::Lambda::Function')) {
    const roleId = roleIdOf(fn.Properties?.Role);
    if (!roleId)
      throw new TemplatePoliciesError(
        `function ${id} has a Role not in the template: ${String(fn.Properties?.Role)}`,
      );
    functionRoles[id] = roleId;
  }

  const scheduleRoles: Record<string, { role: string; targetArn: string }> = {};
  for (const [id, schedule] of ofType('AWS::Scheduler::Schedule')) {
    const target = schedule.Properties?.Target as { Arn?: string; RoleArn?: string } | undefined;
    const roleId = roleIdOf(target?.RoleArn);
    if (!roleId) throw new TemplatePoliciesError(`schedule ${id} has a target RoleArn not in the template`);
    scheduleRoles[id] = { role: roleId, targetArn: target?.Arn ?? '' };
  }

  const queueArnByUrl = new Map<string, string>();
  for (const [id] of ofType('AWS::SQS::Queue')) {
    const url = ref(id);
    const queueArn = arn(id);
    if (url && queueArn) queueArnByUrl.set(url, queueArn);
  }
  const queuePolicies: Record<string, PolicyDocument> = {};
  for (const [id, qp] of ofType('AWS::SQS::QueuePolicy')) {
    for (const url of (qp.Properties?.Queues ?? []) as string[]) {
      const queueArn = queueArnByUrl.get(url);
      if (!queueArn)
        throw new TemplatePoliciesError(`queue policy ${id} names a queue not in the template: ${url}`);
      // One queue has one policy on AWS: the last QueuePolicy applied wins; CDK makes one per queue.
      queuePolicies[queueArn] = qp.Properties?.PolicyDocument as PolicyDocument;
    }
  }
  const bucketPolicies: Record<string, PolicyDocument> = {};
  for (const [, bp] of ofType('AWS::S3::BucketPolicy')) {
    bucketPolicies[String(bp.Properties?.Bucket)] = bp.Properties?.PolicyDocument as PolicyDocument;
  }
  return {
    roles,
    functionRoles,
    scheduleRoles,
    queuePolicies,
    bucketPolicies,
    functionPolicies: functionPoliciesOf(stack, ofType('AWS::Lambda::Permission')),
  };
}

/**
 * The statements Lambda adds to a function's policy for each AWS::Lambda::Permission (AddPermission):
 * the extract function may invoke itself (self-continuation) and a parent's extract its child's
 * through these, not through identity policies.
 */
function functionPoliciesOf(
  stack: ResolvedResources,
  permissions: [string, { readonly Properties?: Readonly<Record<string, unknown>> }][],
): Record<string, PolicyDocument> {
  const functionArnOf = new Map<string, string>();
  for (const [id, r] of Object.entries(stack.resources)) {
    const physical = stack.physical.get(id);
    if (r.Type !== 'AWS::Lambda::Function' || !physical?.attributes.Arn) continue;
    functionArnOf.set(physical.ref, physical.attributes.Arn);
    functionArnOf.set(physical.attributes.Arn, physical.attributes.Arn);
  }
  const statements = new Map<string, PolicyStatement[]>();
  for (const [id, permission] of permissions) {
    const p = permission.Properties ?? {};
    const name = String(p.FunctionName);
    const functionArn = functionArnOf.get(name) ?? (name.startsWith('arn:') ? name : undefined);
    if (!functionArn)
      throw new TemplatePoliciesError(`permission ${id} names a function not in the template: ${name}`);
    const principal = String(p.Principal);
    const condition: Record<string, Record<string, unknown>> = {};
    if (typeof p.SourceArn === 'string') condition.ArnLike = { 'AWS:SourceArn': p.SourceArn };
    if (typeof p.SourceAccount === 'string')
      condition.StringEquals = { 'AWS:SourceAccount': p.SourceAccount };
    const statement: PolicyStatement = {
      Sid: id,
      Effect: 'Allow',
      Principal:
        principal === '*'
          ? '*'
          : principal.endsWith('.amazonaws.com')
            ? { Service: principal }
            : { AWS: principal },
      Action: String(p.Action),
      Resource: functionArn,
      ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
    };
    statements.set(functionArn, [...(statements.get(functionArn) ?? []), statement]);
  }
  return Object.fromEntries(
    [...statements].map(([fn, list]) => [fn, { Version: '2012-10-17', Statement: list }]),
  );
}

/** The resource policy that applies to a call's resource, if the template declares one. */
export function resourcePolicyFor(policies: TemplatePolicies, resource: string): PolicyDocument | undefined {
  if (resource.startsWith('arn:aws:sqs:')) return policies.queuePolicies[resource];
  if (resource.startsWith('arn:aws:lambda:')) {
    // A qualified ARN (function:name:alias) is looked up under its function.
    return (
      policies.functionPolicies[resource] ??
      policies.functionPolicies[resource.split(':').slice(0, 7).join(':')]
    );
  }
  const s3 = /^arn:aws:s3:::([^/]+)/.exec(resource);
  return s3 ? policies.bucketPolicies[s3[1]!] : undefined;
}

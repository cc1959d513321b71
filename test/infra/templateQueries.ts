import type { Template } from 'aws-cdk-lib/assertions';

/** Small readers over a synthesized template, so assertions can talk about "the write role". */

type Resource = { Type: string; Properties: Record<string, unknown>; [k: string]: unknown };
export type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Sid?: string };

/** The logical id of the one resource of `type` whose id starts with `prefix` (construct path). */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1)
    throw new Error(`expected one ${type} starting with ${prefix}, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}

export function resource(template: Template, type: string, prefix: string): Resource {
  return template.findResources(type)[logicalId(template, type, prefix)] as Resource;
}

/** Every statement of the inline policies attached to the role whose id starts with `rolePrefix`. */
export function roleStatements(template: Template, rolePrefix: string): Statement[] {
  const roleId = logicalId(template, 'AWS::IAM::Role', rolePrefix);
  const out: Statement[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy')) as Resource[]) {
    const roles = policy.Properties.Roles as unknown[];
    if (!roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId }))) continue;
    const doc = policy.Properties.PolicyDocument as { Statement: Statement[] };
    out.push(...doc.Statement);
  }
  return out;
}

/** The actions a role may perform on the resource referenced by logical id (by Ref or GetAtt). */
export function actionsOn(statements: Statement[], targetLogicalId: string): string[] {
  const actions = new Set<string>();
  for (const s of statements) {
    if (s.Effect !== 'Allow') continue;
    const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
    const hits = resources.some((r) => {
      const text = JSON.stringify(r);
      // Exact reference to the resource itself, not something derived like `<arn>/index/*`.
      return (
        text === JSON.stringify({ 'Fn::GetAtt': [targetLogicalId, 'Arn'] }) ||
        text === JSON.stringify({ Ref: targetLogicalId })
      );
    });
    if (hits) for (const a of [s.Action].flat()) actions.add(a);
  }
  return [...actions].sort();
}

/** Every action of every statement, whatever the resource. */
export function allActions(statements: Statement[]): string[] {
  return [...new Set(statements.flatMap((s) => [s.Action].flat()))].sort();
}

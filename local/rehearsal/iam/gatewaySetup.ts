import type { TableKeys } from './awsCall.ts';
import type { GatewayPrincipal } from './IamGateway.ts';
import type { ResolvedResources, TemplatePolicies } from './policiesFromTemplate.ts';

/**
 * The key schema of each table of a resolved template, by physical table name: what
 * describeAwsCall needs to read dynamodb:LeadingKeys (the table's and each index's partition key).
 */
export function tableKeysFromTemplate(stack: ResolvedResources): Record<string, TableKeys> {
  const tables: Record<string, TableKeys> = {};
  for (const [id, r] of Object.entries(stack.resources)) {
    if (r.Type !== 'AWS::DynamoDB::Table') continue;
    const name = stack.physical.get(id)?.ref;
    const hash = (schema: unknown) =>
      (schema as { AttributeName: string; KeyType: string }[] | undefined)?.find((k) => k.KeyType === 'HASH')
        ?.AttributeName;
    const partitionKey = hash(r.Properties?.KeySchema);
    if (!name || !partitionKey) continue;
    const indexes: Record<string, string> = {};
    for (const list of ['GlobalSecondaryIndexes', 'LocalSecondaryIndexes']) {
      for (const index of (r.Properties?.[list] ?? []) as { IndexName: string; KeySchema: unknown }[]) {
        const key = hash(index.KeySchema);
        if (key) indexes[index.IndexName] = key;
      }
    }
    tables[name] = { partitionKey, indexes };
  }
  return tables;
}

/**
 * The gateway's principals: every role a function or a schedule of the template runs as, under
 * the access key id the rehearsal gives that role (one key per role, as Lambda gives each function
 * its role's session). Named after what uses the role (function and schedule logical ids); the
 * session is named after the function's physical name, as Lambda names its sessions.
 */
export function templatePrincipals(
  stack: ResolvedResources,
  policies: TemplatePolicies,
  accessKeyOfRole: (roleArn: string) => string,
): Map<string, GatewayPrincipal> {
  const users: [string, string][] = [
    ...Object.entries(policies.functionRoles),
    ...Object.entries(policies.scheduleRoles).map(([id, s]): [string, string] => [id, s.role]),
  ];
  const principals = new Map<string, GatewayPrincipal>();
  for (const [user, roleId] of users) {
    const role = policies.roles[roleId]!;
    const key = accessKeyOfRole(role.roleArn);
    const seen = principals.get(key);
    if (seen) {
      principals.set(key, { ...seen, name: `${seen.name}+${user}` });
      continue;
    }
    principals.set(key, {
      name: user,
      roleArn: role.roleArn,
      identityPolicies: role.identityPolicies,
      sessionName: stack.physical.get(user)?.ref ?? user,
      tags: role.tags,
    });
  }
  return principals;
}

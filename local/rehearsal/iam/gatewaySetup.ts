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
 * The gateway's principals: each function of the template as its role, under the access key id
 * the rehearsal gives that function. Named by the function's logical id; the session is named
 * after the function's physical name, as Lambda names its sessions.
 */
export function functionPrincipals(
  stack: ResolvedResources,
  policies: TemplatePolicies,
  accessKeyOf: (functionLogicalId: string) => string,
): Map<string, GatewayPrincipal> {
  const principals = new Map<string, GatewayPrincipal>();
  for (const [fn, roleId] of Object.entries(policies.functionRoles)) {
    const role = policies.roles[roleId]!;
    principals.set(accessKeyOf(fn), {
      name: fn,
      roleArn: role.roleArn,
      identityPolicies: role.identityPolicies,
      sessionName: stack.physical.get(fn)?.ref ?? fn,
      tags: role.tags,
    });
  }
  return principals;
}

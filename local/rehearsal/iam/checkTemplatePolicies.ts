import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { NamedPolicy, PolicyDocument, TemplatePolicies } from './policiesFromTemplate.ts';

export interface PolicyProblem {
  /** `role <logical id>`, `queue <arn>`, `bucket <name>`, `function <arn>`. */
  readonly where: string;
  readonly message: string;
}

/**
 * Checks every policy of a template once, before any call: a policy the evaluator cannot read
 * (a malformed condition block, a bad ARN) would otherwise deny every call of its role with the
 * same validation error, and an AWS managed policy the rehearsal has no document for would be
 * evaluated as granting nothing. The rehearsal fails on any problem, naming where it is.
 */
export async function checkTemplatePolicies(policies: TemplatePolicies): Promise<PolicyProblem[]> {
  const problems: PolicyProblem[] = [];
  for (const [id, role] of Object.entries(policies.roles)) {
    for (const arn of role.unknownManagedPolicies) {
      problems.push({
        where: `role ${id}`,
        message: `AWS managed policy ${arn} has no document in managedPolicies.ts`,
      });
    }
    const errors = await validationErrors(role.identityPolicies, undefined);
    if (errors) problems.push({ where: `role ${id}`, message: errors });
  }
  const resourcePolicies: [string, PolicyDocument][] = [
    ...Object.entries(policies.queuePolicies).map(([arn, p]): [string, PolicyDocument] => [
      `queue ${arn}`,
      p,
    ]),
    ...Object.entries(policies.bucketPolicies).map(([name, p]): [string, PolicyDocument] => [
      `bucket ${name}`,
      p,
    ]),
    ...Object.entries(policies.functionPolicies).map(([arn, p]): [string, PolicyDocument] => [
      `function ${arn}`,
      p,
    ]),
  ];
  for (const [where, policy] of resourcePolicies) {
    const errors = await validationErrors([], policy);
    if (errors) problems.push({ where, message: errors });
  }
  return problems;
}

/** The simulator validates every policy it is given, whatever the request: a neutral one is enough. */
async function validationErrors(
  identityPolicies: readonly NamedPolicy[],
  resourcePolicy: PolicyDocument | undefined,
): Promise<string | undefined> {
  const response = await runSimulation(
    {
      request: {
        principal: 'arn:aws:iam::123456789012:role/PolicyCheck',
        action: 'sqs:ListQueues',
        resource: { resource: '*', accountId: '123456789012' },
        contextVariables: {},
      },
      identityPolicies: identityPolicies.map((p) => ({ name: p.name, policy: p.policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy } : {}),
    },
    {},
  );
  if (response.resultType !== 'error') return undefined;
  const { message: _message, ...byPolicy } = response.errors;
  return JSON.stringify(byPolicy);
}

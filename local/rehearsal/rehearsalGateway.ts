import type { AwsService } from './iam/awsCall.ts';
import {
  checkTemplatePolicies,
  type GatewayPrincipal,
  IamGateway,
  leastPrivilegeReport,
  policiesFromTemplate,
  resourcePolicyFor,
  tableKeysFromTemplate,
  templatePrincipals,
} from './iam/index.ts';
import { OPERATOR_ACCESS_KEY_ID } from './operator.ts';
import type { ResolvedStack } from './resolveTemplate.ts';
import type { RoleCredentials } from './roleCredentials.ts';

/** What the IAM check found: calls the roles would be denied, and grants no call used. */
export interface IamFindings {
  readonly calls: number;
  readonly principals: number;
  /** `role: action on resource — reason; missing statement {…}`, one line per denied call. */
  readonly denied: readonly string[];
  /** `role: action on resource (policy, statement)`, granted but used by no call of the rehearsal. */
  readonly unused: readonly string[];
}

export interface RehearsalGateway {
  readonly gateway: IamGateway;
  /**
   * Where the gateway forwards each service: read at each request, so an endpoint that can only
   * start after the gateway (CloudFormation, whose outputs name queue URLs on the gateway) is added later.
   */
  readonly upstreams: Partial<Record<AwsService, string>>;
  /** Policies of the template the evaluator cannot read: each would deny every call of its role. */
  readonly templateProblems: readonly string[];
  findings(): IamFindings;
}

/**
 * The rehearsal's IAM gateway, set up from the template: one principal per role (the functions'
 * and the schedules'), each known by the access key its role's credentials carry, with the role's
 * policies; the queue, bucket and function policies as resource policies; the operator allowed
 * everything (the CLI runs with a user's own rights, not the stack's).
 */
export async function startGateway(
  stack: ResolvedStack,
  roles: RoleCredentials,
  upstreams: Partial<Record<AwsService, string>>,
  secretArn: (id: string) => string,
): Promise<RehearsalGateway> {
  const policies = policiesFromTemplate(stack);
  const templateProblems = (await checkTemplatePolicies(policies)).map(
    (p) => `IAM: ${p.where}: ${p.message}`,
  );
  const principals: Map<string, GatewayPrincipal> = templatePrincipals(
    stack,
    policies,
    (roleArn) => roles.forRole(roleArn).accessKeyId,
  );
  const gateway = new IamGateway({
    upstreams,
    principals,
    operatorAccessKeyId: OPERATOR_ACCESS_KEY_ID,
    resourcePolicy: (arn) => resourcePolicyFor(policies, arn),
    describe: {
      account: stack.account,
      tables: tableKeysFromTemplate(stack),
      secretArn,
      // The SQS emulator's own account in the ARNs it answers with.
      emulatorAccounts: ['000000000000'],
    },
  });
  await gateway.start();
  return {
    gateway,
    upstreams,
    templateProblems,
    findings: () => {
      const report = leastPrivilegeReport([...principals.values()], gateway.calls());
      const denied: string[] = [];
      const unused: string[] = [];
      for (const p of report.principals) {
        for (const d of p.denied) {
          denied.push(
            `${p.name}: ${d.action} on ${d.resource} (${d.count}×): ${d.reason}${d.missingStatement ? `; missing statement ${JSON.stringify(d.missingStatement)}` : ''}`,
          );
        }
        for (const g of p.unused) {
          unused.push(
            `${p.name}: ${g.action} on ${g.resource} (${g.policyName} ${g.sid ? `Sid ${g.sid}` : `statement #${g.index}`})`,
          );
        }
      }
      return { calls: gateway.calls().length, principals: report.principals.length, denied, unused };
    },
  };
}
